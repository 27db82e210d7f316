{
  "targets": [
    {
      "target_name": "mediamesh_libav",
      "sources": ["decoder.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "<!@(pkg-config --cflags libavformat libavcodec libavfilter libavutil)"],
      "libraries": ["<!@(pkg-config --libs libavformat libavcodec libavfilter libavutil)"]
    }
  ]
}
