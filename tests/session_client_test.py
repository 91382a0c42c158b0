#!/usr/bin/env python3
"""Drives `eventdesk serve` with a WebSocket client written elsewhere: Python's
`websockets`. Checks protocol 2 as an outside client author would meet it:
joining, world-scoped routing, resume, challenge rolls, replay, and refusals.
Routing is checked against a sentinel event that must arrive last, never
against a quiet period.
Usage: session_client_test.py path/to/eventdesk"""

import asyncio
import json
import re
import os
import ssl
import subprocess
import sys
import tempfile

import websockets

from checks import check, world_code

EVENTDESK = sys.argv[1]
JOIN_CODE = "TESTCODE42"
DM_TOKEN = "0123456789abcdef0123456789abcdef"


def close_code(exc):
    rcvd = getattr(exc, "rcvd", None)
    return rcvd.code if rcvd is not None else getattr(exc, "code", None)


async def join(url, role, world, name, last_seq=None, secret=None):
    ws = await websockets.connect(url, max_size=2**20)
    msg = {"type": "Join", "role": role, "world_id": world, "name": name}
    if role == "dm":
        msg["dm_token"] = secret or DM_TOKEN
    else:
        msg["join_code"] = secret or world_code(JOIN_CODE, world)
    if last_seq is not None:
        msg["last_seq"] = last_seq
    await ws.send(json.dumps(msg))
    joined = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return ws, joined


async def until(ws, last, seconds=5):
    """Every message up to and including the first for which last(message) holds.
    Raises TimeoutError if it does not come: the caller's check then fails."""
    out = []
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), seconds))
        out.append(m)
        if last(m):
            return out


def story(world, marker):
    return {"type": "StoryEventCreated", "story_event_id": marker, "world_id": world, "event_type": "sentinel"}


def is_marker(marker):
    return lambda m: m.get("story_event_id") == marker or m.get("batch_id") == marker


async def sentinels(dm, marker):
    """A story event in w1 and w2 and a global one: each client stops reading at the one it may see."""
    await publish(dm, story("w1", marker))
    await publish(dm, story("w2", marker))
    await publish(dm, {"type": "GenerationBatchProgress", "batch_id": marker, "progress": 1, "session_id": None})


async def publish(dm, event):
    await dm.send(json.dumps({"type": "Publish", "event": event}))


def challenge(world, who, success=True):
    return {"type": "ChallengeResolved", "challenge_name": "Pick the lock", "world_id": world,
            "character_id": who, "success": success, "roll": 12, "total": 15}


