#!/usr/bin/env python3
"""Webhooks end to end: `eventdesk notify add` rules, `eventdesk serve`
delivering them to a local HTTP receiver started here, which answers 500
twice, then holds the third request while serve is SIGKILLed and started
again, then accepts. Every event is delivered; the receiver, keeping the
Idempotency-Key of what it accepted (as a real receiver would), processes none
twice. Also: a 404 is not retried, a 429's Retry-After is honoured, the
Discord body has the fields Discord documents, types filter, the secret in a
URL's path never reaches the log, and `notify test` / `notify list` / `notify log`.

Usage: webhook_test.py path/to/eventdesk"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from checks import check, eventdesk, wait_for

EVENTDESK = sys.argv[1]
SECRET = "s3cr3t-t0ken-in-the-path"


def run(*args, stdin=None, ok=True):
    return eventdesk(EVENTDESK, *args, stdin=stdin, ok=ok)


class Receiver:
    """Counts every request; /hook answers 500, 500, then holds the third, then 200.
    Accepted keys are processed once; a key seen again is answered 200 and not processed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []          # (path, key, body)
        self.processed = {}         # key -> body
        self.redelivered = 0
        self.hook_count = 0
        self.busy_count = 0
        self.holding = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                path = self.path
                with receiver.lock:
                    receiver.requests.append((path, key, body))
                    if path.startswith("/hook"):
                        receiver.hook_count += 1
                        n = receiver.hook_count
                    elif path.startswith("/busy"):
                        receiver.busy_count += 1
                        n = receiver.busy_count
                    else:
                        n = 0
                if path.startswith("/gone"):
                    return self.answer(404)
                if path.startswith("/busy") and n == 1:
                    return self.answer(429, {"Retry-After": "1"})
                if path.startswith("/hook") and n <= 2:
                    return self.answer(500)
                if path.startswith("/hook") and n == 3:
                    receiver.holding.set()
                    time.sleep(4)  # serve is killed meanwhile
                with receiver.lock:
                    if key in receiver.processed:
                        receiver.redelivered += 1
                    else:
                        receiver.processed[key] = (path, body)
                self.answer(200)

            def answer(self, status, headers=None):
                try:
                    self.send_response(status)
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def processed_for(self, prefix):
        with self.lock:
            return {k: v for k, v in self.processed.items() if v[0].startswith(prefix)}


def start_serve(db, log):
    p = subprocess.Popen([EVENTDESK, "serve", "--db", db, "--listen", "127.0.0.1:0", "--join-code", "HOOKS1234",
                          "--verbose"], stdout=subprocess.PIPE, stderr=open(log, "a"), text=True)
    if "listening on" not in p.stdout.readline():
        raise RuntimeError("serve did not start")
    return p


def discord_body_ok(body):
    d = json.loads(body)
    if not isinstance(d.get("content"), str) or len(d["content"]) > 2000 or not d["content"]:
        return False
    embeds = d.get("embeds")
    if not isinstance(embeds, list) or not 1 <= len(embeds) <= 10:
        return False
    for e in embeds:
        if not isinstance(e.get("title"), str) or len(e["title"]) > 256:
            return False
        if not isinstance(e.get("description"), str) or len(e["description"]) > 4096:
            return False
        if not isinstance(e.get("color"), int) or not 0 <= e["color"] <= 0xFFFFFF:
            return False
        datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
        if len(e.get("footer", {}).get("text", "")) > 2048:
            return False
    return True


