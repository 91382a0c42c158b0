#!/usr/bin/env bash
# Builds the .deb and .tar.gz packages into build-package/ and prints their paths
# and sizes. The version is the one in CMakeLists.txt's project(VERSION).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTDESK_PACKAGE_DIR:-$root/build-package}
"$root/installer/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DEVENTDESK_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --parallel "${EVENTDESK_JOBS:-$(nproc)}" --target eventdesk eventdesk_docs
rm -f "$build"/eventdesk_*.deb "$build"/eventdesk-*.tar.gz
(cd "$build" && cpack -G "DEB;TGZ" >/dev/null)
for f in "$build"/eventdesk_*.deb "$build"/eventdesk-*.tar.gz; do
    printf '%s\t%s\n' "$f" "$(du -h "$f" | cut -f1)"
done
