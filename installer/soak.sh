#!/usr/bin/env bash
# The session soak test (not part of CI): 200 players joining, leaving, rolling
# and resuming at random, with attackers, against `eventdesk serve` on loopback.
# Prints RSS, descriptors and CPU each minute, then checks every player's stream.
#   installer/soak.sh [minutes]   (default 30)
# With `record`, an evening of `eventdesk record` instead: a stand-in engine
# sends 50 messages a second; RSS each minute, the end against 5 minutes in.
#   installer/soak.sh record [minutes]   (default 60)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTDESK_BUILD_DIR:-$root/build}
"$root/installer/install-deps.sh"
"$root/installer/build.sh" -DEVENTDESK_BUILD_TESTS=ON
# 200 players and the attackers' sockets need more than the usual 1,024 descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "${1:-}" = record ]; then
    exec /usr/bin/python3 "$root/tests/soak/record_soak.py" "$build/app/eventdesk" "${2:-60}"
fi
exec /usr/bin/python3 "$root/tests/soak/session_soak.py" "$build/app/eventdesk" "${1:-30}"
