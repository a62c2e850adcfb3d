#!/usr/bin/env bash
# One real model end to end: build llama-cpp-python[server] from source, then run the
# `llama`-marked tests (tests/test_llama_e2e.py) against Gemma 3 270M served by it.
#
# Cold (empty uv cache): about 3-4 minutes on 2 cores, mostly the C++ build. Warm: uv reuses
# the wheel it built, and the whole step takes seconds. Note that uv's wheel cache is not
# keyed on CMAKE_ARGS: after changing the flags below, force a rebuild with
# `uv sync --group llama --reinstall-package llama-cpp-python --refresh-package llama-cpp-python`.
#
# Extra arguments are passed to pytest; `--build-only` builds and installs, and stops there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS

# --- build tools: gcc/g++, cmake >= 3.21 and ninja (all on the stock python image) --------
need=()
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v c++ >/dev/null 2>&1 || need+=(g++)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v ninja >/dev/null 2>&1 || need+=(ninja-build)
if ((${#need[@]})); then
    echo "llama.sh: installing build tools: ${need[*]}"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get install -y --no-install-recommends "${need[@]}"; then
        $sudo apt-get update
        $sudo apt-get install -y --no-install-recommends "${need[@]}"
    fi
fi

# --- build: portable CPU-only library, none of llama.cpp's programs, two jobs -----------------
# GGML_NATIVE=OFF: no -march=native, so a wheel cached on one machine runs on another x86-64
#   (ggml still enables AVX/AVX2/FMA/F16C, which every machine here has).
# LLAVA_BUILD=OFF: skips libmtmd (multimodal, a quarter of the build); the server only loads
#   it for llava-style chat handlers, which we never use.
# GGML_CUDA=OFF: the image ships nvcc; make sure the build never picks it up.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_CUDA=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
echo "llama.sh: CMAKE_ARGS=$CMAKE_ARGS"
uv sync --locked --group llama
echo "llama.sh: uv sync --group llama took $((SECONDS - started))s"
if [[ "${1:-}" == "--build-only" ]]; then
    # .ci/run builds the wheel early, into an environment of its own, while the main tests
    # run; the `uv sync` above then finds it in uv's cache when the tests below need it.
    exit 0
fi

# --- tests -----------------------------------------------------------------------------------
# `uv run` (inexact) keeps the llama group installed; --group makes sure it is there.
tests_started=$SECONDS
uv run --locked --group llama pytest -m llama -q -n 0 "$@"
echo "llama.sh: pytest -m llama took $((SECONDS - tests_started))s; total $((SECONDS - started))s"
