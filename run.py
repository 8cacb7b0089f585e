#!/usr/bin/env python3
"""Set up tastegraph and run it, with nothing but python3 on the machine.

    python3 run.py demo    create .venv, install, migrate SQLite, load the demo community, serve
    python3 run.py test    create .venv, install, then ruff, mypy and the test suite
                           (on SQLite and, where a server answers, on PostgreSQL), spread
                           over TASTEGRAPH_TEST_WORKERS processes (default 3; 0: one)
    python3 run.py setup   only create .venv and install

Everything lands in .venv beside this file; nothing is installed globally.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".tastegraph-installed"


def _run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=False)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"tastegraph needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    _run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(PY, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)


def demo(extra: list[str]) -> None:
    setup()
    env = dict(os.environ)
    env.setdefault("TASTEGRAPH_MODE", "demo")
    _run(BIN / "tastegraph", "demo", "--serve", *extra, env=env)


def test(extra: list[str]) -> None:
    setup()
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    _run(PY, "-m", "ruff", "check", "src", "tests", "bench", "run.py", env=env)
    _run(PY, "-m", "ruff", "format", "--check", "src", "tests", "bench", "run.py", env=env)
    _run(PY, "-m", "mypy", env=env)
    # Test modules are spread over worker processes (pytest-xdist), a whole module per worker
    # so module fixtures are built once; TASTEGRAPH_TEST_WORKERS=0 runs them in this process.
    workers = env.get("TASTEGRAPH_TEST_WORKERS", "3")
    spread = [] if workers == "0" else ["-n", workers, "--dist", "loadfile"]
    _run(PY, "-m", "pytest", *spread, *extra, env=env)


def main() -> None:
    command, extra = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "setup":
        setup()
    elif command == "demo":
        demo(extra)
    elif command == "test":
        test(extra)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
