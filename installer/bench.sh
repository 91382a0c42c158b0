#!/usr/bin/env bash
# Builds and runs every benchmark in full, printing their figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTDESK_BUILD_DIR:-$root/build}
"$root/installer/install-deps.sh"
EVENTDESK_BUILD_TYPE=${EVENTDESK_BUILD_TYPE:-Release} "$root/installer/build.sh" -DEVENTDESK_BUILD_TESTS=ON
failed=()
for b in "$build"/tests/bench/bench_*; do
    [ -f "$b" ] && [ -x "$b" ] || continue  # not the build's *_autogen folders
    echo "== $(basename "$b")"
    QT_QPA_PLATFORM=offscreen "$b" || failed+=("$(basename "$b")")
done
echo "== bench_player_page"
/usr/bin/python3 "$root/tests/bench/bench_player_page.py" "$build/app/eventdesk" || failed+=(bench_player_page)
if [ ${#failed[@]} -gt 0 ]; then
    echo "benchmarks that failed: ${failed[*]}" >&2
    exit 1
fi