async def main(url, challenge_id):
    dm_all, joined = await join(url, "dm", "*", "Game master")
    check(joined["type"] == "Joined" and joined["role"] == "dm" and joined["world_id"] == "*"
          and joined.get("protocol") == 2, "DM joins every world, protocol 2")
    p1, j1 = await join(url, "player", "w1", "Alice")
    p2, _ = await join(url, "player", "w2", "Bob")
    dm1, _ = await join(url, "dm", "w1", "Co-DM")
    check(j1["type"] == "Joined" and isinstance(j1["head_seq"], int), "player joins with a head_seq")

    await publish(dm_all, challenge("w1", "pc7"))
    await publish(dm_all, {"type": "StoryEventCreated", "story_event_id": "s1", "world_id": "w2", "event_type": "dialogue"})
    await publish(dm_all, {"GenerationBatchProgress": {"batch_id": "b1", "progress": 200}})
    await sentinels(dm_all, "end-1")
    got = {"p1": await until(p1, is_marker("end-1")), "p2": await until(p2, is_marker("end-1")),
           "dm1": await until(dm1, lambda m: m.get("batch_id") == "end-1"),
           "dm_all": await until(dm_all, lambda m: m.get("batch_id") == "end-1")}
    types = {k: [m["type"] for m in v if m["type"] != "Published" and m.get("event_type") != "sentinel"
                 and m.get("batch_id") != "end-1"] for k, v in got.items()}
    check(types["p1"] == ["ChallengeResolved"], f"player w1 sees only its world's challenge ({types['p1']})")
    check(types["p2"] == ["StoryEventCreated"], f"player w2 sees only its story event ({types['p2']})")
    check(types["dm1"] == ["ChallengeResolved", "GenerationProgress"], f"DM of w1 sees w1 and global events ({types['dm1']})")
    check(types["dm_all"] == ["ChallengeResolved", "StoryEventCreated", "GenerationProgress"], "DM of * sees everything")
    check([m for m in got["dm_all"] if m["type"] == "GenerationProgress"][0]["progress"] == 200,
          "progress is the engine's u8: 200 is accepted")
    published = [m for m in got["dm_all"] if m["type"] == "Published"]
    if len(published) < 6:  # the last ones may come after the sentinel's own message
        published += [m for m in await until(dm_all, lambda m: m["type"] == "Published") if m["type"] == "Published"]
        while len(published) < 6:
            published.append(json.loads(await asyncio.wait_for(dm_all.recv(), 5)))
    check(len(published) == 6 and all(m["type"] == "Published" for m in published)
          and [m["seq"] for m in published] == sorted(m["seq"] for m in published),
          "each Publish is answered with Published, in order")
    msg = got["p1"][0]
    check(msg["seq"] == published[0]["seq"] and msg["replay"] is False and msg["created_at"].endswith("Z")
          and msg["character_id"] == "pc7" and msg["roll"] == 12, "event message carries seq, created_at, replay and the fields")
    # What the engine's own clients require of a ChallengeResolved.
    engine = {"challenge_id": str, "challenge_name": str, "character_name": str, "roll": int, "modifier": int,
              "total": int, "outcome": str, "outcome_description": str}
    check(all(isinstance(msg.get(k), t) for k, t in engine.items()) and msg["modifier"] == 3
          and msg["outcome"] == "success" and msg["roll_breakdown"] == "1d20(12) + 3 = 15",
          f"ChallengeResolved has every field the engine's clients parse ({msg})")

    # Resume: Alice drops; two events happen; she comes back with her last position.
    last = msg["seq"]
    await p1.close()
    await publish(dm_all, challenge("w1", "pc8", False))
    await publish(dm_all, challenge("w2", "pc9"))
    await publish(dm_all, {"type": "NarrativeEventTriggered", "event_id": "n1", "world_id": "w1",
                           "event_name": "The bridge", "outcome_name": "falls"})
    await publish(dm_all, story("w1", "end-2"))
    await until(dm_all, lambda m: m.get("story_event_id") == "end-2")
    p1, _ = await join(url, "player", "w1", "Alice", last_seq=last)
    resumed = [m for m in await until(p1, is_marker("end-2")) if m.get("event_type") != "sentinel"]
    check([m["type"] for m in resumed] == ["ChallengeResolved", "NarrativeEventTriggered"]
          and resumed[0]["character_id"] == "pc8" and resumed[1]["event_id"] == "n1"
          and resumed[1]["event_name"] == "The bridge" and resumed[1]["outcome_description"] == "falls"
          and isinstance(resumed[1]["scene_direction"], str),
          f"resume delivers what was missed, in order, narrative events as the engine sends them ({resumed})")
    check(all(m["seq"] > last for m in resumed), "resume sends nothing twice")

    # A challenge roll by a player.
    await p1.send(json.dumps({"type": "ChallengeRoll", "challenge_id": challenge_id, "character_id": "pc7", "modifier": 3}))
    rolled = await until(p1, lambda m: m["type"] == "ChallengeResolved")
    resolved = rolled[-1]
    check(1 <= resolved["roll"] <= 20 and resolved["total"] == resolved["roll"] + 3 and resolved["modifier"] == 3
          and resolved["success"] == (resolved["total"] >= 15) and resolved.get("session_id"),
          "ChallengeRoll rolls d20 + modifier against the difficulty")
    check(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", resolved["character_id"])
          and resolved["character_name"] == "pc7",
          f"a character named in a roll gets a UUID, and keeps its name for display ({resolved['character_id']})")
    await p1.send(json.dumps({"type": "ChallengeRoll", "challenge_id": "nope", "character_id": "pc7", "modifier": 0}))
    err = (await until(p1, lambda m: m["type"] == "Error"))[-1]
    check(err["code"] == "not_found", "unknown challenge: not_found")

    # Replay by the DM: marked replay, original positions; the player may not.
    await sentinels(dm_all, "end-3")
    await until(p2, is_marker("end-3"))
    await until(dm_all, lambda m: m.get("batch_id") == "end-3")
    await dm_all.send(json.dumps({"type": "Replay", "from_seq": 1, "to_seq": 2}))
    done = [m for m in await until(dm_all, lambda m: m["type"] == "Replayed") if m["type"] == "Replayed"]
    await sentinels(dm_all, "end-4")
    replayed = [m for m in await until(p2, is_marker("end-4")) if m.get("event_type") != "sentinel"]
    check([(m["type"], m["replay"], m["seq"]) for m in replayed] == [("StoryEventCreated", True, 2)],
          f"replayed events carry replay: true and their own seq ({replayed})")
    check(len(done) == 1 and done[0]["events"] == 2, "the DM is told how many events were replayed")
    await p2.send(json.dumps({"type": "Replay", "from_seq": 1, "to_seq": 2}))
    err = (await until(p2, lambda m: m["type"] == "Error"))[-1]
    check(err["code"] == "forbidden", "a player's Replay is forbidden")
    await p2.send(json.dumps({"type": "Publish", "event": challenge("w2", "x")}))
    err = (await until(p2, lambda m: m["type"] == "Error"))[-1]
    check(err["code"] == "forbidden", "a player's Publish is forbidden")

    # Malformed input keeps the connection; a DM's invalid event names the field.
    await p2.send("{not json")
    err = json.loads(await asyncio.wait_for(p2.recv(), 5))
    check(err["type"] == "Error" and err["code"] == "bad_json", "malformed JSON: bad_json")
    await p2.send(json.dumps({"type": "Dance"}))
    err = json.loads(await asyncio.wait_for(p2.recv(), 5))
    check(err["code"] == "bad_message", "unknown type: bad_message")
    await p2.send(json.dumps({"type": "Ping", "nonce": "n-1"}))
    pong = json.loads(await asyncio.wait_for(p2.recv(), 5))
    check(pong == {"type": "Pong", "nonce": "n-1"}, "the connection stays open after errors")
    await publish(dm_all, {"type": "ChallengeResolved", "world_id": "w1"})
    err = [m for m in await until(dm_all, lambda m: m["type"] == "Error") if m["type"] == "Error"]
    check(len(err) == 1 and err[0]["code"] == "invalid_event" and "challenge_name" in err[0]["message"],
          "an invalid event is refused, naming the field")

    # Refusals.
    bad, reply = await join(url, "player", "w1", "Mallory", secret="WRONGCODE")
    check(reply["type"] == "Error" and reply["code"] == "unauthorized", "a wrong join code gets Error unauthorized")
    try:
        await asyncio.wait_for(bad.recv(), 5)
        check(False, "a wrong join code closes the connection")
    except websockets.ConnectionClosed as e:
        check(close_code(e) == 1008, f"then close 1008 (got {close_code(e)})")
    ws = await websockets.connect(url, max_size=2**20)
    await ws.send(json.dumps({"type": "Join", "role": "player", "world_id": "w1", "name": "Eve", "join_code": world_code(JOIN_CODE, "w1")}))
    await ws.recv()
    try:
        await ws.send("x" * (100 * 1024))
        await asyncio.wait_for(ws.recv(), 5)
        check(False, "a 100 KiB frame closes the connection")
    except websockets.ConnectionClosed as e:
        check(close_code(e) == 1009, f"a 100 KiB frame: close 1009 (got {close_code(e)})")
    try:
        await websockets.connect(url, origin="http://evil.example")
        check(False, "a foreign Origin is refused")
    except websockets.InvalidStatusCode as e:
        check(e.status_code == 403, "a foreign Origin is refused with 403")
    ok, joined = await join_with_origin(url, "http://localhost:5173")
    check(joined["type"] == "Joined", "a localhost Origin is accepted and joins")
    await ok.close()


