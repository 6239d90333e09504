"""Screenshots of Odoo pages as a logged-in user, with headless Chromium driven over DevTools.

    $ODOO_HOST/venv/bin/python scripts/screenshot.py --url http://127.0.0.1:PORT --db DB \\
        --login sally --password sally /tmp/contact.png=/odoo/contacts/48#mail_sync_messages [...]

For looking at the demo's screens (``scripts/demo``) without a desktop. Logs in through
``/web/session/authenticate``, gives Chromium the session cookie, opens each page, waits for the web
client to settle, clicks the notebook tab named after ``#`` if any, and saves the page as PNG.
Needs Debian's ``chromium`` and the ``websocket-client`` package (the Odoo host has it for tours).
"""

from __future__ import annotations

import argparse
import base64
import http.cookiejar
import itertools
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import websocket

_logger = logging.getLogger(__name__)

# No proxy, whatever the environment says: everything here is on loopback.
_NO_PROXY = urllib.request.ProxyHandler({})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Odoo's base URL, e.g. http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--size", default="1400,1200", help="page width,height")
    parser.add_argument("shots", nargs="+", help="PNG=PATH[#TAB]: where to save which page (and tab)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    session_id = _log_in(args.url, args.db, args.login, args.password)
    width, height = (int(number) for number in args.size.split(","))
    for shot in args.shots:
        png, _, page = shot.partition("=")
        path, _, tab = page.partition("#")
        # A browser per page, as a user opening a link: one left open would make Odoo's next page
        # think it missed notifications while it was away ("The page is out of date").
        with _Chromium() as browser:
            browser.call("Network.enable")
            host = urllib.parse.urlsplit(args.url).hostname
            browser.call("Network.setCookie", name="session_id", value=session_id, domain=host, path="/")
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            browser.open(args.url + path, tab)
            Path(png).write_bytes(browser.screenshot())
        _logger.info("%s -> %s", path, png)
    return 0


def _log_in(url: str, db: str, login: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(_NO_PROXY, urllib.request.HTTPCookieProcessor(jar))
    body = json.dumps(
        {"jsonrpc": "2.0", "method": "call", "params": {"db": db, "login": login, "password": password}}
    )
    request = urllib.request.Request(
        f"{url}/web/session/authenticate", body.encode(), {"Content-Type": "application/json"}
    )
    with opener.open(request, timeout=30) as response:
        answer = json.load(response)
    if "error" in answer:
        raise SystemExit(f"Login as {login} failed: {answer['error']['data']['message']}")
    return next(cookie.value for cookie in jar if cookie.name == "session_id")


class _Chromium:
    """Headless Chromium with a DevTools socket; its profile lives and dies with it."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="mcs-chromium-")
        self.ids = itertools.count(1)

    def __enter__(self) -> _Chromium:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its renderers too are stopped as one group
        )
        opener = urllib.request.build_opener(_NO_PROXY)
        deadline = time.monotonic() + 30
        while True:
            try:
                with opener.open(f"http://127.0.0.1:{port}/json", timeout=2) as response:
                    targets = json.load(response)
                page = next(target for target in targets if target["type"] == "page")
                break
            except (OSError, StopIteration):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.socket = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        return self

    def __exit__(self, *exc) -> None:
        self.socket.close()
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the profile is removed once nothing writes to it
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method: str, **params):
        """Send one DevTools command and return its result, skipping the events in between."""
        call_id = next(self.ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, tab: str = "", timeout: float = 30) -> None:
        """Open ``url`` and wait until the web client shows a view and has no request in flight."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        ready = "!!document.querySelector('.o_action_manager .o_view_controller')"
        while not self.evaluate(ready) and time.monotonic() < deadline:
            time.sleep(0.3)
        if tab:
            self.evaluate(f"document.querySelector('.o_notebook a[name=\"{tab}\"]')?.click()")
        time.sleep(1.5)  # the last RPCs and fonts

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])


if __name__ == "__main__":
    raise SystemExit(main())
