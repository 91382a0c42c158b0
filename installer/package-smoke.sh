#!/usr/bin/env bash
# Packages the already built tree as a .deb and checks it the way Debian would:
# lintian (no errors, no warnings), desktop-file-validate and appstreamcli on
# its metadata. Then, as root, installs it for real with dpkg -i, runs the
# installed eventdesk (--version, a short serve), finds its man page, purges it
# and checks that nothing of it is left under /usr. Without root (a developer's
# machine) the .deb is unpacked into a throw-away root instead; under CI=true
# that fallback is a failure. Part of the test command.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTDESK_BUILD_DIR:-$root/build}
work=$(mktemp -d)
server=
installed=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; fi
    if [ -n "$installed" ]; then dpkg --purge eventdesk >/dev/null 2>&1; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package: FAILED: $*"; exit 1; }

cmake --build "$build" --target eventdesk_docs >/dev/null || fail "building the package's documents"
(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null 2>"$work/cpack.err") || { cat "$work/cpack.err"; fail "cpack"; }
deb=$(ls "$work"/out/eventdesk_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb was made"
info=$(dpkg-deb --info "$deb")
grep -q 'Depends:.*libqt6sql6-sqlite' <<<"$info" || fail "the .deb does not depend on the Qt SQLite driver"
grep -q 'Depends:.*libhiredis' <<<"$info" || fail "the .deb does not depend on hiredis"

# Debian's own checks. lintian refuses to run as root unless told it may.
lintian --allow-root --fail-on error,warning "$deb" >"$work/lintian.out" 2>&1 \
    || { cat "$work/lintian.out"; fail "lintian found errors or warnings"; }
desktop-file-validate "$root/resources/eventdesk.desktop" >"$work/desktop.out" 2>&1
[ ! -s "$work/desktop.out" ] || { cat "$work/desktop.out"; fail "desktop-file-validate"; }
appstreamcli validate --no-net "$build/package-docs/io.eventdesk.EventDesk.metainfo.xml" >"$work/appstream.out" 2>&1 \
    || { cat "$work/appstream.out"; fail "appstreamcli validate"; }

prefix=
if [ "$(id -u)" -eq 0 ] && ! dpkg-query -W -f='${Status}' eventdesk 2>/dev/null | grep -q 'install ok installed'; then
    before=$(find /usr -xdev 2>/dev/null | sort)
    dpkg -i "$deb" >"$work/dpkg.out" 2>&1 || { cat "$work/dpkg.out"; fail "dpkg -i"; }
    installed=1
    man -w eventdesk >/dev/null 2>&1 || fail "man -w eventdesk finds no man page"
    systemd-analyze verify /usr/lib/systemd/user/eventdesk.service >"$work/unit.out" 2>&1 \
        || { cat "$work/unit.out"; fail "systemd-analyze verify of the user unit"; }
    [ "$(command -v eventdesk)" = /usr/bin/eventdesk ] || fail "eventdesk is not on PATH as /usr/bin/eventdesk"
    mode=installed
else
    [ "${CI:-}" != "true" ] || fail "CI must install the package for real (root, and eventdesk not installed already)"
    dpkg-deb -x "$deb" "$work/root"
    prefix="$work/root"
    mode=unpacked
fi
for f in usr/bin/eventdesk usr/share/applications/eventdesk.desktop usr/share/man/man1/eventdesk.1.gz \
         usr/share/doc/eventdesk/copyright usr/share/doc/eventdesk/changelog.gz \
         usr/share/icons/hicolor/scalable/apps/eventdesk.svg usr/share/icons/hicolor/128x128/apps/eventdesk.png \
         usr/share/metainfo/io.eventdesk.EventDesk.metainfo.xml usr/lib/systemd/user/eventdesk.service; do
    [ -e "$prefix/$f" ] || fail "missing /$f"
done
bin="$prefix/usr/bin/eventdesk"
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

if [ -n "$installed" ]; then
    dpkg --purge eventdesk >"$work/purge.out" 2>&1 || { cat "$work/purge.out"; fail "dpkg --purge"; }
    installed=
    after=$(find /usr -xdev 2>/dev/null | sort)
    left=$(comm -13 <(echo "$before") <(echo "$after"))
    [ -z "$left" ] || { echo "$left" | head -20; fail "purging left files behind under /usr"; }
fi
echo "package: $(basename "$deb") is lintian-clean and ${mode}: --version, serve, man page$([ -n "$prefix" ] || echo ', purged without a trace')"
