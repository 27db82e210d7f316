// In-process decoding with the system's libav (the libraries Debian's ffmpeg is built on): the same demuxer,
// decoder and filter graph the ffmpeg command runs for the reader (`-ss T -i file -vf FILTERS -f rawvideo`), minus
// the process, the raw encoder's copy and the pipe. Frames go straight from the filter graph into buffers the
// caller owns. Work runs on libuv's thread pool, one read at a time per decoder, so the event loop stays free
// and several decoders (segments of one video) decode on several cores.
#include <napi.h>

#include <cstdarg>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace {

// libav's own error lines, kept per thread instead of printed: a failure's message carries the last one.
thread_local std::string lastLogLine;

void keepLogLine(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > AV_LOG_ERROR) return;
  char line[512];
  int prefix = 1;
  av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &prefix);
  std::string s = line;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (!s.empty()) lastLogLine = s;
}

std::string avError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  std::string msg = buf;
  if (!lastLogLine.empty()) msg += " (" + lastLogLine + ")";
  return msg;
}

struct Options {
  std::string file;
  std::string filters;
  std::string pixelFormat;
  int threads = 0;      // 0: libav's choice (as ffmpeg's "auto")
  int filterThreads = 0;
  std::vector<std::pair<std::string, std::string>> codecOptions;
  std::vector<int> planeOrder;  // empty: planes in libav's order
};

struct Target {
  uint8_t* data;
  size_t length;
};

// What one read() asks for besides its buffers.
struct ReadRequest {
  double seekSec = -1;    // seek first (frames before this time are dropped); < 0: go on from where it stands
  double seekToSec = -1;  // where the seek lands: the keyframe at or before this time (default seekSec)
  double endSec = -1;     // the range ends at a keyframe after this time: drain the decoder there, decode no further
  bool hasKeep = false;
  std::vector<uint8_t> keep;  // per frame from the seek point: 0 drops it before the filters
};

