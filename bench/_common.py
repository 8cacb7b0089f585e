"""What the benchmark scripts share: the catalogue generator, a real server, throwaway databases.

Not a benchmark itself. The scripts in this folder import it as ``_common`` (Python puts the
script's folder first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

DEFAULT_PG_URL = os.environ.get(
    "TASTEGRAPH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BIN = Path(sys.executable).parent
"""Where the project's virtualenv keeps ``tastegraph``: next to the interpreter running us."""

# -- catalogue ----------------------------------------------------------------------------------

_SYLLABLES = tuple(c + v for c in "bdfhjklmnrstvz" for v in "aeiou")
_WORDS = tuple(
    " ".join(
        (
            "love night heart fire blue dream light rain summer city star gold river wild",
            "shadow dance ocean ghost silver storm midnight echo paper sky garden neon",
            "stone velvet honey thunder glass winter",
        )
    ).split()
)
_ACCENTED = ("é", "ö", "ñ", "ø", "å", "ç")


def _name(rng: random.Random, words: int) -> str:
    parts = []
    for _ in range(words):
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        if rng.random() < 0.1:
            pos = rng.randrange(len(word))
            word = word[:pos] + rng.choice(_ACCENTED) + word[pos + 1 :]
        parts.append(word.capitalize())
    return " ".join(parts)


def _title(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 4))]
    title = " ".join(w.capitalize() for w in words)
    if rng.random() < 0.05:
        title += f" ({rng.choice(['Remastered', 'Live', 'Radio Edit'])})"
    return title


def make_catalogue(rng: random.Random, tracks: int) -> list[dict[str, Any]]:
    """Item references for ``tracks`` distinct tracks, most popular first.

    About one artist per 8 tracks and one album per 10; 5% of the tracks credit a featured
    artist (``"A feat. B"``), 10% of the words carry an accent. Each reference is a native
    ``TrackRef`` (``kind``, ``title``, ``artist``, and often ``album``, ``duration`` in
    seconds, ``track_number``).
    """
    artists = [_name(rng, rng.randint(1, 2)) for _ in range(max(tracks // 8, 2))]
    albums = [(rng.choice(artists), _title(rng)) for _ in range(max(tracks // 10, 1))]
    refs: dict[tuple[str, str, str], dict[str, Any]] = {}
    while len(refs) < tracks:
        artist, album = rng.choice(albums)
        title = _title(rng)
        performer = artist
        if rng.random() < 0.05:
            performer = f"{artist} feat. {rng.choice(artists)}"
        key = (performer.casefold(), title.casefold(), album.casefold())
        if key in refs:
            continue
        ref: dict[str, Any] = {"kind": "track", "title": title, "artist": performer}
        if rng.random() < 0.9:
            ref["album"] = album
        if rng.random() < 0.8:
            ref["duration"] = rng.randint(90, 480)
        if rng.random() < 0.3:
            ref["track_number"] = rng.randint(1, 16)
        refs[key] = ref
    catalogue = list(refs.values())
    rng.shuffle(catalogue)
    return catalogue


def zipf_cumulative(count: int, exponent: float) -> list[float]:
    """Cumulative weights for ``random.choices``: rank r is chosen in proportion to 1/r^s."""
    cumulative: list[float] = []
    total = 0.0
    for rank in range(count):
        total += 1 / (rank + 1) ** exponent
        cumulative.append(total)
    return cumulative


# -- measuring ----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(max(math.ceil(share * len(ordered)), 1), len(ordered))
    return ordered[rank - 1]


T = TypeVar("T")


def median_of(runs: Sequence[T], rate: Callable[[T], float]) -> tuple[T, float, float]:
    """The run with the median rate, and the lowest and highest rate of all runs."""
    ordered = sorted(runs, key=rate)
    return ordered[(len(ordered) - 1) // 2], rate(ordered[0]), rate(ordered[-1])


def freeze() -> None:
    """Take the workload out of the garbage collector's sight.

    Otherwise the collector walks 100,000 plays held by this process on every full
    collection, and the in-process paths pay for the benchmark's own memory.
    """
    gc.collect()
    gc.freeze()


# -- a real server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str) -> str:
    """Run ``tastegraph ARGS`` and return what it printed; raise with its output on failure."""
    done = subprocess.run(
        [str(BIN / "tastegraph"), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"tastegraph {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def wait_until_answers(
    proc: subprocess.Popen[bytes], port: int, path: str, log_path: Path, timeout: float = 60
) -> None:
    """Poll ``GET path`` until the server answers 200; raise if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    """Ask a server we started to stop; kill it if it has not within 30 s."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def tastegraph_process(
    env: dict[str, str], log_path: Path
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``tastegraph serve`` on a free port, stopped on exit; yields the port and the process."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(BIN / "tastegraph"), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answers(proc, port, "/openapi.json", log_path)
        yield port, proc
    finally:
        stop(proc)


@contextlib.contextmanager
def tastegraph_server(env: dict[str, str], log_path: Path) -> Iterator[int]:
    """``tastegraph serve`` on a free port, stopped on exit; yields the port."""
    with tastegraph_process(env, log_path) as (port, _proc):
        yield port


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process (all its threads) has used so far; None once it is
    gone, or where there is no ``/proc``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- databases ----------------------------------------------------------------------------------


def postgres_problem(admin_url: str) -> str | None:
    """Why the PostgreSQL server at ``admin_url`` cannot be used, or None when it answers."""
    try:
        engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means "not reachable", with why
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path, admin_url: str, label: str) -> Iterator[str]:
    """A database URL no one used before: a new SQLite file, or a PostgreSQL database created
    on ``admin_url``'s server and dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'{label}.db'}"
        return
    safe = "".join(c if c.isalnum() else "_" for c in label)
    name = f"tastegraph_bench_{os.getpid()}_{safe}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_version(admin_url: str) -> str:
    """``PostgreSQL 15`` (the major version), or ``PostgreSQL`` when it cannot be asked."""
    try:
        engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            number = int(conn.execute(sa.text("show server_version_num")).scalar_one())
        engine.dispose()
        return f"PostgreSQL {number // 10000}"
    except Exception:  # only a label
        return "PostgreSQL"


# -- command line and output --------------------------------------------------------------------


def choices(
    parser: argparse.ArgumentParser,
    given: str,
    known: tuple[str, ...],
    aliases: dict[str, str] | None = None,
) -> list[str]:
    """A comma-separated option as a list, each item one of ``known`` (or an alias of one)."""
    chosen = [part.strip() for part in given.split(",") if part.strip()]
    chosen = [(aliases or {}).get(name, name) for name in chosen]
    for name in chosen:
        if name not in known:
            parser.error(f"unknown choice {name!r}; pick from {', '.join(known)}")
    return chosen


def format_table(
    header: tuple[str, ...], rows: list[tuple[str, ...]], align: str, *, markdown: bool = False
) -> list[str]:
    """Lines of a table with padded columns; ``align`` has one ``<`` or ``>`` per column.

    ``markdown`` gives a GitHub table (``| a | b |`` with ``---:`` for right-aligned columns),
    otherwise cells are joined with `` | `` under a ``-+-`` rule.
    """
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]

    def line(cells: tuple[str, ...]) -> str:
        text = " | ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths, strict=True))
        return f"| {text} |" if markdown else text.rstrip()

    if markdown:
        rule = "|" + "|".join(
            "-" * (w + 1) + ":" if a == ">" else "-" * (w + 2)
            for a, w in zip(align, widths, strict=True)
        )
        rule += "|"
    else:
        rule = "-+-".join("-" * w for w in widths)
    return [line(header), rule, *(line(row) for row in rows)]
