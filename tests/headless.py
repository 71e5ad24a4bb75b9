"""Open a page in real headless Chromium and collect what its console says, with no extra package.

Chromium is driven over the DevTools protocol through ``--remote-debugging-pipe`` (file
descriptors 3 and 4, NUL-terminated JSON messages: what Puppeteer's ``pipe: true`` does), so
nothing listens on a network port and no client library is needed. Console errors and warnings
(``Runtime.consoleAPICalled``), uncaught exceptions (``Runtime.exceptionThrown``) and the
browser's own error log (``Log.entryAdded``: failed loads, blocked requests, CSP) are collected.

Chromium is found as ``$CHROMIUM`` or ``chromium`` / ``chromium-browser`` / ``google-chrome`` on
the PATH (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
)


def find_chromium() -> str | None:
    """The Chromium executable, or None when none is installed."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class ConsoleEntry:
    """One thing the page or the browser reported."""

    kind: str  # console.error, console.warning, exception, log.error, …
    text: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text}"


@dataclass
class PageRun:
    """What happened while a page was open."""

    entries: list[ConsoleEntry] = field(default_factory=list)

    @property
    def errors(self) -> list[ConsoleEntry]:
        return [e for e in self.entries if e.kind in {
            "console.error", "console.assert", "exception", "log.error"}]


class Browser:
    """A headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, executable: str, width: int = 1400, height: int = 1000) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="price-opt-chromium-")
        self._log = open(Path(self._profile.name) / "chromium.log", "wb")  # noqa: SIM115
        to_chrome_read, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_write = os.pipe()

        def wire_pipes() -> None:  # runs in the child: Chromium reads fd 3, writes fd 4
            # Move both ends above 4 first, so that neither is overwritten by the other's dup2.
            reading = os.dup(to_chrome_read) if to_chrome_read > 4 else os.dup2(
                to_chrome_read, 10)
            writing = os.dup(from_chrome_write) if from_chrome_write > 4 else os.dup2(
                from_chrome_write, 11)
            os.dup2(reading, 3, inheritable=True)
            os.dup2(writing, 4, inheritable=True)

        self._process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self._profile.name}",
             f"--window-size={width},{height}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log,
            preexec_fn=wire_pipes, close_fds=False,
        )
        os.close(to_chrome_read)
        os.close(from_chrome_write)
        self._ids = itertools.count(1)
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.run = PageRun()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.call(domain, session=self.session)
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False,
        }, session=self.session)

    def _read(self) -> None:
        buffer = b""
        with open(self._from_chrome, "rb", buffering=0) as stream:
            while True:
                chunk = stream.read(65536)
                if not chunk:
                    return
                buffer += chunk
                while b"\0" in buffer:
                    raw, buffer = buffer.split(b"\0", 1)
                    message = json.loads(raw)
                    if "id" in message:
                        with self._lock:
                            waiting = self._replies.get(message["id"])
                        if waiting is not None:
                            waiting.put(message)
                    else:
                        self._events.put(message)

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """Send a DevTools command and wait for its reply."""
        number = next(self._ids)
        reply: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._replies[number] = reply
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            self.drain()
            try:
                answer = reply.get(timeout=0.05)
                break
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Chromium did not answer {method}") from None
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def drain(self, until: str | None = None, timeout: float = 0.0) -> bool:
        """Record pending events; with ``until``, wait up to ``timeout`` s for that event."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = self._events.get(timeout=max(remaining, 0.0) if until else 0.0)
            except queue.Empty:
                return False
            self._record(event)
            if until is not None and event.get("method") == until:
                return True

    def _record(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(
                str(arg.get("value", arg.get("description", ""))) for arg in params["args"]
            )
            self.run.entries.append(ConsoleEntry(f"console.{params['type']}", text))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.run.entries.append(ConsoleEntry("exception", text))
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.run.entries.append(
                ConsoleEntry(f"log.{entry['level']}", f"{entry.get('url', '')} {entry['text']}")
            )

    def open(self, url: str, settle: float = 1.0, timeout: float = 60.0) -> None:
        """Navigate and wait for the load event, then ``settle`` seconds for late errors."""
        self.call("Page.navigate", {"url": url}, session=self.session)
        if not self.drain(until="Page.loadEventFired", timeout=timeout):
            raise TimeoutError(f"{url} did not finish loading in {timeout} s")
        self.drain(until="never", timeout=settle)

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page; return its value (promises awaited)."""
        result = self.call("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True,
        }, session=self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("text", "evaluation failed"))
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        """Save a PNG of the page (the whole page by default)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics", session=self.session)["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": size["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params, session=self.session)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("Browser.close", timeout=5)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        with contextlib.suppress(OSError):
            os.close(self._to_chrome)
        self._log.close()
        self._profile.cleanup()


@contextlib.contextmanager
def browser(executable: str, width: int = 1400, height: int = 1000) -> Iterator[Browser]:
    """A headless Chromium for the duration of the block."""
    instance = Browser(executable, width, height)
    try:
        yield instance
    finally:
        instance.close()