class Decoder : public Napi::ObjectWrap<Decoder> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Decoder",
                                      {InstanceMethod("read", &Decoder::Read),
                                       InstanceMethod("close", &Decoder::Close)});
    exports.Set("Decoder", ctor);
    return exports;
  }

  explicit Decoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Decoder>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "Decoder(options) needs an options object").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    opts_.file = o.Get("file").ToString().Utf8Value();
    opts_.filters = o.Get("filters").ToString().Utf8Value();
    opts_.pixelFormat = o.Get("pixelFormat").ToString().Utf8Value();
    if (o.Has("threads") && o.Get("threads").IsNumber()) opts_.threads = o.Get("threads").As<Napi::Number>().Int32Value();
    if (o.Has("filterThreads") && o.Get("filterThreads").IsNumber())
      opts_.filterThreads = o.Get("filterThreads").As<Napi::Number>().Int32Value();
    if (o.Has("codecOptions") && o.Get("codecOptions").IsObject()) {
      Napi::Object co = o.Get("codecOptions").As<Napi::Object>();
      Napi::Array keys = co.GetPropertyNames();
      for (uint32_t i = 0; i < keys.Length(); i++) {
        std::string k = keys.Get(i).ToString().Utf8Value();
        opts_.codecOptions.emplace_back(k, co.Get(k).ToString().Utf8Value());
      }
    }
    if (o.Has("planeOrder") && o.Get("planeOrder").IsArray()) {
      Napi::Array a = o.Get("planeOrder").As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) opts_.planeOrder.push_back(a.Get(i).ToNumber().Int32Value());
    }
  }

  ~Decoder() override { Release(); }

  // Decodes up to buffers.length frames, one into each buffer; resolves with how many (fewer only at the end).
  Napi::Value Read(const Napi::CallbackInfo& info);

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy_)
      closeAfterRead_ = true;
    else
      Release();
    return info.Env().Undefined();
  }

  // Runs on a pool thread. Returns an error message, empty on success.
  std::string Fill(const std::vector<Target>& targets, ReadRequest& req, int& filled) {
    filled = 0;
    lastLogLine.clear();
    if (closed_) return "the decoder is closed";
    if (!fmt_) {
      std::string err = Open();
      if (!err.empty()) return err;
    }
    if (req.seekSec >= 0) {
      std::string err = Seek(req.seekSec, req.seekToSec);
      if (!err.empty()) return err;
    }
    if (req.hasKeep) keep_ = std::move(req.keep);
    if (req.endSec >= 0) {
      int64_t origin = fmt_->start_time != AV_NOPTS_VALUE ? fmt_->start_time : 0;
      endAt_ = av_rescale_q(static_cast<int64_t>(req.endSec * AV_TIME_BASE) + origin, AV_TIME_BASE_Q,
                            fmt_->streams[stream_]->time_base);
    }
    while (filled < static_cast<int>(targets.size())) {
      if (graph_) {
        int ret = av_buffersink_get_frame(sink_, out_);
        if (ret >= 0) {
          std::string err = CopyOut(targets[filled]);
          av_frame_unref(out_);
          if (!err.empty()) return err;
          filled++;
          continue;
        }
        if (ret == AVERROR_EOF) return "";
        if (ret != AVERROR(EAGAIN)) return "filter graph: " + avError(ret);
      }
      if (graphFlushed_) return "";  // nothing more will come
      std::string err = Feed();
      if (!err.empty()) return err;
    }
    return "";
  }

 private:
  std::string Open() {
    int ret = avformat_open_input(&fmt_, opts_.file.c_str(), nullptr, nullptr);
    if (ret < 0) return opts_.file + ": " + avError(ret);
    if ((ret = avformat_find_stream_info(fmt_, nullptr)) < 0) return opts_.file + ": " + avError(ret);
    // As ffmpeg -map 0:v:0: the first video stream.
    for (unsigned i = 0; i < fmt_->nb_streams && stream_ < 0; i++)
      if (fmt_->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) stream_ = static_cast<int>(i);
    if (stream_ < 0) return opts_.file + ": no video stream to decode";
    AVStream* st = fmt_->streams[stream_];
    const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec) return opts_.file + ": no decoder for " + avcodec_get_name(st->codecpar->codec_id);
    for (unsigned i = 0; i < fmt_->nb_streams; i++)
      if (static_cast<int>(i) != stream_) fmt_->streams[i]->discard = AVDISCARD_ALL;
    dec_ = avcodec_alloc_context3(codec);
    if (!dec_) return "out of memory";
    if ((ret = avcodec_parameters_to_context(dec_, st->codecpar)) < 0) return avError(ret);
    dec_->pkt_timebase = st->time_base;
    AVDictionary* dict = nullptr;
    av_dict_set(&dict, "threads", opts_.threads > 0 ? std::to_string(opts_.threads).c_str() : "auto", 0);
    for (auto& kv : opts_.codecOptions) av_dict_set(&dict, kv.first.c_str(), kv.second.c_str(), 0);
    ret = avcodec_open2(dec_, codec, &dict);
    AVDictionaryEntry* unused = av_dict_get(dict, "", nullptr, AV_DICT_IGNORE_SUFFIX);
    std::string unusedName = unused ? unused->key : "";
    av_dict_free(&dict);
    if (ret < 0) return "opening the decoder: " + avError(ret);
    if (!unusedName.empty()) return "unknown decoder option " + unusedName;
    pkt_ = av_packet_alloc();
    frame_ = av_frame_alloc();
    out_ = av_frame_alloc();
    if (!pkt_ || !frame_ || !out_) return "out of memory";
    return "";
  }

  // As ffmpeg's -ss before -i: to the keyframe at or before `seekToSec` (default `seekSec`), dropping the frames
  // before `seekSec` as they come. A caller that knows a frame is a keyframe seeks to just after its time, so the
  // seek lands on it rather than on the keyframe before. The decoder and the graph start afresh; frames are
  // counted (for the keep mask) from here.
  std::string Seek(double seekSec, double seekToSec) {
    int64_t origin = fmt_->start_time != AV_NOPTS_VALUE ? fmt_->start_time : 0;
    int64_t ts = static_cast<int64_t>(seekSec * AV_TIME_BASE) + origin;
    int64_t to = seekToSec >= seekSec ? static_cast<int64_t>(seekToSec * AV_TIME_BASE) + origin : ts;
    int ret = avformat_seek_file(fmt_, -1, INT64_MIN, to, to, 0);
    if (ret < 0) return opts_.file + ": seeking to " + std::to_string(seekSec) + " s: " + avError(ret);
    avcodec_flush_buffers(dec_);
    avfilter_graph_free(&graph_);
    src_ = sink_ = nullptr;
    keepFrom_ = av_rescale_q(ts, AV_TIME_BASE_Q, fmt_->streams[stream_]->time_base);
    inputDone_ = graphFlushed_ = false;
    counted_ = 0;
    keep_.clear();
    endAt_ = AV_NOPTS_VALUE;
    return "";
  }


  std::string OpenGraph(const AVFrame* f) {
    AVStream* st = fmt_->streams[stream_];
    graph_ = avfilter_graph_alloc();
    if (!graph_) return "out of memory";
    graph_->nb_threads = opts_.filterThreads;
    // ffmpeg's default for scalers the graph inserts itself.
    graph_->scale_sws_opts = av_strdup("flags=bicubic");
    AVRational sar = f->sample_aspect_ratio.num ? f->sample_aspect_ratio : AVRational{0, 1};
    std::string args = "video_size=" + std::to_string(f->width) + "x" + std::to_string(f->height) +
                       ":pix_fmt=" + std::to_string(f->format) + ":time_base=" + std::to_string(st->time_base.num) +
                       "/" + std::to_string(st->time_base.den) + ":pixel_aspect=" + std::to_string(sar.num) + "/" +
                       std::to_string(sar.den);
    int ret = avfilter_graph_create_filter(&src_, avfilter_get_by_name("buffer"), "in", args.c_str(), nullptr, graph_);
    if (ret < 0) return "filter source: " + avError(ret);
    ret = avfilter_graph_create_filter(&sink_, avfilter_get_by_name("buffersink"), "out", nullptr, nullptr, graph_);
    if (ret < 0) return "filter sink: " + avError(ret);
    enum AVPixelFormat pix = av_get_pix_fmt(opts_.pixelFormat.c_str());
    if (pix == AV_PIX_FMT_NONE) return "unknown pixel format " + opts_.pixelFormat;
    enum AVPixelFormat pixs[] = {pix, AV_PIX_FMT_NONE};
    if ((ret = av_opt_set_int_list(sink_, "pix_fmts", pixs, AV_PIX_FMT_NONE, AV_OPT_SEARCH_CHILDREN)) < 0)
      return "filter sink: " + avError(ret);
    AVFilterInOut* outputs = avfilter_inout_alloc();
    AVFilterInOut* inputs = avfilter_inout_alloc();
    outputs->name = av_strdup("in");
    outputs->filter_ctx = src_;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = sink_;
    std::string chain = opts_.filters.empty() ? "null" : opts_.filters;
    ret = avfilter_graph_parse_ptr(graph_, chain.c_str(), &inputs, &outputs, nullptr);
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    if (ret < 0) return "filters \"" + chain + "\": " + avError(ret);
    if ((ret = avfilter_graph_config(graph_, nullptr)) < 0) return "filters \"" + chain + "\": " + avError(ret);
    return "";
  }

  // One step forward: a decoded frame into the graph, or a packet into the decoder, or the end of both.
  std::string Feed() {
    int ret = avcodec_receive_frame(dec_, frame_);
    if (ret >= 0) {
      int64_t ts = frame_->best_effort_timestamp;
      if (keepFrom_ != AV_NOPTS_VALUE && ts != AV_NOPTS_VALUE && ts < keepFrom_) {
        av_frame_unref(frame_);
        return "";
      }
      size_t n = counted_++;
      if (n < keep_.size() && !keep_[n]) {
        av_frame_unref(frame_);
        return "";
      }
      frame_->pts = ts;
      if (!graph_) {
        std::string err = OpenGraph(frame_);
        if (!err.empty()) return err;
      }
      ret = av_buffersrc_add_frame_flags(src_, frame_, 0);
      av_frame_unref(frame_);
      if (ret < 0) return "filter graph: " + avError(ret);
      return "";
    }
    if (ret == AVERROR_EOF) {
      if (!graph_) {
        graphFlushed_ = true;  // no frame at all
        return "";
      }
      ret = av_buffersrc_add_frame_flags(src_, nullptr, 0);
      graphFlushed_ = true;
      return ret < 0 ? "filter graph: " + avError(ret) : "";
    }
    if (ret != AVERROR(EAGAIN)) return "decoding: " + avError(ret);
    if (inputDone_) return "decoding: the decoder wants input after its end";
    ret = av_read_frame(fmt_, pkt_);
    if (ret == AVERROR_EOF) {
      inputDone_ = true;
      avcodec_send_packet(dec_, nullptr);
      return "";
    }
    if (ret < 0) return opts_.file + ": reading: " + avError(ret);
    if (pkt_->stream_index == stream_ && endAt_ != AV_NOPTS_VALUE && (pkt_->flags & AV_PKT_FLAG_KEY) &&
        pkt_->pts != AV_NOPTS_VALUE && pkt_->pts >= endAt_) {
      // The next range's keyframe (GOPs are closed): every frame of this range is in the packets before it, so
      // drain the decoder instead of decoding frames another decoder will.
      inputDone_ = true;
      avcodec_send_packet(dec_, nullptr);
      av_packet_unref(pkt_);
      return "";
    }
    if (pkt_->stream_index == stream_) {
      // As ffmpeg does by default, a damaged packet is skipped (its frames go missing, which the caller counts).
      avcodec_send_packet(dec_, pkt_);
    }
    av_packet_unref(pkt_);
    return "";
  }

  std::string CopyOut(const Target& t) {
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(out_->format));
    int planes = av_pix_fmt_count_planes(static_cast<AVPixelFormat>(out_->format));
    size_t total = static_cast<size_t>(av_image_get_buffer_size(static_cast<AVPixelFormat>(out_->format),
                                                                out_->width, out_->height, 1));
    if (total != t.length)
      return "a frame of " + std::to_string(total) + " bytes (" + std::to_string(out_->width) + "x" +
             std::to_string(out_->height) + " " + desc->name + ") does not fit a buffer of " +
             std::to_string(t.length);
    bool reorder = static_cast<int>(opts_.planeOrder.size()) == planes;
    size_t planeBytes = reorder ? total / planes : 0;
    size_t offset = 0;
    for (int p = 0; p < planes; p++) {
      int h = out_->height;
      if (p == 1 || p == 2) h = AV_CEIL_RSHIFT(out_->height, desc->log2_chroma_h);
      int lineBytes = av_image_get_linesize(static_cast<AVPixelFormat>(out_->format), out_->width, p);
      uint8_t* dst = t.data + (reorder ? opts_.planeOrder[p] * planeBytes : offset);
      av_image_copy_plane(dst, lineBytes, out_->data[p], out_->linesize[p], lineBytes, h);
      offset += static_cast<size_t>(lineBytes) * h;
    }
    return "";
  }

  void Release() {
    closed_ = true;
    avfilter_graph_free(&graph_);
    avcodec_free_context(&dec_);
    avformat_close_input(&fmt_);
    av_packet_free(&pkt_);
    av_frame_free(&frame_);
    av_frame_free(&out_);
  }

  friend class ReadWorker;
  Options opts_;
  AVFormatContext* fmt_ = nullptr;
  AVCodecContext* dec_ = nullptr;
  AVFilterGraph* graph_ = nullptr;
  AVFilterContext* src_ = nullptr;
  AVFilterContext* sink_ = nullptr;
  AVPacket* pkt_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVFrame* out_ = nullptr;
  int stream_ = -1;
  int64_t keepFrom_ = AV_NOPTS_VALUE;
  int64_t endAt_ = AV_NOPTS_VALUE;
  std::vector<uint8_t> keep_;  // frames since the seek: 0 = skip (not filtered), beyond its end = keep
  size_t counted_ = 0;
  bool inputDone_ = false;
  bool graphFlushed_ = false;
  bool busy_ = false;
  bool closed_ = false;
  bool closeAfterRead_ = false;
};

