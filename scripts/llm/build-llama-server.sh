#!/usr/bin/env bash
# Builds a real llama.cpp `llama-server` for the tests, offline: the npm tarball of node-llama-cpp
# carries the llama.cpp source as a git bundle (llama/gitRelease.bundle). About 5 minutes on 2 cores;
# the binary is cached in an ignored folder and a second run does nothing.
# Needs git, cmake and g++ (Debian: `apt-get install cmake build-essential`).
# Usage: scripts/llm/build-llama-server.sh [OUT_DIR]    (default .cache/llama) -> OUT_DIR/llama-server
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(realpath -m "${1:-${SWITCHYARD_LLAMA_DIR:-$ROOT/.cache/llama}}")
NLC_VERSION=3.21.1 # bundles llama.cpp 80fb11a
log() { echo "[llama-build] $*" >&2; }
if [ -x "$OUT/llama-server" ] && "$OUT/llama-server" --version >/dev/null 2>&1; then exit 0; fi
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(build-essential)
command -v git >/dev/null || missing+=(git)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then log "needs Debian packages: ${missing[*]}"; exit 1; fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
log "node-llama-cpp@$NLC_VERSION source bundle from the npm registry"
env -u npm_config_prefix npm pack "node-llama-cpp@$NLC_VERSION" --silent >/dev/null
tar -xzf "node-llama-cpp-$NLC_VERSION.tgz" package/llama/gitRelease.bundle
git clone -q package/llama/gitRelease.bundle llama.cpp 2>/dev/null
log "cmake build of llama-server (about 5 minutes on 2 cores)"
cmake -S llama.cpp -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
  -DGGML_NATIVE=OFF -DGGML_CCACHE=OFF >build.log 2>&1 || { tail -20 build.log >&2; exit 1; }
cmake --build build --target llama-server -j"$(nproc)" >>build.log 2>&1 || { tail -30 build.log >&2; exit 1; }
mkdir -p "$OUT"
cp build/bin/llama-server "$OUT/llama-server.tmp" && mv "$OUT/llama-server.tmp" "$OUT/llama-server"
log "built: $("$OUT/llama-server" --version 2>&1 | head -1)"
