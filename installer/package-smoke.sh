#!/usr/bin/env bash
# Packages the already built tree as a .deb, unpacks it into a throw-away root
# and runs the installed eventdesk from there: --version, and a short serve
# that must print where it listens. Part of the test command.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTDESK_BUILD_DIR:-$root/build}
work=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package: FAILED: $*"; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null 2>"$work/cpack.err") || { cat "$work/cpack.err"; fail "cpack"; }
deb=$(ls "$work"/out/eventdesk_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb was made"
info=$(dpkg-deb --info "$deb")
grep -q 'Depends:.*libqt6sql6-sqlite' <<<"$info" || fail "the .deb does not depend on the Qt SQLite driver"
grep -q 'Depends:.*libhiredis' <<<"$info" || fail "the .deb does not depend on hiredis"
dpkg-deb -x "$deb" "$work/root"
for f in usr/bin/eventdesk usr/share/applications/eventdesk.desktop usr/share/man/man1/eventdesk.1 \
         usr/share/icons/hicolor/scalable/apps/eventdesk.svg usr/share/icons/hicolor/128x128/apps/eventdesk.png \
         usr/share/metainfo/io.eventdesk.EventDesk.metainfo.xml; do
    [ -e "$work/root/$f" ] || fail "missing $f"
done
bin="$work/root/usr/bin/eventdesk"
version=$("$bin" --version) || fail "--version"
grep -q '^eventdesk ' <<<"$version" || fail "--version printed '$version'"
HOME="$work/home" "$bin" serve --db "$work/smoke.db" --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 1 100); do
    grep -q 'listening on ws://127.0.0.1:' "$work/serve.out" 2>/dev/null && break
    sleep 0.1
done
grep -q 'eventdesk: listening on ws://127.0.0.1:' "$work/serve.out" || { cat "$work/serve.err"; fail "serve did not start"; }
kill -TERM "$server"
wait "$server" || fail "serve did not stop cleanly"
server=
echo "package: $(basename "$deb") installs and runs (--version, serve)"
