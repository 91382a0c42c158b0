#!/usr/bin/env python3
"""Hostile clients against `eventdesk serve`, on loopback only, each attack
bounded in count and time. Every case prints its figure and checks its bound:

  refused-memory   RSS after 20,000 joins refused as "session full"
  idle-slots       legitimate joins while 260 idle sockets are reopened as they close
  silent-sockets   CPU while 1,100 silent TCP connections are open, and
                   near the descriptor limit (the port pauses, then accepts again)
  lock-out         failed joins escalate, the right DM token still gets in,
                   refusals are logged without the secret
  unmasked         an unmasked client frame is closed with 1002
  dm-burst         a DM publishes a burst of 50 events without rate_limited
  tls              the pending budget and the mask rule hold behind wss://
  malformed        every other refusal of the transport: bad HTTP, bad frames

Usage: session_attack_test.py path/to/eventdesk [case ...]"""

import asyncio
import base64
import json
import os
import select
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

import websockets

from checks import check, world_code

EVENTDESK = sys.argv[1]
ONLY = set(sys.argv[2:])
JOIN_CODE = "ATTACK42"
DM_TOKEN = "fedcba9876543210fedcba9876543210"


class Server:
    """One `eventdesk serve` on 127.0.0.1 with a free port; stderr goes to a file."""

    def __init__(self, tmp, name, *extra, prefix=()):
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "w")
        env = {k: v for k, v in os.environ.items() if k != "QT_LOGGING_RULES"}
        self.proc = subprocess.Popen(
            [*prefix, EVENTDESK, "serve", "--db", os.path.join(tmp, name + ".db"), "--listen", "127.0.0.1:0",
             "--join-code", JOIN_CODE, "--dm-token", DM_TOKEN, "--world", "w1", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        line = self.proc.stdout.readline().strip()
        self.url = line.rsplit(" ", 1)[-1]
        self.port = int(self.url.rsplit(":", 1)[-1])

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def descriptors(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def logged(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


HANDSHAKE = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def frame(payload, masked=True, opcode=0x1):
    head = bytes([0x80 | opcode])
    n = len(payload)
    mbit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def join_message(role="player", world="w1", secret=None, name="raw"):
    msg = {"type": "Join", "role": role, "world_id": world, "name": name}
    msg["dm_token" if role == "dm" else "join_code"] = secret or (DM_TOKEN if role == "dm" else world_code(JOIN_CODE, world))
    return json.dumps(msg).encode()


def read_frames(data):
    """(opcode, payload) of each whole server frame in data (after the HTTP head)."""
    out = []
    i = 0
    while i + 2 <= len(data):
        op = data[i] & 0x0f
        n = data[i + 1] & 0x7f
        j = i + 2
        if n == 126:
            n = struct.unpack(">H", data[j:j + 2])[0]
            j += 2
        elif n == 127:
            n = struct.unpack(">Q", data[j:j + 8])[0]
            j += 8
        if j + n > len(data):
            break
        out.append((op, data[j:j + n]))
        i = j + n
    return out


def close_code_of(frames):
    for op, payload in frames:
        if op == 0x8 and len(payload) >= 2:
            return struct.unpack(">H", payload[:2])[0]
    return None


async def raw_exchange(port, first_bytes, source="127.0.0.1", timeout=10):
    """Connects from `source`, sends first_bytes, reads until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(first_bytes)
    data = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), timeout)
            if not chunk:
                break
            data += chunk
            # Answer a close frame the way a client does, so the server ends the connection.
            head = data.find(b"\r\n\r\n")
            if head >= 0 and close_code_of(read_frames(data[head + 4:])) is not None:
                writer.write(frame(b"\x03\xe8", opcode=0x8))
    except (asyncio.TimeoutError, ConnectionError):
        pass
    writer.close()
    return data


async def legit_join(url, world="w1", name="player", role="player", secret=None, timeout=10, ssl_context=None):
    ws = await asyncio.wait_for(websockets.connect(url, ssl=ssl_context, open_timeout=timeout), timeout)
    await ws.send(join_message(role, world, secret, name).decode())
    answer = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return ws, answer


# ---------------------------------------------------------------------------


async def refused_memory(tmp):
    server = Server(tmp, "refused", "--max-clients", "1")
    try:
        keeper, joined = await legit_join(server.url, name="seat holder")
        check(joined.get("type") == "Joined", "the one seat is taken")
        first = HANDSHAKE + frame(join_message())
        sources = [f"127.0.0.{k}" for k in range(2, 10)]

        async def refuse(count, concurrency=32):
            done = 0
            full = 0
            sem = asyncio.Semaphore(concurrency)

            async def one(i):
                nonlocal done, full
                async with sem:
                    data = await raw_exchange(server.port, first, sources[i % len(sources)])
                    head = data.find(b"\r\n\r\n")
                    frames = read_frames(data[head + 4:]) if head >= 0 else []
                    if any(op == 1 and b"full" in p for op, p in frames) and close_code_of(frames) == 1008:
                        full += 1
                    done += 1

            await asyncio.gather(*(one(i) for i in range(count)))
            return full

        await refuse(1000)  # warm-up: allocator pools, the log, the hash tables
        await asyncio.sleep(0.5)
        before = server.rss_kib()
        started = time.monotonic()
        full = await refuse(20000)
        elapsed = time.monotonic() - started
        await asyncio.sleep(1.0)
        after = server.rss_kib()
        print(f"figure : refused-memory: {full} of 20000 refused as full in {elapsed:.1f} s; "
              f"RSS {before} KiB -> {after} KiB (delta {after - before} KiB)", flush=True)
        check(full == 20000, f"every one of 20,000 joins was refused as full with 1008 ({full})")
        check(after - before <= 5 * 1024, f"RSS grew by at most 5 MB ({(after - before) / 1024:.1f} MB)")
        await keeper.send(json.dumps({"type": "Ping", "nonce": 1}))
        pong = json.loads(await asyncio.wait_for(keeper.recv(), 5))
        check(pong.get("type") == "Pong", "the joined player was never disturbed")
        await keeper.close()
    finally:
        server.stop()


class IdleAttacker:
    """`count` sockets from 127.0.0.2.., half silent, half after the handshake
    but never joining; each one closed by the server is opened again."""

    def __init__(self, port, count, addresses=19):
        self.port = port
        self.count = count
        self.addresses = [f"127.0.0.{k}" for k in range(2, 2 + addresses)]
        self.stop = False
        self.opened = 0

    async def slot(self, i):
        source = self.addresses[i % len(self.addresses)]
        while not self.stop:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port, local_addr=(source, 0))
            except OSError:
                await asyncio.sleep(0.05)
                continue
            self.opened += 1
            if i % 2:
                writer.write(HANDSHAKE)
            try:
                while not self.stop:
                    try:
                        chunk = await asyncio.wait_for(reader.read(4096), 0.5)
                    except asyncio.TimeoutError:
                        continue
                    if not chunk:
                        break
            except ConnectionError:
                pass
            writer.close()

    async def run(self, seconds):
        tasks = [asyncio.create_task(self.slot(i)) for i in range(self.count)]
        await asyncio.sleep(seconds)
        self.stop = True
        await asyncio.gather(*tasks, return_exceptions=True)


async def idle_slots(tmp):
    server = Server(tmp, "idle")
    try:
        attacker = IdleAttacker(server.port, 260)
        attack = asyncio.create_task(attacker.run(16))
        await asyncio.sleep(2)
        got_in = 0
        for k in range(18):
            try:
                ws, answer = await legit_join(server.url, name=f"player {k}", timeout=5)
                if answer.get("type") == "Joined":
                    got_in += 1
                await ws.close()
            except Exception as e:  # noqa: BLE001 - the figure says how many failed
                print(f"         join {k}: {type(e).__name__}: {e}")
            await asyncio.sleep(0.6)
        await attack
        print(f"figure : idle-slots: {got_in} of 18 legitimate joins got in while {attacker.opened} idle "
              f"sockets were opened; descriptors now {server.descriptors()}", flush=True)
        check(got_in == 18, f"18 of 18 legitimate joins got in ({got_in})")
        check("waited longest without joining" in server.logged() or "connections waiting to join" in server.logged(),
              "idle connections were turned away, and logged")
    finally:
        server.stop()


def open_silent(port, count, addresses):
    socks = []
    for i in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.bind((addresses[i % len(addresses)], 0))
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    return socks


async def silent_sockets(tmp):
    addresses = [f"127.0.0.{k}" for k in range(2, 40)]
    # 1. Default limits: the pending budget turns silent sockets away at once.
    server = Server(tmp, "silent")
    try:
        socks = open_silent(server.port, 1100, addresses)
        await asyncio.sleep(1)
        cpu0 = server.cpu_seconds()
        await asyncio.sleep(5)
        cpu = server.cpu_seconds() - cpu0
        fds = server.descriptors()
        ws, answer = await legit_join(server.url, name="during the attack")
        await ws.close()
        print(f"figure : silent-sockets: {len(socks)} silent connections open: server CPU {cpu / 5 * 100:.1f} % "
              f"over 5 s, {fds} descriptors", flush=True)
        check(cpu / 5 < 0.10, f"CPU under 10 % with 1,100 silent connections ({cpu / 5 * 100:.1f} %)")
        check(answer.get("type") == "Joined", "a legitimate join succeeds during them")
        for s in socks:
            s.close()
    finally:
        server.stop()

    # 2. Near the descriptor limit: a process limited to 256 descriptors, and a
    # pending budget larger than that, so only the pause can hold the line.
    server = Server(tmp, "fdlimit", "--max-pending", "5000", "--max-pending-per-address", "5000",
                    prefix=("prlimit", "--nofile=256:256"))
    try:
        # Connections are opened in small batches, each batch connected before
        # the next, until the port pauses: a flood of SYNs at once would be
        # dropped by the listen backlog and arrive only on the kernel's
        # retransmits, after the first ones had already timed out.
        socks = []
        paused_at = None
        while len(socks) < 1100:
            batch = open_silent(server.port, 20, addresses)
            socks += batch
            select.select([], batch, [], 0.5)
            await asyncio.sleep(0.05)
            if "not accepting for now" in server.logged():
                paused_at = len(socks)
                break
        print(f"figure : silent-sockets at a 256-descriptor limit: paused after {paused_at} connections", flush=True)
        await asyncio.sleep(0.5)
        cpu0 = server.cpu_seconds()
        await asyncio.sleep(3)
        cpu = server.cpu_seconds() - cpu0
        fds = server.descriptors()
        paused = "not accepting for now" in server.logged()
        print(f"figure : silent-sockets at a 256-descriptor limit: {fds} descriptors, CPU {cpu / 3 * 100:.1f} % "
              f"over 3 s, paused: {paused}", flush=True)
        check(paused, "the port paused near the descriptor limit")
        check(fds <= 256, f"the server stayed within its descriptors ({fds})")
        check(cpu / 3 < 0.10, f"no busy loop while paused ({cpu / 3 * 100:.1f} % CPU)")
        for s in socks:
            s.close()
        # The silent ones time out (5 s); then the port accepts again.
        joined = False
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and not joined:
            try:
                ws, answer = await legit_join(server.url, name="after the attack", timeout=3)
                joined = answer.get("type") == "Joined"
                await ws.close()
            except Exception:  # noqa: BLE001 - retried until the deadline
                await asyncio.sleep(0.5)
        check(joined, "after they time out, a legitimate join succeeds")
        check("accepting connections again" in server.logged(), "the port accepts again")
    finally:
        server.stop()


async def lock_out(tmp):
    server = Server(tmp, "lockout")
    wrong = "not-the-token-0000000000000000000"
    try:
        delays = []
        for k in range(8):
            started = time.monotonic()
            data = await raw_exchange(server.port, HANDSHAKE + frame(join_message("dm", "*", wrong)), timeout=40)
            delays.append(time.monotonic() - started)
            head = data.find(b"\r\n\r\n")
            if close_code_of(read_frames(data[head + 4:])) != 1008:
                check(False, f"failed join {k} is closed with 1008")
        print("figure : lock-out: answers to 8 wrong DM tokens after " + ", ".join(f"{d:.2f}" for d in delays) + " s",
              flush=True)
        check(delays[-1] > 4 * delays[0] and delays[-1] >= 1.0, "failed joins are slowed down, more each time")
        started = time.monotonic()
        ws, answer = await legit_join(server.url, role="dm", world="*", name="the real DM", timeout=10)
        waited = time.monotonic() - started
        print(f"figure : lock-out: the right DM token got in after {waited:.2f} s", flush=True)
        check(answer.get("type") == "Joined", "the right DM token is let in after the failures")
        await ws.close()
        ws, answer = await legit_join(server.url, name="a player from the same address", timeout=10)
        check(answer.get("type") == "Joined", "the right join code is let in too")
        await ws.close()
        log = server.logged()
        check("refused 127.0.0.1 as dm of world * - wrong DM token" in log, "each refusal is logged with address, role, world, reason")
        check(wrong not in log and DM_TOKEN not in log.split("DM token", 1)[-1].split("\n", 1)[-1],
              "the secret that was tried is not in the log")
    finally:
        server.stop()


async def unmasked(tmp, server=None, ssl_context=None):
    own = server is None
    server = server or Server(tmp, "unmasked")
    try:
        if ssl_context:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port, ssl=ssl_context)
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(HANDSHAKE)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.write(frame(join_message(), masked=False))
        data = b""
        try:
            while True:
                chunk = await asyncio.wait_for(reader.read(4096), 5)
                if not chunk:
                    break
                data += chunk
        except (asyncio.TimeoutError, ConnectionError):
            pass
        writer.close()
        code = close_code_of(read_frames(data))
        where = "wss" if ssl_context else "ws"
        check(b" 101 " in head and code == 1002, f"{where}: an unmasked client frame is closed with 1002 (got {code})")
        check(not any(op == 1 and b"Joined" in p for op, p in read_frames(data)), f"{where}: and it was not acted on")
    finally:
        if own:
            server.stop()


async def dm_burst(tmp):
    server = Server(tmp, "burst")
    try:
        ws, answer = await legit_join(server.url, role="dm", world="*", name="tool")
        for k in range(50):
            await ws.send(json.dumps({"type": "Publish", "event": {
                "type": "StoryEventCreated", "story_event_id": f"s{k}", "world_id": "w1", "event_type": "burst"}}))
        published = limited = 0
        while published + limited < 50:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "Published":
                published += 1
            elif message["type"] == "Error" and message.get("code") == "rate_limited":
                limited += 1
        print(f"figure : dm-burst: {published} published, {limited} rate_limited of 50", flush=True)
        check(published == 50 and limited == 0, "a DM's burst of 50 publishes goes through")
        await ws.close()
    finally:
        server.stop()


async def tls(tmp):
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                           "-days", "2", "-subj", "/CN=127.0.0.1"], capture_output=True)
    if made.returncode != 0:
        check(False, "openssl made a test certificate")
        return
    server = Server(tmp, "tls", "--tls-cert", cert, "--tls-key", key)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        socks = open_silent(server.port, 300, [f"127.0.0.{k}" for k in range(2, 22)])
        await asyncio.sleep(1)
        ws, answer = await legit_join(server.url, name="wss player", ssl_context=context)
        check(answer.get("type") == "Joined", "wss: a join succeeds during 300 silent connections")
        await ws.close()
        check(server.descriptors() < 150, f"wss: silent connections are not all held ({server.descriptors()} descriptors)")
        for s in socks:
            s.close()
        await unmasked(tmp, server, context)
    finally:
        server.stop()


async def http_status(port, request):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return data.split(b"\r\n", 1)[0]


async def frames_after_handshake(port, payload):
    """Handshake, then payload; every server frame until the connection ends."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HANDSHAKE)
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    writer.write(payload)
    data = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(4096), 5)
            if not chunk:
                break
            data += chunk
    except (asyncio.TimeoutError, ConnectionError):
        pass
    writer.close()
    return read_frames(data)


async def malformed(tmp):
    server = Server(tmp, "malformed")
    try:
        check(b" 404 " in await http_status(server.port, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"),
              "a plain GET is answered 404")
        check(b" 405 " in await http_status(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
              "another method is answered 405")
        check(b" 431 " in await http_status(server.port, b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n"),
              "a request head over 8 KiB is answered 431")
        check(b" 400 " in await http_status(server.port, b"NOT HTTP AT ALL\r\n\r\n"), "garbage is answered 400")
        check(b" 426 " in await http_status(server.port, HANDSHAKE.replace(b"Version: 13", b"Version: 8")),
              "another WebSocket version is answered 426")
        bad_utf8 = await frames_after_handshake(server.port, frame(b'{"type":"Join","name":"\xff\xfe"}'))
        check(close_code_of(bad_utf8) == 1007, f"text that is not UTF-8 is closed with 1007 ({close_code_of(bad_utf8)})")
        reserved = await frames_after_handshake(server.port, bytes([0xC1]) + frame(b"{}")[1:])
        check(close_code_of(reserved) == 1002, "a frame with reserved bits set is closed with 1002")
        stray = await frames_after_handshake(server.port, bytes([0x80]) + frame(b"{}")[1:])
        check(close_code_of(stray) == 1002, "a continuation with no message is closed with 1002")
        # A Join in two fragments is one message; a ping gets its payload back.
        join = join_message()
        first = bytes([0x01]) + frame(join[:10])[1:]
        rest = bytes([0x80]) + frame(join[10:])[1:]
        ping = bytes([0x89]) + frame(b"hello")[1:]
        got = await frames_after_handshake(server.port, first + rest + ping + frame(b"\x03\xe8", opcode=0x8))
        check(any(op == 1 and b"Joined" in p for op, p in got), "a fragmented Join is put together and joins")
        check((0xA, b"hello") in got, "a ping is answered with a pong carrying its payload")
    finally:
        server.stop()


CASES = {
    "refused-memory": refused_memory,
    "idle-slots": idle_slots,
    "silent-sockets": silent_sockets,
    "lock-out": lock_out,
    "unmasked": unmasked,
    "dm-burst": dm_burst,
    "tls": tls,
    "malformed": malformed,
}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for name, case in CASES.items():
            if ONLY and name not in ONLY:
                continue
            started = time.monotonic()
            print(f"-- {name}", flush=True)
            try:
                asyncio.run(asyncio.wait_for(case(tmp), 120))
            except Exception as e:  # noqa: BLE001 - a case that breaks is a failure, not a crash of the suite
                check(False, f"{name} ran to the end ({type(e).__name__}: {e})")
            print(f"         {name}: {time.monotonic() - started:.1f} s", flush=True)
    return check.totals()


if __name__ == "__main__":
    sys.exit(main())