class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Env env, Decoder* decoder, Napi::Array buffers, ReadRequest req)
      : Napi::AsyncWorker(env),
        decoder_(decoder),
        deferred_(Napi::Promise::Deferred::New(env)),
        req_(std::move(req)) {
    decoderRef_ = Napi::Persistent(decoder->Value());
    buffersRef_ = Napi::Persistent(buffers.As<Napi::Object>());
    for (uint32_t i = 0; i < buffers.Length(); i++) {
      Napi::Uint8Array a = buffers.Get(i).As<Napi::Uint8Array>();
      targets_.push_back({a.Data(), a.ByteLength()});
    }
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string err = decoder_->Fill(targets_, req_, filled_);
    if (!err.empty()) SetError(err);
  }

  void OnOK() override {
    Done();
    deferred_.Resolve(Napi::Number::New(Env(), filled_));
  }

  void OnError(const Napi::Error& e) override {
    Done();
    deferred_.Reject(e.Value());
  }

 private:
  void Done() {
    decoder_->busy_ = false;
    if (decoder_->closeAfterRead_) decoder_->Release();
  }

  Decoder* decoder_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference decoderRef_;
  Napi::ObjectReference buffersRef_;
  std::vector<Target> targets_;
  ReadRequest req_;
  int filled_ = 0;
};

