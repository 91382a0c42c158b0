#!/usr/bin/env python3
"""An evening of recording: `eventdesk record` joined to a stand-in engine
(standin_engine.py) that sends the fixtures of today's engine at 50 messages
a second, with heartbeats, for an hour by default.

The recorder's RSS is sampled every minute and printed as a table; at the end
the RSS after the last minute is held against the RSS after 5 minutes (the
goal: within 10 %), and every message sent is checked to be stored, once.

Not part of CI; run it with installer/soak.sh record [minutes] (default 60)."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from standin_engine import StandInEngine, new_uuid  # noqa: E402

EVENTDESK = sys.argv[1]
MINUTES = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
RATE = 50
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "engine", "server_messages.jsonl")


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    with open(FIXTURES, encoding="utf-8") as f:
        fixtures = [line.rstrip("\n") for line in f if line.strip()]
    world = new_uuid()
    pc = new_uuid()
    total = int(MINUTES * 60 * RATE)
    engine = StandInEngine({world: "The Shattered Coast"}, pcs={world: [(pc, "Kael Thorn")]})
    engine.paced = 1.0 / RATE
    engine.start()
    engine.feed([fixtures[i % len(fixtures)] for i in range(total)])

    with tempfile.TemporaryDirectory(prefix="eventdesk-record-soak-") as tmp:
        db = os.path.join(tmp, "evening.db")
        proc = subprocess.Popen([EVENTDESK, "record", "--db", db, "--create", "--engine", engine.url,
                                 "--world", world, "--as-spectator", "Kael Thorn", "--heartbeat", "5"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        threading.Thread(target=lambda: lines.extend(l.strip() for l in proc.stdout), daemon=True).start()
        start = time.monotonic()
        samples = []
        print(f"recording {total} messages at {RATE}/s for {MINUTES:g} min", flush=True)
        print(f"{'minute':>6} {'sent':>8} {'RSS MiB':>8}", flush=True)
        minute = 0
        while engine.next < total and proc.poll() is None:
            time.sleep(1)
            if time.monotonic() - start >= (minute + 1) * 60:
                minute += 1
                kib = rss_kib(proc.pid)
                samples.append((minute, kib))
                print(f"{minute:>6} {engine.next:>8} {kib / 1024:>8.1f}", flush=True)
        time.sleep(3)
        end_kib = rss_kib(proc.pid)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        engine.stop()
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            stored = c.execute("SELECT count(*) FROM app_events WHERE event_type <> 'RecordingGap'").fetchone()[0]
            gaps = c.execute("SELECT count(*) FROM app_events WHERE event_type = 'RecordingGap'").fetchone()[0]

    at5 = next((kib for m, kib in samples if m == 5), samples[0][1] if samples else 0)
    growth = (end_kib - at5) / at5 * 100 if at5 else float("nan")
    print(f"record_soak: {engine.next} sent, {stored} stored, {gaps} gap(s), exit {code}")
    print(f"record_soak_rss: {at5 / 1024:.1f} MiB after 5 min, {end_kib / 1024:.1f} MiB at the end "
          f"({growth:+.1f} %, goal within 10 %)")
    ok = code == 0 and stored == engine.next and gaps == 0 and abs(growth) <= 10
    if not ok:
        print("\n".join(l for l in lines if not re.match(r"stored \d+", l))[-2000:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