async def join_with_origin(url, origin):
    ws = await websockets.connect(url, origin=origin)
    await ws.send(json.dumps({"type": "Join", "role": "player", "world_id": "w1", "name": "Local", "join_code": world_code(JOIN_CODE, "w1")}))
    return ws, json.loads(await asyncio.wait_for(ws.recv(), 5))


async def tls_session(url):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # a self-signed certificate made for this test
    async with websockets.connect(url, ssl=ctx) as ws:
        await ws.send(json.dumps({"type": "Join", "role": "player", "world_id": "w1", "name": "Tess", "join_code": world_code(JOIN_CODE, "w1")}))
        joined = json.loads(await asyncio.wait_for(ws.recv(), 5))
        await ws.send(json.dumps({"type": "Ping", "nonce": "tls"}))
        pong = json.loads(await asyncio.wait_for(ws.recv(), 5))
    check(joined["type"] == "Joined" and pong == {"type": "Pong", "nonce": "tls"}, "wss:// works with --tls-cert/--tls-key")
    try:
        plain = await websockets.connect(url.replace("wss://", "ws://"), open_timeout=5)
        await plain.close()
        check(False, "plain ws:// to a wss:// server is refused")
    except (websockets.InvalidMessage, websockets.InvalidHandshake, ConnectionError, asyncio.TimeoutError) as e:
        # The TLS server reads the plain HTTP request as a broken handshake and ends the connection.
        check(True, f"plain ws:// to a wss:// server is refused ({type(e).__name__})")


