#!/usr/bin/env python3
"""The player page, timed in Debian's headless chromium (tests/cdp.py):

- open the join link (a returning player: name and character remembered) →
  the first event shown on the page, against a baseline: a raw WebSocket client
  (Python's websockets) connecting, joining and receiving its first event;
- a DM publishes over the session → the event shown on an open page, against
  the same raw client receiving it;
- the page's weight, every file it loads, uncompressed.

Prints figures; never fails on time. EVENTDESK_BENCH_QUICK=1: a few rounds.
Usage: bench_player_page.py path/to/eventdesk"""

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cdp import Browser  # noqa: E402
from checks import world_code  # noqa: E402

import websockets  # noqa: E402

EVENTDESK = sys.argv[1]
QUICK = os.environ.get("EVENTDESK_BENCH_QUICK") == "1"
ROUNDS = 3 if QUICK else 30
CODE = "BENCHCODE1"
TOKEN = "0123456789abcdef0123456789abcdef"
WORLD = "w-bench"

OBSERVER = """
  window.__shownAt = {};
  new MutationObserver((changes) => { for (const c of changes) for (const n of c.addedNodes)
    if (n.dataset && n.dataset.seq) { window.__shownAt[n.dataset.seq] = Date.now();
      if (window.__firstShown === undefined) window.__firstShown = performance.now(); } })
    .observe(document, {subtree: true, childList: true});
  localStorage.setItem('eventdesk:profile', JSON.stringify({name: 'Sam', character: 'Aria'}));
"""


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


async def raw_first_event(port):
    started = time.perf_counter()
    async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send(json.dumps({"type": "Join", "role": "player", "world_id": WORLD, "name": "raw",
                                  "join_code": world_code(CODE, WORLD), "recent": 30}))
        while True:
            m = json.loads(await ws.recv())
            if "seq" in m and m["type"] != "Published":
                return (time.perf_counter() - started) * 1000.0


async def main():
    tmp = tempfile.mkdtemp(prefix="eventdesk-bench-page-")
    db = os.path.join(tmp, "bench.db")
    lines = "".join(json.dumps({"type": "StoryEventCreated", "story_event_id": f"s{i}", "world_id": WORLD,
                                "event_type": "dialogue"}) + "\n" for i in range(200))
    subprocess.run([EVENTDESK, "publish", "--db", db, "--create"], input=lines, text=True, check=True,
                   capture_output=True)
    subprocess.run([EVENTDESK, "challenge", "add", "--db", db, "--world", WORLD, "--name", "Pick the lock",
                    "--difficulty", "12"], check=True, capture_output=True)
    server = subprocess.Popen([EVENTDESK, "serve", "--db", db, "--listen", "127.0.0.1:0", "--join-code", CODE,
                               "--dm-token", TOKEN], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(re.search(r":(\d+)$", server.stdout.readline().strip()).group(1))
    link = f"http://127.0.0.1:{port}/join?world={WORLD}&code={world_code(CODE, WORLD)}"
    browser = Browser()
    await browser.start()
    try:
        weight = 0
        for path in ("/join", "/assets/player.css", "/assets/feed.js", "/assets/join.js", "/assets/icon.svg"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
                weight += len(r.read())
        table = 0
        for path in ("/table", "/assets/table.js"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
                table += len(r.read())

        # Opening the link → the first event shown, a fresh browser profile each time.
        page_ms, raw_ms = [], []
        for _ in range(ROUNDS + 1):
            page = await browser.new_page(360, 640, mobile=True)
            await page.run_on_new_document(OBSERVER)
            started = time.perf_counter()
            await page.call("Page.navigate", {"url": link})
            shown = await page.wait_for("window.__firstShown", 10, 0.005)
            wall = (time.perf_counter() - started) * 1000.0
            if shown:
                # From the navigation's start, by the page's own clock; the wall time bounds it.
                page_ms.append(min(wall, shown))
            raw_ms.append(await raw_first_event(port))
            await page.close()
        page_ms, raw_ms = page_ms[1:], raw_ms[1:]  # the first round warms chromium up

        # A DM publishes → shown on an open page, and received by a raw client.
        page = await browser.new_page(360, 640, mobile=True)
        await page.run_on_new_document(OBSERVER)
        await page.goto(link)
        await page.wait_for("document.getElementById('status').dataset.state === 'connected'", 10)
        live_page, live_raw = [], []
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as dm, \
                websockets.connect(f"ws://127.0.0.1:{port}/") as raw:
            await dm.send(json.dumps({"type": "Join", "role": "dm", "world_id": "*", "name": "bench", "dm_token": TOKEN}))
            await raw.send(json.dumps({"type": "Join", "role": "player", "world_id": WORLD, "name": "raw",
                                       "join_code": world_code(CODE, WORLD)}))
            await dm.recv()
            await raw.recv()
            for i in range(ROUNDS * 3):
                before = time.time()
                await dm.send(json.dumps({"type": "Publish", "event": {
                    "type": "NarrativeEventTriggered", "event_id": f"n{i}", "world_id": WORLD,
                    "event_name": "The bell tolls", "outcome_name": "midnight"}}))
                while True:
                    m = json.loads(await raw.recv())
                    if m.get("type") == "NarrativeEventTriggered":
                        break
                live_raw.append((time.time() - before) * 1000.0)
                seq = m["seq"]
                at = await page.wait_for(f"window.__shownAt['{seq}']", 5, 0.002)
                if at:
                    live_page.append(at - before * 1000.0)
                while True:  # the DM's own copy and its Published
                    m = json.loads(await dm.recv())
                    if m.get("type") == "Published":
                        break
        print(f"player page: {len(page_ms)} openings, {len(live_page)} live events, this machine", flush=True)
        print(f"player_page_first_event: p50 {statistics.median(page_ms):.0f} ms, p99 {pct(page_ms, 99):.0f} ms "
              f"(baseline {statistics.median(raw_ms):.1f} ms, a raw client's join; goal 500 ms)", flush=True)
        print(f"player_page_live_event: p99 {pct(live_page, 99):.1f} ms (baseline {pct(live_raw, 99):.1f} ms)",
              flush=True)
        print(f"player_page_weight: {weight} bytes (limit 102400 bytes; the table screen {table} more)", flush=True)
        status = 0 if page_ms and live_page else 1  # nothing measured is a failure; slowness is not
    finally:
        await browser.close()
        server.terminate()
        server.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
