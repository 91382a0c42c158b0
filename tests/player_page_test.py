#!/usr/bin/env python3
"""The player page in a real browser: Debian's chromium, headless, driven over
its DevTools protocol (tests/cdp.py). `eventdesk serve` hosts the page and the
session on one port; events are published by another process
(`eventdesk publish`), as the engine would.

Checks: the join link asks once for name and character (typed with the
keyboard), the world's events appear within 1 s and another world's never; a
roll made on the page lands in the database and on a second player's page; the
server side closing the socket (serve stopped and started again, events
published in between) is resumed without gap or duplicate, and so is a reload;
the table screen renders; labels, keyboard focus and WCAG AA contrast (light
and dark); no sideways scrolling at 360 px; no script error or CSP violation;
the HTTP surface (404/405, HEAD, oversized requests, the Origin rule, the CSP,
the page weight); the join code never in the server's log.

Usage: player_page_test.py path/to/eventdesk [--screenshots DIR]"""

import asyncio
import json
import os
import shutil
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402
from checks import check, eventdesk, world_code  # noqa: E402

EVENTDESK = sys.argv[1]
SHOTS = sys.argv[sys.argv.index("--screenshots") + 1] if "--screenshots" in sys.argv else None
JOIN_CODE = "TABLECODE7"
DM_TOKEN = "0123456789abcdef0123456789abcdef"
WORLD = "w-ravenmoor"
OTHER_WORLD = "w-blackfen"
OTHER = "w-elsewhere"


def run(*args, stdin=None):
    return eventdesk(EVENTDESK, *args, stdin=stdin).stdout


