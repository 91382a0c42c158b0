#!/usr/bin/env bash
# Installs every Debian package EventDesk needs to build, test and run.
# Idempotent: when every package is already present, apt is not called at all.
# Extra packages a script needs (screenshots: imagemagick, xdotool) may follow.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # Qt 6 (bookworm: 6.4.2)
  qt6-base-dev qt6-base-dev-tools qt6-websockets-dev libqt6sql6-sqlite
  qt6-charts-dev libqt6opengl6-dev libqt6svg6 qt6-qpa-plugins
  # storage and the multi-machine bus
  libsqlite3-dev sqlite3 zlib1g-dev libhiredis-dev redis-server
  # the Session panel's QR code of the join link
  libqrencode-dev
  # tests: fuzzing, a foreign WebSocket client, a display for screenshots
  clang libclang-rt-14-dev python3 python3-websockets xvfb xauth
  # the player page's tests: a real browser, driven over its DevTools protocol
  chromium fonts-dejavu-core
  # reads the Session panel's QR code back in its test
  zbar-tools
  # promtool, which checks the /metrics text in the tests
  prometheus
  # packaging
  dpkg-dev file openssl lintian desktop-file-utils appstream man-db systemd
)

packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "eventdesk: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
