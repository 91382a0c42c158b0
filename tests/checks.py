"""What the Python tests here share: check(), printing PASS and FAIL lines in
Qt Test's style, check.totals(), the closing line and the exit status, and
eventdesk(), running a command of the binary under test."""

import subprocess
import time


class Checks:
    def __init__(self):
        self.passes = 0
        self.failures = 0

    def __call__(self, condition, what):
        if condition:
            self.passes += 1
            print(f"PASS   : {what}", flush=True)
        else:
            self.failures += 1
            print(f"FAIL!  : {what}", flush=True)
        return condition

    def totals(self):
        print(f"Totals: {self.passes} passed, {self.failures} failed", flush=True)
        return 1 if self.failures else 0


check = Checks()


def eventdesk(binary, *args, stdin=None, ok=True):
    """Runs `binary args…` (stdin: text); ok: a non-zero exit raises, naming stderr."""
    r = subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, timeout=60)
    if ok and r.returncode != 0:
        raise RuntimeError(f"eventdesk {' '.join(args)} failed: {r.stderr.strip()}")
    return r


def world_code(secret, world):
    """The join code of one world, derived from the database's join secret as
    EventDesk derives it (HMAC-SHA256 of "eventdesk-join:" + the world id,
    8 characters of the read-aloud alphabet): written again here, so a test
    that joins with it checks the server's derivation too."""
    import hashlib
    import hmac
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    mac = hmac.new(secret.encode(), b"eventdesk-join:" + world.encode(), hashlib.sha256).digest()
    return "".join(alphabet[b % len(alphabet)] for b in mac[:8])


def wait_for(condition, seconds):
    """Looks at condition every 50 ms until it holds or the time is up; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