Napi::Value Decoder::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const std::string& msg) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(Napi::Error::New(env, msg).Value());
    return d.Promise();
  };
  if (info.Length() < 1 || !info[0].IsArray()) return fail("read(buffers) needs an array of Uint8Array");
  Napi::Array buffers = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < buffers.Length(); i++)
    if (!buffers.Get(i).IsTypedArray() || buffers.Get(i).As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      return fail("read(buffers): every buffer must be a Uint8Array");
  ReadRequest req;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    if (o.Get("seekSec").IsNumber()) req.seekSec = o.Get("seekSec").As<Napi::Number>().DoubleValue();
    if (o.Get("seekToSec").IsNumber()) req.seekToSec = o.Get("seekToSec").As<Napi::Number>().DoubleValue();
    if (o.Get("endSec").IsNumber()) req.endSec = o.Get("endSec").As<Napi::Number>().DoubleValue();
    Napi::Value k = o.Get("keep");
    if (k.IsTypedArray() && k.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
      Napi::Uint8Array a = k.As<Napi::Uint8Array>();
      req.keep.assign(a.Data(), a.Data() + a.ElementLength());
      req.hasKeep = true;
    }
  }
  if (busy_) return fail("read() while another call on this decoder is running");
  if (closed_) return fail("the decoder is closed");
  busy_ = true;
  auto* worker = new ReadWorker(env, this, buffers, std::move(req));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  av_log_set_callback(keepLogLine);
  exports.Set("versions", Napi::String::New(env, std::string("libavcodec ") + AV_STRINGIFY(LIBAVCODEC_VERSION) +
                                                     ", libavformat " + AV_STRINGIFY(LIBAVFORMAT_VERSION) +
                                                     ", libavfilter " + AV_STRINGIFY(LIBAVFILTER_VERSION)));
  return Decoder::Init(env, exports);
}

}  // namespace

NODE_API_MODULE(mediamesh_libav, InitAll)
