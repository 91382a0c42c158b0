#!/usr/bin/env bash
# Installs what the tests need, builds everything, starts a throw-away
# redis-server on 127.0.0.1, runs every CTest suite, then the fuzzers for a
# bounded time. Exits non-zero on any failure. Prints ctest's summary.
# Then the .deb is built and its installed binary smoke-tested, and the model,
# bus and window suites and a 30 s monkey test run again under ASan + UBSan.
#   EVENTDESK_FUZZ_SECONDS  seconds per fuzz target (default 60; 0 skips fuzzing)
#   EVENTDESK_SANITIZE=0    skips the sanitizer build (it is on by default)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTDESK_BUILD_DIR:-$root/build}

"$root/installer/install-deps.sh" || exit 1
"$root/installer/build.sh" -DEVENTDESK_BUILD_TESTS=ON || exit 1

# A redis-server of our own, on a free loopback port, in a directory we delete.
redis_dir=$(mktemp -d)
redis_pid=
cleanup() {
    if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; fi
    rm -rf "$redis_dir"
}
trap cleanup EXIT
if command -v redis-server >/dev/null 2>&1; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    redis-server --bind 127.0.0.1 --port "$port" --dir "$redis_dir" --save '' --appendonly no \
        --daemonize no --logfile "$redis_dir/redis.log" &
    redis_pid=$!
    for _ in $(seq 1 100); do
        redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    export EVENTDESK_TEST_REDIS="127.0.0.1:$port"
fi

status=0
(cd "$build" && ctest --output-on-failure --timeout 600 -j"${EVENTDESK_TEST_JOBS:-2}") || status=1

"$root/installer/package-smoke.sh" || status=1

if [ "${EVENTDESK_SANITIZE:-1}" != "0" ]; then
    echo "sanitizers: building and running the model, bus and window suites with ASan + UBSan"
    "$root/installer/sanitize.sh" || status=1
fi

if [ "${EVENTDESK_FUZZ_SECONDS:-60}" != "0" ]; then
    "$root/installer/fuzz.sh" || status=1
fi
exit $status
