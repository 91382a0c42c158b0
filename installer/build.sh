#!/usr/bin/env bash
# Configures and builds EventDesk into build/ (or $EVENTDESK_BUILD_DIR).
# Usage: installer/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTDESK_BUILD_DIR:-$root/build}
jobs=${EVENTDESK_JOBS:-$(nproc)}

werror=OFF
if [ "${CI:-}" = "true" ]; then werror=ON; fi

generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build/Makefile" ]; then generator=(-G Ninja); fi

cmake -S "$root" -B "$build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE="${EVENTDESK_BUILD_TYPE:-RelWithDebInfo}" \
    -DEVENTDESK_WERROR="$werror" "$@" >/dev/null
cmake --build "$build" --parallel "$jobs"
