#!/usr/bin/env bash
# Refreshes the README's screenshots from the real build under Xvfb: a demo
# session is simulated into a throw-away database, the window opens on it at
# 1600×1000 and at 1024×700, and the screen is captured; then the player page
# and the table screen, served by `eventdesk serve` on the same database, are
# captured in headless chromium (tests/player_page_shots.py).
#
#   installer/screenshots.sh [output folder, default resources/screenshots]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/resources/screenshots}
build=${EVENTDESK_BUILD_DIR:-$root/build}
"$root/installer/install-deps.sh" imagemagick xdotool
[ -x "$build/app/eventdesk" ] || "$root/installer/build.sh"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" XDG_DATA_HOME="$work/home/data"
mkdir -p "$HOME"
db="$work/campaign.db"
"$build/app/eventdesk" simulate --db "$db" --world Ravenmoor --world "Sunken Isles" --players 4 \
    --rate 12 --duration 20s --seed 11 >/dev/null 2>&1

shoot() {  # width height file
    local w=$1 h=$2 file=$3
    xvfb-run -a -s "-screen 0 ${w}x${h}x24" bash -c '
        set -e
        "$0" --db "$1" & app=$!
        for _ in $(seq 1 50); do
            xdotool search --onlyvisible --name "^EventDesk" >/dev/null 2>&1 && break
            sleep 0.2
        done
        win=$(xdotool search --onlyvisible --name "^EventDesk" | head -1)
        xdotool windowsize "$win" "$2" "$3" windowmove "$win" 0 0
        sleep 3
        import -window root "$4"
        kill "$app"; wait "$app" || true
    ' "$build/app/eventdesk" "$db" "$w" "$h" "$file"
    echo "screenshot: $file"
}
shoot 1600 1000 "$out/main-window.png"
shoot 1024 700 "$out/main-window-1024x700.png"
/usr/bin/python3 "$root/tests/player_page_shots.py" "$build/app/eventdesk" "$db" Ravenmoor "$out"
