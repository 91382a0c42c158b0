#!/usr/bin/env python3
"""/metrics of `eventdesk serve`, as Prometheus would scrape it: the text passes
`promtool check metrics` (Debian's prometheus package), and the counts match
what was published — by another process (`eventdesk publish`) and through the
session (a player's roll) — who joined, and who was refused. The world label
stops at its cap. Served on the session port (--metrics) and on a port of its
own (--metrics-listen); off unless asked for.

Usage: metrics_test.py path/to/eventdesk"""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import websockets

from checks import check, eventdesk, world_code

EVENTDESK = sys.argv[1]
CODE = "METRICS42"
TOKEN = "0123456789abcdef0123456789abcdef"


def run(*args, stdin=None):
    return eventdesk(EVENTDESK, *args, stdin=stdin).stdout


def get(url, method="GET"):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, "", ""


def samples(text):
    """{(name, frozenset(labels)): value} from the text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m:
            raise ValueError(f"not a sample line: {line!r}")
        labels = frozenset(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(s, name, **labels):
    return s.get((name, frozenset(labels.items())))


def promtool(text):
    tool = shutil.which("promtool")
    if not tool:
        return False, "promtool is missing: installer/install-deps.sh installs Debian's prometheus"
    r = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def challenge_event(world, n):
    return {"type": "ChallengeResolved", "challenge_name": "Pick the lock", "world_id": world,
            "character_id": f"pc{n}", "success": n % 2 == 0, "roll": 10 + n % 10, "total": 12 + n % 10}


async def scrape_until(url, ready, timeout=10):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status, ctype, text = get(url)
        s = samples(text) if status == 200 else {}
        if status == 200 and ready(s):
            return status, ctype, text, s
        if asyncio.get_running_loop().time() > deadline:
            return status, ctype, text, s
        await asyncio.sleep(0.05)


async def main():
    tmp = tempfile.mkdtemp(prefix="eventdesk-metrics-")
    db = os.path.join(tmp, "m.db")
    run("publish", "--db", db, "--create", "--json", json.dumps(
        {"type": "StoryEventCreated", "story_event_id": "before", "world_id": "w1", "event_type": "dialogue"}))
    challenge = run("challenge", "add", "--db", db, "--world", "w1", "--name", "Pick the lock", "--difficulty", "10").strip()
    server = subprocess.Popen([EVENTDESK, "serve", "--db", db, "--listen", "127.0.0.1:0", "--join-code", CODE,
                               "--dm-token", TOKEN, "--metrics", "--metrics-listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r":(\d+)$", server.stdout.readline().strip()).group(1))
        banner = ""
        while "metrics on" not in banner:
            banner += server.stderr.readline()
        metrics_port = int(re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", banner).group(1))
        session_url = f"http://127.0.0.1:{port}/metrics"
        own_url = f"http://127.0.0.1:{metrics_port}/metrics"

        # Another process publishes: 10 story beats in w1, 10 challenges in w2, 5 without a world.
        events = [{"type": "StoryEventCreated", "story_event_id": f"s{n}", "world_id": "w1", "event_type": "dialogue"}
                  for n in range(10)]
        events += [challenge_event("w2", n) for n in range(10)]
        events += [{"type": "GenerationBatchQueued", "batch_id": f"b{n}", "entity_type": "character",
                    "entity_id": "pc1", "asset_type": "portrait", "position": n} for n in range(5)]
        ids = [int(x) for x in run("publish", "--db", db, stdin="".join(json.dumps(e) + "\n" for e in events)).split()]
        check(len(ids) == 25, "25 events published by another process")

        # Through the session: two players and a DM join, three wrong codes, one roll.
        players = []
        for name in ("Sam", "Kim"):
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/")
            await ws.send(json.dumps({"type": "Join", "role": "player", "world_id": "w1", "name": name, "join_code": world_code(CODE, "w1")}))
            check(json.loads(await ws.recv())["type"] == "Joined", f"{name} joins")
            players.append(ws)
        dm = await websockets.connect(f"ws://127.0.0.1:{port}/")
        await dm.send(json.dumps({"type": "Join", "role": "dm", "world_id": "*", "name": "DM", "dm_token": TOKEN}))
        await dm.recv()
        for _ in range(3):
            async with websockets.connect(f"ws://127.0.0.1:{port}/") as bad:
                await bad.send(json.dumps({"type": "Join", "role": "player", "world_id": "w1", "name": "x",
                                           "join_code": "WRONG000"}))
                try:
                    await asyncio.wait_for(bad.recv(), 10)
                    await asyncio.wait_for(bad.recv(), 10)
                except (websockets.ConnectionClosed, asyncio.TimeoutError):
                    pass
        await players[0].send(json.dumps({"type": "ChallengeRoll", "challenge_id": challenge, "character_id": "Aria",
                                          "modifier": 2}))
        while json.loads(await players[0].recv())["type"] != "Published":
            pass

        total = 26
        status, ctype, text, s = await scrape_until(session_url, lambda s: value(s, "eventdesk_log_head_id") == total + 1)
        check(status == 200 and ctype.startswith("text/plain; version=0.0.4"), f"GET /metrics on the session port: {status} {ctype}")
        ok, said = promtool(text)
        check(ok, f"promtool check metrics accepts it {said[:300]}")
        check(value(s, "eventdesk_events_appended_total", type="StoryEventCreated") == 10, "10 story events counted")
        check(value(s, "eventdesk_events_appended_total", type="ChallengeResolved") == 11, "10 + 1 rolled challenges counted")
        check(value(s, "eventdesk_events_appended_total", type="GenerationBatchQueued") == 5, "5 generation jobs counted")
        check(sum(v for (n, _), v in s.items() if n == "eventdesk_events_appended_total") == total,
              "every event appended since start is counted once, the one before it not")
        _, _, _, own = await scrape_until(own_url, lambda s: value(s, "eventdesk_log_head_id") == total + 1)
        check(value(own, "eventdesk_world_events_appended_total", world="w1") == 11
              and value(own, "eventdesk_world_events_appended_total", world="w2") == 10,
              "by world on the metrics port of its own (w1: 10 beats and the roll)")
        check(value(s, "eventdesk_publish_duration_seconds_count") == 1
              and value(s, "eventdesk_published_events_total") == 1, "the session's one publish is timed")
        check(value(s, "eventdesk_publish_duration_seconds_bucket", le="+Inf") == 1, "a histogram with +Inf")
        check(value(s, "eventdesk_session_clients", role="player") == 2 and value(s, "eventdesk_session_clients", role="dm") == 1,
              "clients by role")
        check(value(s, "eventdesk_session_refused_total", reason="wrong_join_code") == 3, "refused joins by reason")
        check((value(s, "eventdesk_session_messages_sent_total") or 0) >= 4, "messages sent")
        check(value(s, "eventdesk_store_errors_total") == 0, "no store error")
        _, _, _, s = await scrape_until(session_url, lambda s: value(s, "eventdesk_subscriber_lag_events", subscriber="projector") == 0)
        check(value(s, "eventdesk_subscriber_lag_events", subscriber="projector") == 0, "the projector's lag falls to 0")
        check(not any("code" in k for (_, labels) in s for k, _ in labels) and CODE not in text, "no secret in the metrics")

        status, _, text2 = get(own_url)
        check(status == 200 and "eventdesk_events_appended_total" in text2, "GET /metrics on --metrics-listen's port")
        check(get(f"http://127.0.0.1:{metrics_port}/join")[0] == 404, "the metrics port serves nothing else")
        check(get(own_url, "POST")[0] == 405, "POST /metrics is 405")
        try:
            async with websockets.connect(f"ws://127.0.0.1:{metrics_port}/"):
                upgraded = True
        except websockets.InvalidStatusCode as e:
            upgraded = e.status_code != 403
        check(not upgraded, "the metrics port refuses WebSocket upgrades (403)")

        # Many worlds: the label stops at 32; the rest are summed as _other.
        many = [{"type": "StoryEventCreated", "story_event_id": f"m{n}", "world_id": f"world-{n:03d}",
                 "event_type": "dialogue"} for n in range(60)]
        run("publish", "--db", db, stdin="".join(json.dumps(e) + "\n" for e in many))
        _, _, text, s = await scrape_until(own_url, lambda s: value(s, "eventdesk_log_head_id") == total + 61)
        worlds = {dict(labels)["world"]: v for (n, labels), v in s.items() if n == "eventdesk_world_events_appended_total"}
        _, _, session_text, _ = await scrape_until(session_url, lambda s: value(s, "eventdesk_log_head_id") == total + 61)
        check("world=" not in session_text and "world-0" not in session_text and "w1" not in session_text,
              "the session port's metrics, which players can reach, name no world")
        check(len(worlds) == 33 and "_other" in worlds, f"32 worlds by name and _other ({len(worlds)} labels)")
        check(sum(worlds.values()) == 10 + 10 + 1 + 60, "the world counts still add up")
        ok, said = promtool(text)
        check(ok, f"promtool still accepts it {said[:200]}")
        for ws in players + [dm]:
            await ws.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return check.totals()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