class Silent:
    """Accepts connections, reads what comes, never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)


def outbox_total(db):
    first = run("notify", "log", "--db", db, "--limit", "1").stdout.splitlines()[0]
    return int(re.match(r"outbox: (\d+) deliveries", first).group(1))


def starvation_and_bounds(tmp):
    """A receiver that never answers holds back only its own rule; settled
    deliveries are kept within their bound."""
    receiver = Receiver()  # its own: the keys (rule-event) start again in a new database
    silent = Silent()
    base = f"http://127.0.0.1:{receiver.port}"
    db = os.path.join(tmp, "fair.db")
    log = os.path.join(tmp, "fair.log")
    run("publish", "--db", db, "--create", "--json", json.dumps(
        {"type": "StoryEventCreated", "story_event_id": "first", "world_id": "w1", "event_type": "dialogue"}))
    stuck = run("notify", "add", "--db", db, "--url", f"http://127.0.0.1:{silent.port}/never", "--timeout", "30").stdout.strip()
    run("notify", "add", "--db", db, "--url", f"{base}/fast/{SECRET}")
    check("timeout 30 s" in run("notify", "list", "--db", db).stdout, "notify list shows each rule's timeout")
    bad = run("notify", "add", "--db", db, "--url", f"{base}/x", "--timeout", "0", ok=False)
    check(bad.returncode == 2 and "timeout" in bad.stderr, "a timeout of 0 s is refused")
    serve = start_serve(db, log)
    try:
        lines = "".join(json.dumps({"type": "StoryEventCreated", "story_event_id": f"f{n}", "world_id": "w1",
                                    "event_type": "dialogue"}) + "\n" for n in range(20))
        started = time.monotonic()
        run("publish", "--db", db, stdin=lines)
        got = wait_for(lambda: len(receiver.processed_for("/fast")) == 20, 20)
        took = time.monotonic() - started
        check(got and took < 10, f"with a receiver that never answers, the healthy rule got all 20 in {took:.1f} s")
        check(len(silent.connections) >= 1, f"while the silent one holds its own slots ({len(silent.connections)} connections)")
        print(f"figure : 20 deliveries to a healthy rule beside a silent one: {took:.2f} s", flush=True)

        # Its pending deliveries go with it; 5,000 more for the healthy rule.
        check(run("notify", "remove", "--db", db, stuck).returncode == 0, "the silent rule is removed")
        lines = "".join(json.dumps({"type": "StoryEventCreated", "story_event_id": f"b{n}", "world_id": "w1",
                                    "event_type": "dialogue"}) + "\n" for n in range(5000))
        started = time.monotonic()
        run("publish", "--db", db, stdin=lines)
        check(wait_for(lambda: len(receiver.processed_for("/fast")) == 5020, 180),
              f"5,000 more delivered ({len(receiver.processed_for('/fast'))} of 5020)")
        print(f"figure : 5,000 webhook deliveries in {time.monotonic() - started:.1f} s", flush=True)
        check(wait_for(lambda: outbox_total(db) <= 1000, 30),
              f"the outbox keeps at most 1,000 settled deliveries per rule ({outbox_total(db)} rows)")
    finally:
        serve.terminate()
        serve.wait(15)
        silent.sock.close()
        for c in silent.connections:
            c.close()
        receiver.server.shutdown()


def main():
    receiver = Receiver()
    base = f"http://127.0.0.1:{receiver.port}"
    tmp = tempfile.mkdtemp(prefix="eventdesk-webhooks-")
    db = os.path.join(tmp, "hooks.db")
    log = os.path.join(tmp, "serve.log")
    serve = None
    try:
        run("publish", "--db", db, "--create", "--json", json.dumps(
            {"type": "StoryEventCreated", "story_event_id": "old", "world_id": "w1", "event_type": "dialogue"}))
        hook = run("notify", "add", "--db", db, "--url", f"{base}/hook/{SECRET}", "--world", "w1").stdout.strip()
        run("notify", "add", "--db", db, "--url", f"{base}/discord/{SECRET}", "--format", "discord",
            "--type", "ChallengeResolved", "--template", "{character} {succeeded|failed} at {challenge} ({roll} → {total})")
        run("notify", "add", "--db", db, "--url", f"{base}/gone", "--world", "w3", "--type", "StoryEventCreated")
        run("notify", "add", "--db", db, "--url", f"{base}/busy", "--type", "NarrativeEventTriggered")
        check(hook.isdigit(), "notify add prints the rule's id")
        listed = run("notify", "list", "--db", db).stdout
        check(listed.count("\n") == 4 and SECRET not in listed and "/…" in listed, "notify list shows 4 rules, URLs redacted")
        bad = run("notify", "add", "--db", db, "--url", "ftp://example/x", ok=False)
        check(bad.returncode == 2 and "http" in bad.stderr, "a URL that is not http(s) is refused")
        bad = run("notify", "add", "--db", db, "--url", f"{base}/x", "--type", "NoSuchEvent", ok=False)
        check(bad.returncode == 2 and "NoSuchEvent" in bad.stderr, "an unknown type is refused")

        serve = start_serve(db, log)
        events = [{"type": "StoryEventCreated", "story_event_id": f"s{n}", "world_id": "w1", "event_type": "dialogue"}
                  for n in range(5)]
        events += [{"type": "ChallengeResolved", "challenge_name": "Pick the lock", "world_id": "w1",
                    "character_id": f"pc{n}", "success": n % 2 == 0, "roll": 10 + n, "total": 12 + n} for n in range(5)]
        events += [{"type": "StoryEventCreated", "story_event_id": "elsewhere", "world_id": "w2", "event_type": "combat"}]
        events += [{"type": "NarrativeEventTriggered", "event_id": "n1", "world_id": "w2", "event_name": "The gate",
                    "outcome_name": "opens"}]
        ids = [int(x) for x in run("publish", "--db", db, stdin="".join(json.dumps(e) + "\n" for e in events)).stdout.split()]
        check(wait_for(receiver.holding.is_set, 30), "the receiver answered 500 twice and now holds a delivery")
        serve.send_signal(signal.SIGKILL)
        serve.wait(10)
        serve = start_serve(db, log)
        # For the 404 rule, events published after the restart: a 404 answered just
        # before the kill could not be recorded, and would rightly be sent again.
        publish_lines = "".join(json.dumps({"type": "StoryEventCreated", "story_event_id": f"g{n}", "world_id": "w3",
                                            "event_type": "dialogue"}) + "\n" for n in range(5))
        run("publish", "--db", db, stdin=publish_lines)
        w1 = ids[:10]
        expected = {f"evd-{hook}-{i}" for i in w1}
        check(wait_for(lambda: set(receiver.processed_for("/hook")) == expected, 90),
              f"every w1 event reached /hook after the SIGKILL and restart ({len(receiver.processed_for('/hook'))} of 10)")
        with receiver.lock:
            hook_requests = [(k, b) for p, k, b in receiver.requests if p.startswith("/hook")]
        same_body = all(b == receiver.processed[k][1] for k, b in hook_requests if k in receiver.processed)
        check(same_body, "a retried delivery carries the same body and key")
        check(len(receiver.processed_for("/hook")) == 10, "none processed twice (the Idempotency-Key)")
        check(receiver.redelivered <= 4, "only what was in flight at the kill came again")
        first = json.loads(next(iter(receiver.processed_for("/hook").values()))[1])
        check({"event_id", "event_type", "created_at", "event", "text"} <= set(first), "the JSON body's fields")

        discord = receiver.processed_for("/discord")
        check(len(discord) == 5, f"only the 5 challenges went to the Discord rule ({len(discord)})")
        check(all(discord_body_ok(b) for _, b in discord.values()), "Discord bodies have content and embeds as documented")
        texts = sorted(json.loads(b)["content"] for _, b in discord.values())
        check(any(re.fullmatch(r"pc\d (succeeded|failed) at Pick the lock \(\d+ → \d+\)", t) for t in texts),
              f"the template is filled: {texts[0]!r}")

        check(wait_for(lambda: len(receiver.processed_for("/busy")) == 1, 30), "a 429 with Retry-After is retried and then delivered")
        time.sleep(2.5)  # a 404 would have been retried by now (1 s, then 2 s)
        with receiver.lock:
            gone = [k for p, k, _ in receiver.requests if p.startswith("/gone")]
        check(len(gone) == 5 and len(set(gone)) == 5, f"a 404 is not retried: {len(gone)} requests for 5 events")
        # The delivery in flight at the kill is claimed until its lease (timeout + 5 s)
        # runs out; then it is sent again, with its key, and recorded as delivered.
        log_of = lambda: run("notify", "log", "--db", db, "--limit", "100").stdout  # noqa: E731
        entries = lambda: log_of().split("\n", 1)[1]  # noqa: E731  (the first line is the outbox's size)
        check(wait_for(lambda: entries().count("delivered") == 16, 45), f"notify log: 16 delivered ({entries().count('delivered')})")
        out = entries()
        check(out.count("failed") == 5 and "HTTP 404" in out, "notify log says which failed and why")
        check(re.match(r"outbox: \d+ deliveries \(\d+ pending, 16 delivered, 5 failed\)", log_of()),
              f"notify log starts with the outbox's size ({log_of().splitlines()[0]})")
        check(len(receiver.processed_for("/hook")) == 10, "still none processed twice")

        ok = run("notify", "test", f"{base}/test/{SECRET}", "--format", "slack", ok=False)
        check(ok.returncode == 0 and "delivered" in ok.stdout and SECRET not in ok.stdout, "notify test sends a sample")
        sample = [b for p, _, b in receiver.requests if p.startswith("/test")]
        check(sample and "Aria succeeded at Pick the lock" in json.loads(sample[0])["text"], "the sample reads as a roll")
        gone = run("notify", "test", f"{base}/gone", ok=False)
        check(gone.returncode == 1 and "HTTP 404" in gone.stderr, "notify test says what the URL answered")
        closed = run("notify", "test", "http://127.0.0.1:9/hook", "--timeout", "3", ok=False)
        check(closed.returncode == 1 and "did not answer" in closed.stderr, "notify test: nobody listening")
        with receiver.lock:
            print(f"figure : {sum(1 for p, _, _ in receiver.requests if p.startswith('/hook'))} requests to /hook for "
                  f"10 events: 2 answered 500, {receiver.redelivered} sent again after the kill and recognised by "
                  f"their Idempotency-Key", flush=True)
        serve.terminate()
        serve.wait(15)
        starvation_and_bounds(tmp)
    finally:
        if serve and serve.poll() is None:
            serve.terminate()
            serve.wait(15)
        receiver.server.shutdown()
    with open(log, encoding="utf-8", errors="replace") as f:
        logged = f.read()
    check(SECRET not in logged, "the secret in the URL's path is never logged")
    check("webhook to" in logged, "retries are logged (redacted)")
    shutil.rmtree(tmp, ignore_errors=True)
    return check.totals()


if __name__ == "__main__":
    sys.exit(main())