def run_tls(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                           "-days", "1", "-subj", "/CN=localhost"], capture_output=True)
    if made.returncode != 0:
        check(False, "openssl made a test certificate")
        return
    server = subprocess.Popen([EVENTDESK, "serve", "--db", os.path.join(tmp, "tls.db"), "--listen", "127.0.0.1:0",
                               "--join-code", JOIN_CODE, "--tls-cert", cert, "--tls-key", key, "--world", "w1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline().strip()
        check(line.startswith("eventdesk: listening on wss://127.0.0.1:"), f"serve with TLS says wss ({line})")
        asyncio.run(asyncio.wait_for(tls_session(line.split(" on ", 1)[1]), 60))
    finally:
        server.terminate()
        server.wait(10)


def run():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "session.db")
        add = subprocess.run([EVENTDESK, "challenge", "add", "--db", db, "--world", "w1", "--name", "Pick the lock",
                              "--difficulty", "15"], capture_output=True, text=True, check=True)
        challenge_id = add.stdout.strip()
        server = subprocess.Popen([EVENTDESK, "serve", "--db", db, "--listen", "127.0.0.1:0", "--join-code", JOIN_CODE,
                                   "--dm-token", DM_TOKEN, "--world", "w2", "--world", "w1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = server.stdout.readline().strip()
            check(line.startswith("eventdesk: listening on ws://127.0.0.1:"), f"serve prints where it listens ({line})")
            url = line.split(" on ", 1)[1]
            port = url.rsplit(":", 1)[1]
            # One join line per open world, each with that world's own code.
            joins = [server.stdout.readline().strip() for _ in range(2)]
            want = [f"join: http://127.0.0.1:{port}/join?world={w}&code={world_code(JOIN_CODE, w)}" for w in ("w1", "w2")]
            check(joins == want, f"serve prints each world's join link with its own code ({joins})")
            asyncio.run(asyncio.wait_for(main(url, challenge_id), 120))
        finally:
            server.terminate()
            check(server.wait(10) == 0, "serve stops cleanly on SIGTERM")
        run_tls(tmp)
    return check.totals()


if __name__ == "__main__":
    sys.exit(run())
