#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs
# each for EVENTDESK_FUZZ_SECONDS (default 60) from its seed corpus. Any crash,
# leak or sanitizer report fails the run; the reproducer is left in build-fuzz/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTDESK_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${EVENTDESK_FUZZ_SECONDS:-60}

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEVENTDESK_FUZZ=ON -DEVENTDESK_BUILD_TESTS=OFF >/dev/null
targets=$(cd "$root/tests/fuzz" && ls fuzz_*.cpp | sed 's/\.cpp$//')
# shellcheck disable=SC2086
cmake --build "$build" --parallel "${EVENTDESK_JOBS:-$(nproc)}" --target $targets

status=0
for t in $targets; do
    corpus="$build/corpus/$t"
    mkdir -p "$corpus" "$build/artifacts/$t"
    echo "fuzz: $t for ${seconds}s"
    if ! "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$build/artifacts/$t/" -print_final_stats=1 \
            "$corpus" "$root/tests/fuzz/corpus/$t" >"$build/$t.log" 2>&1; then
        echo "fuzz: $t FAILED, see $build/$t.log"; tail -40 "$build/$t.log"; status=1
    else
        grep -E '^(stat::number_of_executed_units|Done)' "$build/$t.log" | tail -2
    fi
done
exit $status
