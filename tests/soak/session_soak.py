#!/usr/bin/env python3
"""A long session under load and attack, against `eventdesk serve` on loopback.

200 players join, leave, roll and resume at random (clean closes and dropped
connections alike), a DM publishes story beats into four worlds, and attackers
keep idle sockets open, guess join codes, send unmasked and oversized frames.
RSS, descriptors and CPU of the server are sampled every minute and printed as
a table. At the end every player's stream is checked against the log: each
event of its world after its first join, once, in order: no gap, no duplicate.

Not part of CI; run it with installer/soak.sh [minutes] (default 30)."""

import asyncio
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import world_code  # noqa: E402

EVENTDESK = sys.argv[1]
MINUTES = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
PLAYERS = 200
WORLDS = ["w-north", "w-south", "w-east", "w-west"]
JOIN_CODE = "SOAKCODE"
DM_TOKEN = "5oak5oak5oak5oak5oak5oak5oak5oak"
PLAYER_TYPES = {"StoryEventCreated", "NarrativeEventTriggered", "ChallengeResolved"}


class Player:
    def __init__(self, index):
        self.index = index
        self.world = WORLDS[index % len(WORLDS)]
        self.start = None     # the head at the first join
        self.last = None      # the last event id seen
        self.ids = []         # every event id received, in order
        self.sessions = 0
        self.rolls = 0
        self.errors = []


async def player_loop(p, url, challenge, stop_at):
    rng = random.Random(p.index)
    await asyncio.sleep(rng.uniform(0, 5))  # players arrive over a few seconds
    while time.monotonic() < stop_at:
        try:
            # Each player from an address of its own, as at a table on a LAN.
            async with websockets.connect(url, max_size=2**20, open_timeout=10, close_timeout=2,
                                          local_addr=(f"127.0.1.{p.index + 1}", 0)) as ws:
                join = {"type": "Join", "role": "player", "world_id": p.world, "name": f"player {p.index}",
                        "join_code": world_code(JOIN_CODE, p.world)}
                if p.last is not None:
                    join["last_seq"] = p.last
                await ws.send(json.dumps(join))
                joined = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if joined.get("type") != "Joined":
                    p.errors.append(f"join refused: {joined}")
                    await asyncio.sleep(1)
                    continue
                if p.start is None:
                    p.start = joined["head_seq"]
                    p.last = p.start
                p.sessions += 1
                stay_until = min(stop_at, time.monotonic() + rng.uniform(5, 90))
                next_roll = time.monotonic() + rng.uniform(3, 20)
                while time.monotonic() < stay_until:
                    if time.monotonic() >= next_roll:
                        await ws.send(json.dumps({"type": "ChallengeRoll", "challenge_id": challenge[p.world],
                                                  "character_id": f"pc-{p.index}", "modifier": rng.randint(-3, 5)}))
                        p.rolls += 1
                        next_roll = time.monotonic() + rng.uniform(5, 30)
                    try:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                    except asyncio.TimeoutError:
                        continue
                    if message.get("type") in PLAYER_TYPES:
                        event_id = message["seq"]
                        p.ids.append(event_id)
                        p.last = max(p.last, event_id)
                        if message.get("world_id") != p.world:
                            p.errors.append(f"event {event_id} of world {message.get('world_id')}")
                    elif message.get("type") == "Error":
                        p.errors.append(f"error: {message}")
                if rng.random() < 0.3:
                    ws.transport.abort()  # dropped, not closed: the server finds out by itself
        except Exception as e:  # noqa: BLE001 - the session goes on; the checks at the end decide
            if time.monotonic() < stop_at:
                p.errors.append(f"{type(e).__name__}: {e}")
        await asyncio.sleep(rng.uniform(0, 3))


async def dm_loop(url, stop_at):
    published = 0
    await asyncio.sleep(6)  # after the players have arrived
    async with websockets.connect(url, max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "Join", "role": "dm", "world_id": "*", "name": "soak DM", "dm_token": DM_TOKEN}))
        await ws.recv()

        async def reader():
            try:
                async for _ in ws:
                    pass
            except websockets.ConnectionClosed:
                pass

        read = asyncio.create_task(reader())
        k = 0
        while time.monotonic() < stop_at:
            world = WORLDS[k % len(WORLDS)]
            await ws.send(json.dumps({"type": "Publish", "event": {
                "type": "StoryEventCreated", "story_event_id": f"beat-{k}", "world_id": world, "event_type": "beat"}}))
            k += 1
            published += 1
            await asyncio.sleep(0.2)
        read.cancel()
    return published


def frame(payload, masked=True):
    head = bytes([0x81])
    n = len(payload)
    bit = 0x80 if masked else 0
    head += bytes([bit | n]) if n < 126 else (bytes([bit | 126]) + struct.pack(">H", n) if n < 65536
                                              else bytes([bit | 127]) + struct.pack(">Q", n))
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


HANDSHAKE = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


