"""End-to-end tests in a real browser: Debian's Chromium driven by Playwright.

* ``ui_server``: a real ``tastegraph serve`` subprocess on a free port with a fresh, migrated
  SQLite database (one per test session; tests use their own user names).
* ``browser``: headless Chromium from ``/usr/bin/chromium`` (``TASTEGRAPH_TEST_CHROMIUM``
  overrides), launched by Playwright's bundled driver; no browser is ever downloaded.
* ``web``: a fresh browser context and page for one test, wrapped in ``WebSession``; any
  console error or page error fails the test, and ``web.shot(name)`` saves a screenshot to
  ``test-artifacts/screenshots/``.

Without Chromium (or Playwright) the tests skip with the reason, unless
``TASTEGRAPH_TEST_REQUIRE_BROWSER=1`` (as in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("TASTEGRAPH_TEST_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("TASTEGRAPH_TEST_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} and TASTEGRAPH_TEST_REQUIRE_BROWSER=1")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_answers(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"tastegraph serve exited:\n{log.read_text()[-3000:]}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:  # not listening yet, or too busy to answer in time
            pass
        finally:
            conn.close()  # a timed-out connection too: filterwarnings=error fails on leaks
        if time.monotonic() > deadline:
            raise RuntimeError(f"tastegraph serve did not answer:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real ``tastegraph serve`` on a fresh SQLite database."""
    folder = tmp_path_factory.mktemp("ui-server")
    executable = str(Path(sys.executable).with_name("tastegraph"))
    env = {
        **os.environ,
        "TASTEGRAPH_MODE": "dev",
        "TASTEGRAPH_DATA_DIR": str(folder / "data"),
        "TASTEGRAPH_DATABASE_URL": f"sqlite:///{folder / 'tastegraph.db'}",
        "TASTEGRAPH_AUDIENCE_REFRESH_SECONDS": "0",
        "OPENBLAS_NUM_THREADS": "1",
    }
    upgrade = subprocess.run(
        [executable, "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )
    if upgrade.returncode != 0:
        raise RuntimeError(f"tastegraph db upgrade failed:\n{upgrade.stdout}\n{upgrade.stderr}")
    port = _free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [executable, "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_answers(proc, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, the system's own, one per test module: Playwright's sync API keeps
    an event loop running in the thread while it is open, so it is stopped before a test
    module that calls ``asyncio.run`` can run in the same worker."""
    if shutil.which(CHROMIUM) is None:
        _skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class WebSession:
    """One browser tab on the test server, recording console and page errors."""

    page: Page
    base_url: str
    test_name: str
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    shots: int = 0

    def goto(self, path: str, *, shot: str | None = None) -> Any:
        response = self.page.goto(self.base_url + path)
        if shot:
            self.shot(shot)
        return response

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot as test-artifacts/screenshots/<test>-NN-<name>.png."""
        self.shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{self.shots:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def allow_error(self, pattern: str) -> None:
        """Let a console error matching ``pattern`` through (say, visiting a 404 page)."""
        self.allowed.append(re.compile(pattern))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location})")

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def web(browser: Browser, ui_server: str, request: pytest.FixtureRequest) -> Iterator[WebSession]:
    """A fresh browser context (no cookies) and tab; fails the test on any browser error."""
    context = browser.new_context(
        base_url=ui_server, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    session = WebSession(page=page, base_url=ui_server, test_name=name)
    page.on("console", session._console)
    page.on("pageerror", lambda exc: session.errors.append(f"page error: {exc}"))
    yield session
    context.close()
    unexpected = session.unexpected_errors()
    if unexpected:
        pytest.fail("browser errors:\n" + "\n".join(unexpected))
