#!/usr/bin/env python3
"""Progress bars of the long commands (export, import, prune, index,
forward --once): drawn on stderr when it is a terminal (a pseudo-terminal from
Python's pty here), with a rate and an ETA; nothing at all on a pipe; nothing
with --quiet. What the commands print on stdout is the same either way.

Usage: progress_test.py path/to/eventdesk"""

import json
import os
import pty
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from checks import check

EVENTDESK = sys.argv[1]


def on_terminal(*args):
    """Runs eventdesk with stderr on a pseudo-terminal; returns (status, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([EVENTDESK, *args], stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed its side
                chunk = b""
            if not chunk and p.poll() is not None:
                break
            seen += chunk
        elif p.poll() is not None:
            break
    out = p.stdout.read()
    p.wait(60)
    os.close(master)
    return p.returncode, out.decode(), seen.decode(errors="replace")


def on_pipe(*args):
    r = subprocess.run([EVENTDESK, *args], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def bar_ok(text, what):
    return f"eventdesk: {what}" in text and "\r" in text and "100 %" in text and "/s" in text


def main():
    tmp = tempfile.mkdtemp(prefix="eventdesk-progress-")
    db = os.path.join(tmp, "p.db")
    lines = os.path.join(tmp, "in.jsonl")
    with open(lines, "w") as f:
        for n in range(20000):
            f.write(json.dumps({"type": "StoryEventCreated", "story_event_id": f"s{n}", "world_id": f"w{n % 5}",
                                "event_type": "dialogue"}) + "\n")
    redis = None
    try:
        status, out, term = on_terminal("import", "--db", db, "--create", lines)
        check(status == 0 and "imported 20000 events" in out, "import on a terminal imports")
        check(bar_ok(term, "checking") and bar_ok(term, "importing"), f"import draws its two phases: {term[-160:]!r}")
        check("ETA" in term or "100 %" in term, "with a rate and an ETA while it runs")
        status, out, err = on_pipe("import", "--db", os.path.join(tmp, "q.db"), "--create", lines)
        check(status == 0 and err == "" and "imported 20000 events" in out, "import on a pipe: nothing extra on stderr")
        status, out, term = on_terminal("import", "--db", os.path.join(tmp, "r.db"), "--create", "--quiet", lines)
        check(status == 0 and term == "", "import --quiet on a terminal: nothing")

        export = os.path.join(tmp, "out.jsonl")
        status, _, term = on_terminal("export", "--db", db, "-o", export)
        check(status == 0 and bar_ok(term, "exporting") and "20,000/20,000 rows" in term, f"export draws a bar: {term[-120:]!r}")
        status, out, err = on_pipe("export", "--db", db)
        check(status == 0 and err == "" and out.count("\n") == 20000, "export on a pipe: the rows on stdout, nothing on stderr")
        status, _, term = on_terminal("export", "--db", db, "-o", os.path.join(tmp, "out2.jsonl"), "--quiet")
        check(status == 0 and term == "", "export --quiet: nothing")

        status, out, term = on_terminal("index", "--db", db)
        check(status == 0 and "index of" in out and "eventdesk: indexing" in term, f"index draws a bar: {term[-120:]!r}")
        status, out, err = on_pipe("index", "--db", db)
        check(status == 0 and err == "", "index on a pipe: nothing on stderr")

        status, out, term = on_terminal("prune", "--db", db, "--before", "2999-01-01T00:00:00Z", "--force",
                                        "--archive", os.path.join(tmp, "a.jsonl.gz"))
        check(status == 0 and "archived and deleted 20000 events" in out, "prune prunes")
        check(bar_ok(term, "pruning"), f"prune draws a bar: {term[-120:]!r}")
        status, out, err = on_pipe("prune", "--db", os.path.join(tmp, "q.db"), "--before", "2999-01-01T00:00:00Z",
                                   "--force", "--archive", os.path.join(tmp, "b.jsonl.gz"))
        check(status == 0 and err == "" and "archived and deleted" in out, "prune on a pipe: nothing on stderr")

        # forward --once into a throw-away redis-server of our own.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        status, _, term = on_terminal("forward", "--db", os.path.join(tmp, "r.db"), "--bus",
                                      f"redis://127.0.0.1:{port}/0", "--once")
        check(status == 0 and bar_ok(term, "forwarding") and "forwarded 20000 rows" in term,
              f"forward --once draws a bar: {term[-160:]!r}")
    finally:
        if redis:
            redis.terminate()
            redis.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return check.totals()


if __name__ == "__main__":
    sys.exit(main())