class Server:
    def __init__(self, db, log):
        self.db = db
        self.log = log
        self.process = None
        self.port = 0

    def start(self, port=0):
        self.process = subprocess.Popen(
            [EVENTDESK, "serve", "--db", self.db, "--listen", f"127.0.0.1:{port}", "--join-code", JOIN_CODE,
             "--dm-token", DM_TOKEN, "--seed", "7", "--verbose"],
            stdout=subprocess.PIPE, stderr=open(self.log, "a"), text=True)
        line = self.process.stdout.readline()
        m = re.search(r"listening on ws://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError(f"serve did not start: {line!r}")
        self.port = int(m.group(1))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(15)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def link(self, page="join", world=WORLD, code=None):
        return f"{self.base}/{page}?world={world}&code={code or world_code(JOIN_CODE, world)}"


def publish(db, *events):
    out = run("publish", "--db", db, stdin="".join(json.dumps(e) + "\n" for e in events))
    return [int(x) for x in out.split()]


def story(world, kind="dialogue", n=0):
    return {"type": "StoryEventCreated", "story_event_id": f"s-{world}-{kind}-{n}", "world_id": world, "event_type": kind}


def narrative(world, name, outcome):
    return {"type": "NarrativeEventTriggered", "event_id": f"n-{name}", "world_id": world, "event_name": name,
            "outcome_name": outcome}


FEED = "[...document.querySelectorAll('#feed li')].map(li => Number(li.dataset.seq))"
TEXT = "document.getElementById('feed').innerText"


# ---- accessibility, measured in the page -----------------------------------


A11Y = r"""
(() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = ({r, g, b}) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.99) return c; } return parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255, a: 1}; };
  const problems = []; let checked = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement; if (!n.textContent.trim() || !el) continue;
    if (el.closest('[hidden]') || !el.getClientRects().length) continue;
    const s = getComputedStyle(el); if (s.visibility === 'hidden' || el.closest('.visually-hidden,.skip')) continue;
    const fg = parse(s.color), bg = background(el);
    const disabled = el.closest('button:disabled,select:disabled,input:disabled');
    const ratio = (Math.max(lum(fg), lum(bg)) + 0.05) / (Math.min(lum(fg), lum(bg)) + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    checked++;
    if (!disabled && ratio < need) problems.push(`${ratio.toFixed(2)} < ${need}: "${n.textContent.trim().slice(0, 40)}"`);
  }
  for (const c of document.querySelectorAll('input,select,textarea')) {
    if (c.closest('[hidden]')) continue;
    if (!(c.labels && c.labels.length) && !c.getAttribute('aria-label')) problems.push(`no label: #${c.id}`);
  }
  for (const b of document.querySelectorAll('button,a')) {
    if (b.closest('[hidden]')) continue;
    if (!(b.getAttribute('aria-label') || b.textContent.trim())) problems.push(`no name: ${b.outerHTML.slice(0, 60)}`);
  }
  return {checked, problems};
})()
"""

FOCUS = """(() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const s = getComputedStyle(e); return {id: e.id || e.tagName, outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; })()"""


async def main():
    tmp = tempfile.mkdtemp(prefix="eventdesk-player-")
    db = os.path.join(tmp, "table.db")
    log = os.path.join(tmp, "serve.log")
    run("publish", "--db", db, "--create", "--json", json.dumps(story(WORLD, "scene_transition")))
    challenge = run("challenge", "add", "--db", db, "--world", WORLD, "--name", "Pick the lock",
                    "--difficulty", "12").strip()
    run("challenge", "add", "--db", db, "--world", OTHER, "--name", "Elsewhere's secret", "--difficulty", "5")
    server = Server(db, log)
    server.start()
    browser = Browser()
    await browser.start()
    try:
        await http_surface(server)
        await play(server, browser, db, challenge)
    finally:
        await browser.close()
        server.stop()
    with open(log, encoding="utf-8", errors="replace") as f:
        logged = f.read()
    check("joined world" in logged and JOIN_CODE not in logged and world_code(JOIN_CODE, WORLD) not in logged,
          "the join secret and the world's code never appear in the server's log, --verbose included")
    shutil.rmtree(tmp, ignore_errors=True)
    return check.totals()


def http(method, url, headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def raw(port, data, read=True):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def upgrade(port, host, origin):
    req = (f"GET /session HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           f"Origin: {origin}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(req)
        return s.recv(4096).split(b"\r\n", 1)[0].decode()


async def http_surface(server):
    status, headers, body = http("GET", server.link())
    check(status == 200 and headers.get("Content-Type", "").startswith("text/html") and b"/assets/join.js" in body,
          "GET of the join link answers the page")
    csp = headers.get("Content-Security-Policy", "")
    check("script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp,
          f"a Content-Security-Policy without inline script: {csp[:80]}…")
    check(b"<script>" not in body and b"onclick" not in body.lower() and b"style=" not in body,
          "the page has no inline script, handler or style")
    check(headers.get("Referrer-Policy") == "no-referrer", "the join link is not sent on as a referrer")
    weight = 0
    for path in ("/join", "/table", "/assets/player.css", "/assets/feed.js", "/assets/join.js", "/assets/table.js",
                 "/assets/icon.svg"):
        status, _, body = http("GET", server.base + path)
        check(status == 200, f"GET {path} is served")
        weight += len(body)
    check(weight <= 100 * 1024, f"the whole page weighs {weight} bytes (at most 100 KB)")
    print(f"figure : player page weight {weight} bytes uncompressed", flush=True)
    status, headers, body = http("HEAD", server.base + "/join")
    check(status == 200 and body == b"" and int(headers.get("Content-Length", "0")) > 0,
          "HEAD gives the headers and no body")
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, _, _ = http(method, server.base + "/join")
        check(status == 405, f"{method} is refused with 405")
    for path in ("/nothing", "/assets/", "/assets/../../etc/passwd", "/metrics", "/join.html", "/assets/feed.js.map"):
        status, _, _ = http("GET", server.base + path)
        check(status == 404, f"GET {path} is 404")
    answer = raw(server.port, b"GET /join HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    check(answer.startswith(b"HTTP/1.1 431"), "an oversized request head gets 431")
    answer = raw(server.port, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
    check(answer.startswith(b"HTTP/1.1 400"), "bytes that are not HTTP get 400")
    answer = raw(server.port, b"GET /join HTTP/1.1\r\nno colon here\r\n\r\n")
    check(answer.startswith(b"HTTP/1.1 400"), "a malformed header line gets 400")
    # A request that never ends is cut off by the handshake deadline, not held.
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as s:
        s.sendall(b"GET /join HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        try:
            closed = s.recv(4096) == b""
        except (ConnectionResetError, socket.timeout):
            closed = True
        check(closed and time.monotonic() - started < 12, "an unfinished request is closed by the deadline")
    # Page requests are pending connections with the same caps: unfinished ones
    # from other addresses (16 at most each) do not keep the page from a player.
    idle = []
    for n in range(60):
        s = socket.socket()
        s.bind((f"127.0.0.{2 + n // 20}", 0))
        s.settimeout(10)
        try:
            s.connect(("127.0.0.1", server.port))
            s.sendall(b"GET /join HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            pass  # refused over the per-address cap: as it should be
        idle.append(s)
    status, _, body = http("GET", server.link())
    check(status == 200 and b"join.js" in body, "the page is served while 60 unfinished requests from others wait")
    for s in idle:
        s.close()
    # The Origin rule: the page's own origin (same host and port as the request's Host), never another site.
    port = server.port
    check(upgrade(port, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}").endswith("101 Switching Protocols"),
          "the page's own origin may open the session socket")
    check(upgrade(port, f"192.168.1.20:{port}", f"http://192.168.1.20:{port}").endswith("101 Switching Protocols"),
          "a page opened at the host's LAN address may open the session socket")
    check(" 403 " in upgrade(port, f"192.168.1.20:{port}", "http://evil.example"),
          "another site's page is refused (403)")
    check(" 403 " in upgrade(port, f"192.168.1.20:{port}", f"http://192.168.1.99:{port}"),
          "an origin other than the address the page was opened at is refused")
    check(" 403 " in upgrade(port, f"evil.example:{port}", f"http://evil.example:{port}"),
          "a rebound DNS name is not taken for the page's own origin")
    check(" 403 " in upgrade(port, f"192.168.1.20:{port}", f"http://192.168.1.20:{port + 1}"),
          "the same host on another port is refused")


async def connected(page, timeout=5):
    return await page.wait_for("document.getElementById('status').dataset.state === 'connected'", timeout)


async def seen(page, seq, timeout=5):
    return await page.wait_for(f"{FEED}.includes({seq})", timeout)


async def play(server, browser, db, challenge):
    phone = await browser.new_page(360, 640, mobile=True)
    # When each entry was shown, by the page's clock (the same as ours).
    await phone.run_on_new_document("""
      window.__shownAt = {};
      new MutationObserver((changes) => { for (const c of changes) for (const n of c.addedNodes)
        if (n.dataset && n.dataset.seq) window.__shownAt[n.dataset.seq] = Date.now(); })
        .observe(document, {subtree: true, childList: true});""")
    await phone.goto(server.link())
    check(await phone.wait_for("!document.getElementById('setup').hidden"), "a first visit asks for name and character")
    focus = await phone.eval(FOCUS)
    check(focus and focus["id"] == "player-name", "the name field has the keyboard focus")
    # Keyboard only: type, Tab, type, Enter.
    await phone.type_text("Sam")
    await phone.press("Tab")
    await phone.type_text("Aria")
    await phone.press("Enter")
    check(await connected(phone), "Enter joins the session and the page says Connected")
    check(await phone.eval("document.getElementById('who-character').textContent") == "Aria", "the page plays Aria")
    first = await phone.wait_for(f"{FEED}.length >= 1", 5)
    check(first and "The scene changes" in await phone.eval(TEXT), "the latest story beat is shown on joining")
    check(await phone.wait_for("document.getElementById('challenge').options.length === 1 && "
                               "document.getElementById('challenge').value === " + json.dumps(challenge)),
          "the roll panel lists the world's challenge, not another world's")

    # Live: another process publishes; shown within 1 s; another world's never.
    delays = []
    for n in range(5):
        before = time.time()
        (seq,) = publish(db, story(WORLD, "dialogue", n))
        shown = await seen(phone, seq, 3)
        at = await phone.eval(f"window.__shownAt['{seq}']")
        if shown and at:
            delays.append(at / 1000.0 - before)
    check(len(delays) == 5 and max(delays) < 1.0,
          "each published event appears within 1 s (" + ", ".join(f"{d * 1000:.0f} ms" for d in delays) + ")")
    other = publish(db, story(OTHER, "combat"), narrative(OTHER, "The far gate", "opened"))
    (sentinel,) = publish(db, narrative(WORLD, "The bell tolls", "midnight"))
    check(await seen(phone, sentinel), "a narrative event appears")
    text = await phone.eval(TEXT)
    check("The bell tolls" in text and "midnight" in text, "a narrative event reads with its outcome")
    shown = await phone.eval(FEED)
    check(not any(s in shown for s in other) and "far gate" not in text and "Combat" not in text,
          "another world's events never appear")
    check("{" not in text and "world_id" not in text, "the feed is in words, never JSON")

    # A second player's phone (its own browser profile).
    second = await browser.new_page(360, 640, mobile=True)
    await second.goto(server.link())
    await second.wait_for("!document.getElementById('setup').hidden")
    await second.eval("document.getElementById('player-name').value = 'Kim';"
                      "document.getElementById('character-name').value = 'Borin';"
                      "document.getElementById('setup-form').requestSubmit()")
    check(await connected(second), "a second player joins")

    # Roll from the page: modifier +3 with the stepper, keyboard on the Roll button.
    await phone.eval("document.getElementById('modifier-up').click(); document.getElementById('modifier-up').click();"
                     "document.getElementById('modifier-up').click()")
    check(await phone.eval("document.getElementById('modifier').value") == "3", "the stepper sets the modifier")
    await phone.eval("document.getElementById('roll-button').focus()")
    await phone.press("Enter")
    rolled = await phone.wait_for("[...document.querySelectorAll('#feed li.challenge')].length > 0", 5)
    check(rolled, "the roll's result appears on the roller's page")
    rows = [json.loads(line) for line in run("tail", "--db", db, "--type", "ChallengeResolved", "--format", "jsonl").splitlines()]
    check(len(rows) == 1 and rows[0]["event"]["challenge_id"] == challenge and rows[0]["event"]["world_id"] == WORLD,
          "the roll is in the database")
    if rows:
        e = rows[0]["event"]
        check(e["total"] - e["roll"] == 3 and (e["total"] >= 12) == e["success"], "d20 + 3 against difficulty 12")
        check(await seen(second, rows[0]["id"]), "the roll appears on the second player's page")
        text2 = await second.eval(TEXT)
        check("Aria" in text2 and "Pick the lock" in text2 and f"= {e['total']}" in text2,
              "it reads as Aria's roll at Pick the lock, with the total")

    # Accessibility and layout at 360×640, light and dark.
    for scheme in ("light", "dark"):
        await phone.color_scheme(scheme)
        a11y = await phone.eval(A11Y)
        check(a11y["checked"] > 10 and not a11y["problems"],
              f"{scheme}: labels, names and WCAG AA contrast on {a11y['checked']} texts {a11y['problems'][:3]}")
    await phone.color_scheme("light")
    check(await phone.eval("document.documentElement.scrollWidth <= 360"), "no sideways scrolling at 360 px")
    await phone.eval("document.activeElement.blur(); window.scrollTo(0, 0)")
    outlines = []
    for _ in range(8):
        await phone.press("Tab")
        outlines.append(await phone.eval(FOCUS))
    reached = {o["id"] for o in outlines if o}
    check({"change-player", "challenge", "modifier", "roll-button"} <= reached, f"Tab reaches every control: {sorted(reached)}")
    check(all(o["outline"] != "none" and o["width"] >= 2 for o in outlines if o), "the focused control is outlined")
    if SHOTS:
        await phone.eval("window.scrollTo(0, 0)")
        await phone.screenshot(os.path.join(SHOTS, "player-page-360x640.png"))

    # The server side closes: serve stops (every socket closed), events are
    # published meanwhile, serve starts again on the same port.
    before = await phone.eval(FEED)
    server.stop()
    check(await phone.wait_for("document.getElementById('status').dataset.state === 'waiting'", 5),
          "the page says it lost the connection")
    missed = publish(db, story(WORLD, "ambush", 1), narrative(WORLD, "The bridge", "collapses"), story(WORLD, "rest", 2))
    server.start(server.port)
    check(await connected(phone, 15), "the page reconnects by itself")
    check(all([await seen(phone, s, 5) for s in missed]), "the events published while it was away appear")
    after = await phone.eval(FEED)
    check(len(after) == len(set(after)), "no event is shown twice after the resume")
    check(sorted(after) == sorted(set(before) | set(missed)), "no gap: what was shown and what was missed, all of it")
    check(after == sorted(after, reverse=True), "newest first, in order")
    await phone.goto(server.link())
    check(await connected(phone), "a reload joins again without asking the name")
    check(await phone.eval("document.getElementById('setup').hidden"), "the name is asked only once")
    (later,) = publish(db, story(WORLD, "dialogue", 99))
    check(await seen(phone, later), "after the reload, new events still appear")
    reloaded = await phone.eval(FEED)
    check(len(reloaded) == len(set(reloaded)) and set(after) <= set(reloaded), "the reload keeps the feed, no duplicate")
    check(not phone.problems and not second.problems, f"no script error or CSP violation: {(phone.problems + second.problems)[:3]}")

    # A wrong code: told so, not retried.
    stranger = await browser.new_page(360, 640, mobile=True)
    await stranger.goto(server.link(code="WRONGCODE"))
    await stranger.eval("document.getElementById('player-name').value = 'Eve';"
                        "document.getElementById('character-name').value = 'Shade';"
                        "document.getElementById('setup-form').requestSubmit()")
    check(await stranger.wait_for("!document.getElementById('problem').hidden", 10), "a wrong join code is explained")
    check(await stranger.eval("document.getElementById('status').dataset.state") == "refused", "and not retried")
    incomplete = await browser.new_page(360, 640)
    await incomplete.goto(f"{server.base}/join")
    check(await incomplete.wait_for("!document.getElementById('problem').hidden"), "a link without world or code says so")

    # Another world's table screen with this world's code: refused, and none of its events shown.
    publish(db, story(OTHER_WORLD, "ambush", 1), narrative(OTHER_WORLD, "The fen", "rises"))
    peek = await browser.new_page(1280, 800)
    await peek.goto(server.link("table", world=OTHER_WORLD, code=world_code(JOIN_CODE, WORLD)))
    check(await peek.wait_for("document.getElementById('status').dataset.state === 'refused'", 10),
          "a world's code on another world's table screen is refused")
    check(await peek.eval("document.querySelectorAll('#feed li').length") == 0, "and shows none of that world's events")

    # The table screen.
    tv = await browser.new_page(1280, 800)
    await tv.goto(server.link("table"))
    check(await connected(tv), "the table screen joins")
    check(await tv.wait_for("document.querySelectorAll('#feed li').length === 6"), "it shows the latest six beats")
    size = await tv.eval("parseFloat(getComputedStyle(document.querySelector('#feed li .headline')).fontSize)")
    check(size and size >= 36, f"in large type ({size} px)")
    (news,) = publish(db, narrative(WORLD, "The dragon wakes", "it is hungry"))
    check(await tv.wait_for(f"document.querySelector('#feed li').dataset.seq === '{news}'"), "a new beat goes on top")
    check(await tv.eval("document.querySelectorAll('#feed li').length") == 6, "and the oldest leaves")
    a11y = await tv.eval(A11Y)
    check(not a11y["problems"], f"the table screen's contrast {a11y['problems'][:3]}")
    check(not tv.problems, f"no script error on the table screen {tv.problems[:3]}")
    if SHOTS:
        await tv.screenshot(os.path.join(SHOTS, "table-screen-1280x800.png"))
        await phone.resize(1280, 800)
        await phone.eval("window.scrollTo(0, 0)")
        await phone.screenshot(os.path.join(SHOTS, "player-page-1280x800.png"))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
