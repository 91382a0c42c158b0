"""A small Chrome DevTools Protocol client over Python's `websockets`, enough to
drive Debian's chromium in headless mode from the tests and the benchmark:
targets (pages) in their own browser contexts, evaluation, keyboard input,
screenshots. Every page records its JavaScript exceptions and console errors
(a Content-Security-Policy violation is one) so that a test can fail on them."""

import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile

import websockets


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("no chromium found: installer/install-deps.sh installs Debian's chromium")


class CdpError(RuntimeError):
    pass


class Browser:
    """A headless chromium with its own throw-away profile."""

    def __init__(self):
        self.process = None
        self.profile = None
        self.ws = None
        self.ids = itertools.count(1)
        self.waiting = {}
        self.pages = {}
        self.reader = None

    async def start(self, timeout=30):
        self.profile = tempfile.mkdtemp(prefix="eventdesk-chromium-")
        args = [find_chromium(), "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--disable-component-update",
                "--disable-dev-shm-usage", "--password-store=basic", "--use-mock-keychain", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # chromium refuses to run as root with its sandbox
        # Chromium puts its singleton socket in a folder of the temporary
        # directory and leaves it there: inside the profile, it goes with it.
        tmp = os.path.join(self.profile, "tmp")
        os.mkdir(tmp)
        env = dict(os.environ, TMPDIR=tmp)
        # Its own process group: its helpers (renderers, the zygote, crashpad)
        # go with it when it closes, not on writing into a profile being removed.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                        start_new_session=True)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    lines = f.read().split()
                if len(lines) >= 2:
                    break
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self.process.returncode}")
            if loop.time() > deadline:
                raise RuntimeError("chromium did not open its DevTools port")
            await asyncio.sleep(0.05)
        self.ws = await websockets.connect(f"ws://127.0.0.1:{lines[0]}{lines[1]}", max_size=64 * 2**20)
        self.reader = asyncio.create_task(self.read())

    async def read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if "id" in msg:
                    future = self.waiting.pop(msg["id"], None)
                    if future and not future.done():
                        if "error" in msg:
                            future.set_exception(CdpError(json.dumps(msg["error"])))
                        else:
                            future.set_result(msg.get("result", {}))
                elif msg.get("sessionId") in self.pages:
                    self.pages[msg["sessionId"]].on_event(msg["method"], msg.get("params", {}))
        except websockets.ConnectionClosed:
            pass
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(CdpError("the browser went away"))

    async def call(self, method, params=None, session=None, timeout=30):
        message_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.waiting[message_id] = future
        msg = {"id": message_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        await self.ws.send(json.dumps(msg))
        return await asyncio.wait_for(future, timeout)

    async def new_page(self, width=1280, height=800, mobile=False, isolated=True):
        """A new tab; isolated: in its own browser context (own localStorage),
        as a second player's phone would be."""
        params = {"url": "about:blank"}
        if isolated:
            params["browserContextId"] = (await self.call("Target.createBrowserContext"))["browserContextId"]
        target = (await self.call("Target.createTarget", params))["targetId"]
        session = (await self.call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        page = Page(self, session, target)
        self.pages[session] = page
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            await page.call(domain)
        await page.resize(width, height, mobile)
        return page

    async def close(self):
        if self.ws:
            await self.ws.close()
        if self.reader:
            await asyncio.gather(self.reader, return_exceptions=True)
        if self.process:
            # The browser and its helpers, while its id is surely still its
            # own (not reaped yet: returncode is None).
            if self.process.returncode is None:
                try:
                    os.killpg(self.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.profile:
            # A helper that was still writing may have put a folder back.
            for _ in range(50):
                shutil.rmtree(self.profile, ignore_errors=True)
                if not os.path.exists(self.profile):
                    break
                await asyncio.sleep(0.02)


class Page:
    def __init__(self, browser, session, target):
        self.browser = browser
        self.session = session
        self.target = target
        self.problems = []   # exceptions and console errors, as text
        self.loaded = None

    def on_event(self, method, params):
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.problems.append("exception: " + (details.get("exception", {}).get("description") or details.get("text", "")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.problems.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.problems.append(f"log ({entry.get('source')}): {entry.get('text')}")
        elif method == "Page.loadEventFired" and self.loaded and not self.loaded.done():
            self.loaded.set_result(True)

    async def call(self, method, params=None, timeout=30):
        return await self.browser.call(method, params, self.session, timeout)

    async def resize(self, width, height, mobile=False):
        await self.call("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    async def color_scheme(self, scheme):
        await self.call("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})

    async def goto(self, url, timeout=15):
        self.loaded = asyncio.get_running_loop().create_future()
        result = await self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CdpError(f"cannot open {url}: {result['errorText']}")
        await asyncio.wait_for(self.loaded, timeout)

    async def run_on_new_document(self, source):
        await self.call("Page.addScriptToEvaluateOnNewDocument", {"source": source})

    async def eval(self, expression, timeout=30):
        result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                      "awaitPromise": True}, timeout)
        if "exceptionDetails" in result:
            raise CdpError("evaluation failed: " + json.dumps(result["exceptionDetails"])[:500])
        return result.get("result", {}).get("value")

    async def wait_for(self, expression, timeout=5.0, interval=0.02):
        """Polls until the expression is truthy; returns its value, or None after the timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = await self.eval(expression)
            if value:
                return value
            if loop.time() > deadline:
                return None
            await asyncio.sleep(interval)

    async def type_text(self, text):
        await self.call("Input.insertText", {"text": text})

    async def press(self, key, shift=False):
        codes = {"Tab": 9, "Enter": 13, "Space": 32, "ArrowDown": 40, "ArrowUp": 38}
        params = {"key": "Enter" if key == "Enter" else key, "code": key,
                  "windowsVirtualKeyCode": codes.get(key, 0), "modifiers": 8 if shift else 0}
        if key == "Enter":
            params["text"] = "\r"
        await self.call("Input.dispatchKeyEvent", dict(params, type="keyDown"))
        await self.call("Input.dispatchKeyEvent", dict(params, type="keyUp"))

    async def screenshot(self, path):
        data = (await self.call("Page.captureScreenshot", {"format": "png"}))["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    async def close(self):
        await self.browser.call("Target.closeTarget", {"targetId": self.target})
