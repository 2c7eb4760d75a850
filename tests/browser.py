"""Headless Chromium for the tests that look at served pages (kit preview, kit run)."""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
PATIENCE = 60  # seconds: a bound for the browser, a server or a watcher, never asserted on


def chromium(user_dir: Path, *args: str) -> list[str]:
    """The command line of a headless Chromium with its own profile that reaches for nothing
    on the network by itself."""
    return [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={user_dir}", *args]


def wait_for(check, what: str):
    """Poll `check()` until it returns something true; fail after PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (no websocket, no
    extra package): JSON messages separated by NUL bytes on file descriptors 3 and 4.
    One browser serves many tabs: a test opens its pages with `open` (or `load`) and
    closes them with `close_tab`."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 800):
        import fcntl

        def high(fd: int) -> int:  # above 4, so that moving them to 3 and 4 cannot overwrite one
            moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
            os.close(fd)
            return moved

        to_chrome_r, self._to_chrome = map(high, os.pipe())
        self._from_chrome, from_chrome_w = map(high, os.pipe())
        args = chromium(profile, "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                        "--disable-backgrounding-occluded-windows", f"--window-size={width},{height}",
                        "--remote-debugging-pipe", "about:blank")
        script = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
                  "os.execvp(sys.argv[3], sys.argv[3:])")
        self.proc = subprocess.Popen([sys.executable, "-c", script, str(to_chrome_r), str(from_chrome_w), *args],
                                     pass_fds=(to_chrome_r, from_chrome_w),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._id = 0
        self._targets: dict[str, str] = {}  # session: target
        self.size = (width, height)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + PATIENCE
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                ready, _, _ = select.select([self._from_chrome], [], [], max(left, 0))
                assert ready, f"Chromium did not answer {method}"
                chunk = os.read(self._from_chrome, 1 << 20)
                assert chunk, "Chromium closed the pipe"
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._id:
                assert "error" not in answer, answer
                return answer.get("result", {})

    def open(self, url: str) -> str:
        target = self.send("Target.createTarget", {"url": url})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._targets[session] = target
        self.send("Emulation.setDeviceMetricsOverride", {"width": self.size[0], "height": self.size[1],
                                                         "deviceScaleFactor": 1, "mobile": False}, session)
        return session

    def load(self, url: str) -> str:
        """A tab on `url`, once that page (not the blank one a new tab starts with) has
        loaded, scripts and all: what `chromium --dump-dom` waits for."""
        session = self.open(url)
        wait_for(lambda: self.evaluate(session, f"location.href === {json.dumps(url)} "
                                                "&& document.readyState === 'complete'"), f"{url} to load")
        return session

    def dom(self, session: str) -> str:
        return self.evaluate(session, "document.documentElement.outerHTML")

    def close_tab(self, session: str) -> None:
        self.send("Target.closeTarget", {"targetId": self._targets.pop(session)})

    def evaluate(self, session: str, expression: str):
        return self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                         session).get("result", {}).get("value")

    def key(self, session: str, key: str) -> None:
        codes = {"ArrowRight": 39, "ArrowLeft": 37}
        self.send("Page.bringToFront", {}, session)
        for kind in ("keyDown", "keyUp"):
            code = codes[key] if key in codes else ord(key.upper())
            params = {"type": kind, "key": key, "windowsVirtualKeyCode": code}
            if kind == "keyDown" and len(key) == 1:
                params["text"] = key
            self.send("Input.dispatchKeyEvent", params, session)

    def screenshot(self, session: str, path: Path) -> None:
        self.send("Page.bringToFront", {}, session)  # a tab in the background is not painted
        data = self.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        finally:
            os.close(self._to_chrome)
            os.close(self._from_chrome)
