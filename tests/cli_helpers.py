"""Running ``tastegraph`` as an operator does: real processes, real servers, and the CliRunner.

Every helper takes the database URL of the test (the ``database_url`` fixture), so a test that
uses them runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from tastegraph.cli.main import app

COMMAND = [sys.executable, "-m", "tastegraph"]
TIMEOUT = 60.0
"""No command of these tests takes more than a few seconds; this only stops a hang."""


def cli_env(database_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a child process: this one's, minus every TASTEGRAPH_* setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEGRAPH_")}
    env["TASTEGRAPH_MODE"] = "dev"
    if database_url is not None:
        env["TASTEGRAPH_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "200"  # rich wraps tables at the terminal width; keep lines whole
    env.update(extra)
    return env


def run_cli(
    *args: str,
    env: Mapping[str, str],
    timeout: float = TIMEOUT,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m tastegraph ARGS`` in a child process; never raises on a non-zero exit."""
    return subprocess.run(
        [*COMMAND, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        cwd=cwd,
        check=False,
    )


def invoke(args: list[str], env: Mapping[str, str | None]) -> Result:
    """The CLI in this process, with the settings in ``env`` (other TASTEGRAPH_* unset)."""
    full: dict[str, str | None] = {k: None for k in os.environ if k.startswith("TASTEGRAPH_")}
    full["COLUMNS"] = "200"
    full.update(env)
    return CliRunner().invoke(app, args, env=full)


def dev_env(database_url: str, **extra: str) -> dict[str, str | None]:
    """Settings for ``invoke``: dev mode on ``database_url``."""
    return {"TASTEGRAPH_MODE": "dev", "TASTEGRAPH_DATABASE_URL": database_url, **extra}


def assert_clean_exit(result: Result | subprocess.CompletedProcess[str], code: int) -> str:
    """The exit code is ``code`` and no traceback was printed; returns stderr, unwrapped."""
    if isinstance(result, Result):
        exit_code, stderr, stdout = result.exit_code, result.stderr, result.stdout
        unexpected = result.exception
        if isinstance(unexpected, SystemExit):
            unexpected = None
        assert unexpected is None, f"{unexpected!r}\n{stdout}\n{stderr}"
    else:
        exit_code, stderr, stdout = result.returncode, result.stderr, result.stdout
    assert exit_code == code, f"exit {exit_code}, wanted {code}\n{stdout}\n{stderr}"
    assert "Traceback" not in stderr, stderr
    assert "Traceback" not in stdout, stdout
    return " ".join(stderr.split())


@contextmanager
def empty_database(like: str, directory: Path) -> Iterator[str]:
    """A database that no migration has touched, of the same backend as the URL ``like``.

    SQLite: a file in ``directory`` (not created yet). PostgreSQL: a new database on the same
    server, dropped at the end.
    """
    if like.startswith("sqlite"):
        yield f"sqlite:///{directory / f'fresh-{uuid.uuid4().hex[:8]}' / 'tastegraph.db'}"
        return
    base = sa.make_url(like)
    name = f"tastegraph_fresh_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A ``tastegraph serve`` process."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10.0)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no goodbye."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=TIMEOUT)


@contextmanager
def serving(env: Mapping[str, str], log: Path, *, startup: float = 30.0) -> Iterator[Server]:
    """Start ``tastegraph serve`` on a free port, wait for /healthz; always kill it at the end.

    A free port can be taken by another test's server between choosing it and binding it (the
    tests run in parallel): the server is only taken as up once *its* log says it listens on
    the port, and a start that lost the port is tried again on another."""
    for attempt in range(3):
        port = free_port()
        written = log.stat().st_size if log.exists() else 0  # earlier starts' lines
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [*COMMAND, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=dict(env),
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = Server(process=process, base_url=f"http://127.0.0.1:{port}", log=log)
        try:
            _wait_healthy(server, startup, written)
        except _PortTaken:
            if attempt == 2:
                raise
            continue
        except BaseException:
            with suppress(ProcessLookupError):
                server.kill()
            raise
        try:
            yield server
        finally:
            with suppress(ProcessLookupError):
                server.kill()
        return


class _PortTaken(AssertionError):
    """The server could not bind its port (another process took it first)."""


def _wait_healthy(server: Server, startup: float, written: int) -> None:
    """Wait until this process answers /healthz. Only the log written after ``written``
    bytes is this start's: a log shared with earlier starts (a retry, a restart in the same
    test) must not say "listening" or "address already in use" for it."""
    deadline = time.monotonic() + startup
    listening = f"Uvicorn running on {server.base_url}"

    def own_output() -> str:
        return server.log.read_bytes()[written:].decode("utf-8", errors="replace")

    with server.client() as http:
        while True:
            code = server.process.poll()
            if code is not None:
                output = own_output()
                if "address already in use" in output.lower():
                    raise _PortTaken(output)
                raise AssertionError(f"the server exited with {code}:\n{output}")
            with suppress(httpx.TransportError):
                answered = http.get("/healthz", timeout=2.0).status_code == 200
                # Whoever answers must be this process (its log says it listens there).
                if answered and listening in own_output():
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"no /healthz after {startup} s:\n{own_output()}")
            time.sleep(0.1)


def stored_plays(server: Server, name: str, headers: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every play of ``name`` the server returns, following the history's pages."""
    plays: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/users/{name}/plays?limit=1000"
    with server.client() as http:
        while url:
            page = http.get(url, headers=dict(headers))
            assert page.status_code == 200, page.text
            body = page.json()
            plays.extend(body["plays"])
            url = body["next"]
    return plays
