#!/usr/bin/env python3
"""Pictures of the player page for the README, from a simulated session:
`eventdesk serve` on the given database, the join link of the world named
WORLD_NAME opened in headless chromium at 360×640 and 1280×800, and the table
screen at 1280×800. A player rolls once so that the roll panel has spoken.

Usage: player_page_shots.py path/to/eventdesk DATABASE WORLD_NAME OUTPUT_DIR"""

import asyncio
import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402
from checks import world_code  # noqa: E402

EVENTDESK, DB, WORLD_NAME, OUT = sys.argv[1:5]
CODE = "SHOTCODE7"


def world_id():
    # EventDesk's own database beside the log names the simulated worlds.
    with sqlite3.connect(f"file:{DB}.eventdesk?mode=ro", uri=True) as c:
        rows = c.execute("SELECT id FROM eventdesk_names WHERE kind = 'world' AND name = ?", (WORLD_NAME,)).fetchall()
    if not rows:
        raise SystemExit(f"no world named {WORLD_NAME} in {DB}")
    return rows[0][0]


async def main():
    world = world_id()
    for name, difficulty in (("Pick the lock", 12), ("Climb the cliff", 14), ("Persuade the guard", 10)):
        subprocess.run([EVENTDESK, "challenge", "add", "--db", DB, "--world", world, "--name", name,
                        "--difficulty", str(difficulty)], check=True, capture_output=True)
    server = subprocess.Popen([EVENTDESK, "serve", "--db", DB, "--listen", "127.0.0.1:0", "--join-code", CODE],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(re.search(r":(\d+)$", server.stdout.readline().strip()).group(1))
    base = f"http://127.0.0.1:{port}"
    browser = Browser()
    await browser.start()
    try:
        page = await browser.new_page(360, 640, mobile=True)
        await page.run_on_new_document(
            "localStorage.setItem('eventdesk:profile', JSON.stringify({name: 'Sam', character: 'Aria'}))")
        await page.goto(f"{base}/join?world={world}&code={world_code(CODE, world)}")
        await page.wait_for("document.getElementById('status').dataset.state === 'connected'", 10)
        await page.wait_for("document.getElementById('challenge').options.length >= 3", 10)
        await page.eval("document.getElementById('modifier-up').click(); document.getElementById('modifier-up').click()")
        await page.eval("document.getElementById('roll-button').click()")
        await page.wait_for("document.querySelector('#feed li.challenge .headline').textContent.startsWith('Aria')", 10)
        await page.wait_for("document.getElementById('world-name').textContent !== ''", 5)
        await page.eval("document.activeElement.blur(); window.scrollTo(0, 0)")
        await page.screenshot(os.path.join(OUT, "player-page-360x640.png"))
        await page.resize(1280, 800)
        await page.screenshot(os.path.join(OUT, "player-page-1280x800.png"))
        table = await browser.new_page(1280, 800)
        await table.goto(f"{base}/table?world={world}&code={world_code(CODE, world)}")
        await table.wait_for("document.querySelectorAll('#feed li').length >= 4", 10)
        await table.screenshot(os.path.join(OUT, "table-screen-1280x800.png"))
        for name in ("player-page-360x640.png", "player-page-1280x800.png", "table-screen-1280x800.png"):
            print(f"screenshot: {os.path.join(OUT, name)}")
    finally:
        await browser.close()
        server.terminate()
        server.wait(15)


if __name__ == "__main__":
    asyncio.run(main())