async def attacker_loop(port, stop_at):
    """Idle sockets from 127.0.0.2-9, wrong join codes, unmasked and oversized frames."""
    rng = random.Random(99)
    counts = {"idle": 0, "guess": 0, "unmasked": 0, "oversized": 0}

    async def one(kind, source):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        except OSError:
            return
        counts[kind] += 1
        if kind == "guess":
            wrong = json.dumps({"type": "Join", "role": "player", "world_id": "w-north", "name": "x",
                                "join_code": f"GUESS{rng.randint(0, 999999):06d}"}).encode()
            writer.write(HANDSHAKE + frame(wrong))
        elif kind == "unmasked":
            writer.write(HANDSHAKE + frame(b'{"type":"Ping"}', masked=False))
        elif kind == "oversized":
            writer.write(HANDSHAKE + frame(b"x" * 70000))
        try:
            await asyncio.wait_for(reader.read(), 20 if kind == "idle" else 40)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        writer.close()

    tasks = set()
    while time.monotonic() < stop_at:
        kind = rng.choice(["idle", "idle", "idle", "guess", "unmasked", "oversized"])
        source = f"127.0.0.{rng.randint(2, 9)}"
        task = asyncio.create_task(one(kind, source))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        await asyncio.sleep(0.05)
    for t in list(tasks):
        t.cancel()
    return counts


def sample(pid, started_cpu, started_at):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return rss, fds, cpu


async def sampler(pid, stop_at, rows):
    last_cpu = sample(pid, 0, 0)[2]
    last_t = time.monotonic()
    started = last_t
    while time.monotonic() < stop_at:
        await asyncio.sleep(min(60, max(0.1, stop_at - time.monotonic())))
        rss, fds, cpu = sample(pid, 0, 0)
        now = time.monotonic()
        rows.append((now - started, rss, fds, (cpu - last_cpu) / (now - last_t) * 100))
        print(f"  {rows[-1][0] / 60:6.1f} min  RSS {rss / 1024:7.1f} MB  descriptors {fds:5d}  CPU {rows[-1][3]:5.1f} %",
              flush=True)
        last_cpu, last_t = cpu, now


async def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "soak.db")
        challenge = {}
        for world in WORLDS:
            out = subprocess.run([EVENTDESK, "challenge", "add", "--db", db, "--world", world, "--name",
                                  "Climb the wall", "--difficulty", "12"], capture_output=True, text=True)
            challenge[world] = out.stdout.strip()
        log = open(os.path.join(tmp, "serve.log"), "w")
        server = subprocess.Popen([EVENTDESK, "serve", "--db", db, "--listen", "127.0.0.1:0", "--join-code", JOIN_CODE,
                                   "--dm-token", DM_TOKEN, "--max-clients", "400",
                                   *[arg for world in WORLDS for arg in ("--world", world)]],
                                  stdout=subprocess.PIPE, stderr=log, text=True)
        url = server.stdout.readline().strip().rsplit(" ", 1)[-1]
        port = int(url.rsplit(":", 1)[-1])
        stop_at = time.monotonic() + MINUTES * 60
        print(f"soak: {MINUTES:g} minutes, {PLAYERS} players, server pid {server.pid}", flush=True)
        rows = []
        players = [Player(i) for i in range(PLAYERS)]
        try:
            results = await asyncio.gather(
                sampler(server.pid, stop_at + 15, rows),
                dm_loop(url, stop_at),
                attacker_loop(port, stop_at),
                *(player_loop(p, url, challenge, stop_at) for p in players))
            published, attacks = results[1], results[2]
        finally:
            server.terminate()
            server.wait(30)
            log.close()

        events = subprocess.run([EVENTDESK, "tail", "--db", db, "--format", "jsonl"], capture_output=True, text=True)
        by_world = {w: [] for w in WORLDS}
        for line in events.stdout.splitlines():
            row = json.loads(line)
            event = row.get("event") or {}
            if event.get("type") in PLAYER_TYPES and event.get("world_id") in by_world:
                by_world[event["world_id"]].append(row["id"])

        gaps = duplicates = out_of_order = misrouted = 0
        for p in players:
            if p.start is None:
                continue
            expected = [i for i in by_world[p.world] if p.start < i <= p.last]
            got = p.ids
            duplicates += len(got) - len(set(got))
            out_of_order += sum(1 for a, b in zip(got, got[1:]) if b <= a)
            gaps += len(set(expected) - set(got))
            misrouted += len(set(got) - set(expected))
        attack_total = sum(attacks.values())
        print("\nsoak: per minute")
        print("   minute   RSS MB   descriptors   CPU %")
        for t, rss, fds, cpu in rows:
            print(f"   {t / 60:6.1f}  {rss / 1024:7.1f}   {fds:11d}   {cpu:5.1f}")
        print(f"\nsoak: {published} events published by the DM, {sum(p.rolls for p in players)} rolls, "
              f"{sum(p.sessions for p in players)} player sessions, {attack_total} attacks {attacks}")
        print(f"soak: gaps {gaps}, duplicates {duplicates}, out of order {out_of_order}, misrouted {misrouted}")
        errors = [e for p in players for e in p.errors]
        print(f"soak: player-side errors {len(errors)} (first: {errors[:3]})")
        first, last = rows[0] if rows else None, rows[-1] if rows else None
        bounded = True
        if first and last and len(rows) >= 3:
            early = max(r[1] for r in rows[: max(1, len(rows) // 3)])
            late = max(r[1] for r in rows[-max(1, len(rows) // 3):])
            bounded = late <= early * 1.5 + 20 * 1024
            print(f"soak: RSS max first third {early / 1024:.1f} MB, last third {late / 1024:.1f} MB")
        ok = gaps == 0 and duplicates == 0 and out_of_order == 0 and misrouted == 0 and bounded
        print("soak: " + ("PASS" if ok else "FAIL"))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
