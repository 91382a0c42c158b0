"""eventdesk record against a stand-in engine (standin_engine.py): every
fixture message (built from the engine's own struct definitions, 70+ tags and
one from a newer engine) stored byte for byte, in order, once; a gap row for
a dropped connection and for an engine restart; the DM's seat never taken
without --as-dm; refusals said and ended; Pong and replies to the recorder's
own requests not kept; a 2 MiB message kept truncated with its marker; a
flood stored whole; SIGKILL loses nothing reported as stored."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, eventdesk, wait_for  # noqa: E402
from standin_engine import StandInEngine, new_uuid  # noqa: E402

EVENTDESK = sys.argv[1]
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "engine", "server_messages.jsonl")
WORLD = new_uuid()
KAEL = new_uuid()


def run(*args, ok=True):
    return eventdesk(EVENTDESK, *args, ok=ok)


def rows(db):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return c.execute("SELECT id, event_type, CAST(payload AS BLOB), created_at FROM app_events ORDER BY id").fetchall()


def recorded_worlds(db):
    with sqlite3.connect(f"file:{db}.eventdesk?mode=ro", uri=True) as c:
        return dict(c.execute("SELECT id, world FROM eventdesk_recorded").fetchall())


class Recorder:
    def __init__(self, db, engine, *extra):
        self.proc = subprocess.Popen([EVENTDESK, "record", "--db", db, "--create", "--engine", engine.url, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        import threading
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def stored(self):
        for line in reversed(self.lines):
            m = re.match(r"stored (\d+) message\(s\), through id (\d+)", line)
            if m:
                return int(m.group(1)), int(m.group(2))
        return 0, 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = None
        self.reader.join(5)
        return code


def fixtures():
    with open(FIXTURES, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def the_evening(tmp):
    """Fixtures, a drop, an engine restart, a 2 MiB message, heartbeats."""
    engine = StandInEngine({WORLD: "The Shattered Coast"}, pcs={WORLD: [(KAEL, "Kael Thorn")]}).start()
    port = engine.port
    script = fixtures()
    big = json.dumps({"type": "SceneUpdate", "scene": {"id": "sc-big", "name": "The archive",
                      "directorial_notes": "x" * (2 * 1024 * 1024)}, "characters": [], "interactions": []})
    first, second, third = script[:30], script[30:55], script[55:]
    engine.feed(first)
    engine.drop_after = 20
    db = os.path.join(tmp, "evening.db")
    rec = Recorder(db, engine, "--world", "The Shattered Coast", "--as-spectator", "Kael Thorn", "--heartbeat", "1")
    try:
        check(wait_for(lambda: any(l.startswith("eventdesk: recording") for l in rec.lines), 20),
              f"record joins the world found by name ({rec.lines[:1]})")
        check(wait_for(lambda: engine.next == len(first), 30), "the first 30 went out, over a connection dropped after 20")
        engine.feed(second)
        check(wait_for(lambda: engine.next == len(first) + len(second), 30), "the next 25 went out")
        check(wait_for(lambda: rec.stored()[0] >= len(first) + len(second) + 1, 20), "and are stored")
        engine.stop()  # an engine restart
        time.sleep(1.5)
        engine = StandInEngine(engine.worlds, pcs=engine.pcs, port=port).start()
        engine.script = list(script[:55])
        engine.next = 55
        engine.feed(third + [big])
        check(wait_for(lambda: engine.next == len(script) + 1, 60), "after the restart the rest went out")
        check(wait_for(lambda: rec.stored()[0] >= len(script) + 1 + 2, 30), f"and are stored ({rec.stored()})")
        time.sleep(1.2)
    finally:
        code = rec.stop()
        engine.stop()
    check(code == 0, f"record stops cleanly on SIGTERM ({code})")
    got = rows(db)
    engine_rows = [r for r in got if r[1] != "RecordingGap"]
    gaps = [r for r in got if r[1] == "RecordingGap"]
    payloads = [r[2].decode() for r in engine_rows]
    check(payloads[:len(script)] == script, "every fixture stored byte for byte, in order, once")
    check(len(engine_rows) == len(script) + 1, f"no message stored twice ({len(engine_rows)} rows for {len(script) + 1} sent)")
    check([r[1] for r in engine_rows[:len(script)]] == [json.loads(t)["type"] for t in script],
          "event_type is each message's tag")
    check(len({json.loads(t)["type"] for t in script}) >= 40, "the fixtures hold 40 tags and more")
    check(len(gaps) == 2, f"a gap row for the drop and one for the restart ({len(gaps)})")
    ids = [r[0] for r in got]
    drop_gap, restart_gap = (ids.index(g[0]) for g in gaps)
    check(drop_gap == 20 and restart_gap == 56, f"each gap stands where the connection was lost ({drop_gap}, {restart_gap})")
    gap = json.loads(gaps[1][2])
    check(gap["world_id"] == WORLD and gap["from"] < gap["to"] and gap["engine"].endswith("/ws"),
          f"a gap says from when to when, and which engine ({gap})")
    truncated = json.loads(engine_rows[-1][2])
    check(engine_rows[-1][1] == "SceneUpdate" and truncated["eventdesk_truncated"]["original_bytes"] > 2 * 1024 * 1024
          and len(engine_rows[-1][2]) <= 1024 * 1024, "a 2 MiB message is kept truncated, with a marker")
    check(not any(r[1] in ("Pong", "Response", "WorldJoined") for r in got),
          "Pong, replies to the recorder's own requests and the join's answer are not kept")
    worlds = recorded_worlds(db)
    check(all(worlds.get(r[0]) == WORLD for r in engine_rows), "every message is in the joined world")
    check(all(j["role"] == "Spectator" and j["user_id"].startswith("eventdesk-recorder-") for j in engine.joins)
          and engine.heartbeats >= 1, f"joined as a spectator, with a user id of its own, and kept alive ({engine.joins[-1]})")
    check(engine.joins[-1]["spectate_pc_id"] == KAEL, "the player character to spectate found by name")
    created = [r[3] for r in got]
    check(created == sorted(created), "created_at is when each arrived, in order")

    table = run("tail", "--db", db, "--format", "table").stdout
    check("Mara Quell: “Another storm's coming, love.”" in table, "tail says what the engine said, in words")
    check("Kael Thorn — Read Mara: success (14 + 2 = 16)" in table, "a recorded roll reads as one")
    check("HarbourBellRang" in table and "Not connected" in table, "a newer engine's tag and the gaps are shown")
    check("The Shattered Co" in table and WORLD[:12] not in table, "the world shows by the engine's name for it, not its id")
    # Export and import round-trip them: the same bytes, the same world.
    exported = os.path.join(tmp, "evening.jsonl")
    run("export", "--db", db, "--format", "jsonl", "-o", exported)
    copy = os.path.join(tmp, "copy.db")
    imported = run("import", "--db", copy, "--create", exported, ok=False)
    check(imported.returncode == 0, f"the export imports ({imported.stderr.strip()[:200]})")
    back = rows(copy)
    check([(r[1], r[2]) for r in back] == [(r[1], r[2]) for r in got] and [r[3] for r in back] == [r[3] for r in got],
          "export → import: every row's type, bytes and time come back")
    check(set(recorded_worlds(copy).values()) == {WORLD}, "and each recorded message its world")
    dialogue = run("tail", "--db", db, "--type", "DialogueResponse", "--format", "jsonl").stdout.splitlines()
    check(len(dialogue) == sum('"DialogueResponse"' in t for t in script), f"tail --type takes an engine tag ({len(dialogue)})")
    rolls = run("tail", "--db", db, "--type", "ChallengeResolved", "--format", "jsonl").stdout.splitlines()
    check(len(rolls) == 1 and json.loads(rolls[0])["raw"] == next(t for t in script if '"ChallengeResolved"' in t),
          f"tail --type ChallengeResolved finds the recorded roll ({len(rolls)})")


def refusals(tmp):
    engine = StandInEngine({WORLD: "The Shattered Coast"}).start()
    try:
        db = os.path.join(tmp, "refused.db")
        r = subprocess.run([EVENTDESK, "record", "--db", db, "--create", "--engine", engine.url, "--world", new_uuid()],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and "no such world" in r.stderr, f"WorldNotFound is said and ends it ({r.stderr.strip()})")
        r = subprocess.run([EVENTDESK, "record", "--db", db, "--create", "--engine", engine.url, "--world", WORLD,
                            "--as-dm"], capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and "DM's seat" in r.stderr, f"--as-dm with another user's seat taken ({r.stderr.strip()})")
        check("gives the DM's seat to this connection" in r.stderr, "--as-dm says what it does")
        engine.refuse = "SpectatorRequiresTarget"
        r = subprocess.run([EVENTDESK, "record", "--db", db, "--create", "--engine", engine.url, "--world", WORLD],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and "spectate" in r.stderr, f"SpectatorRequiresTarget is said ({r.stderr.strip()})")
        r = subprocess.run([EVENTDESK, "record", "--db", db, "--create", "--engine", engine.url, "--world", "Nowhere"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and "The Shattered Coast" in r.stderr, "a world name the engine lacks lists the ones it has")
        r = subprocess.run([EVENTDESK, "record", "--db", db, "--engine", "http://127.0.0.1:1/ws", "--world", WORLD],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and "ws://" in r.stderr, "an engine URL that is not ws:// is bad usage")
        check(all(j["role"] == "Spectator" for j in engine.joins if j not in engine.joins[1:2]),
              "without --as-dm every join is a spectator's")
    finally:
        engine.stop()


def into_redis(tmp):
    """On the test command's Redis: record keeps every message in a stream,
    with its world; tail filters them by tag and world; an export of them
    imports into another stream and into SQLite, byte for byte."""
    redis = os.environ.get("EVENTDESK_TEST_REDIS")  # the test command's throw-away redis-server
    if not redis:
        print("SKIP into_redis: no EVENTDESK_TEST_REDIS")
        return
    bus = f"redis://{redis}/0?stream=record-test-{new_uuid()}"
    engine = StandInEngine({WORLD: "The Shattered Coast"}, pcs={WORLD: [(KAEL, "Kael Thorn")]}).start()
    script = fixtures()
    engine.feed(script[:40])
    engine.drop_after = 25
    proc = subprocess.Popen([EVENTDESK, "record", "--bus", bus, "--engine", engine.url, "--world", WORLD,
                             "--as-spectator", "Kael Thorn"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        check(wait_for(lambda: engine.next == 40, 30), "the stand-in sent 40, over a connection dropped after 25")
        listed = lambda: run("tail", "--bus", bus, "--format", "jsonl", "--limit", "1000").stdout.splitlines()
        check(wait_for(lambda: len(listed()) >= 41, 30), "and all of them, with a gap row, are in the stream")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = None
        engine.stop()
    check(code == 0, f"record on a Redis bus stops cleanly ({code}: {proc.stderr.read().strip()[-300:]})")
    got = [json.loads(l) for l in listed()]
    engine_rows = [r for r in got if r["event_type"] != "RecordingGap"]
    check([r["raw"] for r in engine_rows] == script[:40], "every message is in the stream byte for byte, in order, once")
    check(all(r["recorded"]["world_id"] == WORLD for r in got), "each entry keeps the world it came from")
    check(sum(r["event_type"] == "RecordingGap" for r in got) == 1, "the drop is a gap row")
    tagged = run("tail", "--bus", bus, "--format", "jsonl", "--type", "DialogueResponse", "--world", WORLD).stdout.splitlines()
    want = [t for t in script[:40] if json.loads(t)["type"] == "DialogueResponse"]
    check([json.loads(l)["raw"] for l in tagged] == want and want, f"tail --type DialogueResponse --world W reads them ({len(tagged)})")
    other = run("tail", "--bus", bus, "--format", "jsonl", "--world", new_uuid()).stdout.strip()
    check(other == "", "another world's filter keeps none of them")

    exported = os.path.join(tmp, "redis-export.jsonl")
    run("export", "--bus", bus, "--format", "jsonl", "--output", exported)
    again = f"redis://{redis}/0?stream=record-test-{new_uuid()}"
    imported = run("import", "--bus", again, exported, ok=False)
    check(imported.returncode == 0, f"the export imports into another stream ({imported.stderr.strip()})")
    back = [json.loads(l) for l in run("tail", "--bus", again, "--format", "jsonl", "--limit", "1000").stdout.splitlines()]
    check([(r["event_type"], r["raw"], r["recorded"]["world_id"]) for r in back]
          == [(r["event_type"], r["raw"], r["recorded"]["world_id"]) for r in got], "and back: same tags, bytes and worlds")
    db = os.path.join(tmp, "from-redis.db")
    run("import", "--db", db, "--create", exported)
    check([r[2].decode() for r in rows(db) if r[1] != "RecordingGap"] == script[:40], "and into SQLite, byte for byte")
    check(set(recorded_worlds(db).values()) == {WORLD}, "with their world")


def flood_and_kill(tmp):
    engine = StandInEngine({WORLD: "The Shattered Coast"}).start()
    lines = [json.dumps({"type": "DialogueResponse", "speaker_id": KAEL, "speaker_name": "Mara Quell",
                         "text": f"line {n} " + "words " * 40, "choices": []}) for n in range(10000)]
    engine.feed(lines)
    db = os.path.join(tmp, "flood.db")
    rec = Recorder(db, engine, "--world", WORLD)
    try:
        check(wait_for(lambda: rec.stored()[0] >= 10000, 120), f"a flood of 10,000 is stored ({rec.stored()})")
    finally:
        rec.stop()
    got = [r[2].decode() for r in rows(db)]
    check(got == lines, f"all 10,000, in order, none lost ({len(got)})")

    engine.paced = 0.0005
    more = [json.dumps({"type": "LocationEvent", "region_id": KAEL, "description": f"wave {n}"}) for n in range(10000)]
    db = os.path.join(tmp, "killed.db")
    engine.next = len(engine.script)
    engine.feed(more)
    rec = Recorder(db, engine, "--world", WORLD)
    wait_for(lambda: rec.stored()[0] >= 500, 60)
    reported = rec.stored()
    rec.proc.send_signal(signal.SIGKILL)
    rec.proc.wait(10)
    engine.stop()
    kept = [r[2].decode() for r in rows(db)]
    check(reported[0] >= 500 and len(kept) >= reported[0], f"SIGKILL loses nothing reported as stored ({reported[0]} reported, {len(kept)} kept)")
    check(kept == more[:len(kept)], "what was kept is the start of what was sent, in order")


def webhooks_on_recorded(tmp):
    """A webhook rule picks an engine tag; serve delivers what record keeps."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    posts = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            posts.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0")))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    db = os.path.join(tmp, "hooked.db")
    run("publish", "--db", db, "--create", "--json", json.dumps(
        {"type": "StoryEventCreated", "story_event_id": "s0", "world_id": WORLD, "event_type": "dialogue"}))
    added = run("notify", "add", "--db", db, "--url", f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                "--type", "DialogueResponse", ok=False)
    check(added.returncode == 0, f"a webhook rule can pick an engine tag ({added.stderr.strip()})")
    serve = subprocess.Popen([EVENTDESK, "serve", "--db", db, "--listen", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    serve.stdout.readline()
    engine = StandInEngine({WORLD: "The Shattered Coast"}).start()
    engine.feed(fixtures())
    rec = Recorder(db, engine, "--world", WORLD)
    try:
        got = wait_for(lambda: len(posts) >= 2, 30)
        texts = sorted(p.get("text", "") for p in posts)
        check(got and len(posts) == 2 and all(p["event_type"] == "DialogueResponse" for p in posts)
              and texts[0].startswith("Mara Quell: "), f"serve delivers the recorded DialogueResponses, in words ({texts})")
    finally:
        rec.stop()
        engine.stop()
        serve.terminate()
        serve.wait(15)
        receiver.shutdown()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        the_evening(tmp)
        webhooks_on_recorded(tmp)
        refusals(tmp)
        into_redis(tmp)
        flood_and_kill(tmp)
    return check.totals()


if __name__ == "__main__":
    sys.exit(main())
