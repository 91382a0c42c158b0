#!/usr/bin/env bash
# Installs what EventDesk needs, builds it and opens the window on the default
# database (under the user's data folder). Arguments go to eventdesk.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/installer/install-deps.sh"
EVENTDESK_BUILD_TESTS=OFF "$root/installer/build.sh" -DEVENTDESK_BUILD_TESTS=OFF
exec "${EVENTDESK_BUILD_DIR:-$root/build}/app/eventdesk" "$@"
