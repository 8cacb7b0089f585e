"""What every command needs: settings, a runtime, and errors printed instead of tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import ArgumentError, DBAPIError

from tastegraph.config import Settings
from tastegraph.errors import TastegraphError
from tastegraph.runtime import Runtime

err = Console(stderr=True, soft_wrap=True, emoji=False)
"""Messages for the operator: one line each whatever the width, and text stays as written."""

ENV_PREFIX = "TASTEGRAPH_"


def fail(title: str, detail: str, *, code: int = 1) -> NoReturn:
    """Print ``title: detail`` (never parsed as markup) and exit with ``code``."""
    err.print(f"[red]{escape(title)}:[/red] {escape(detail)}")
    raise typer.Exit(code)


def _settings_problems(exc: ValidationError) -> list[str]:
    problems = []
    for detail in exc.errors(include_url=False, include_input=False):
        message = detail["msg"].removeprefix("Value error, ")
        if detail["loc"]:
            variable = ENV_PREFIX + "_".join(str(part) for part in detail["loc"]).upper()
            problems.append(f"{variable}: {message}")
        else:
            problems.append(message)  # a check across settings names its variables itself
    return problems


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        fail("Configuration error", "; ".join(_settings_problems(exc)), code=2)
    except ValueError as exc:
        fail("Configuration error", str(exc), code=2)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def runtime(settings: Settings | None = None, *, migrated: bool = True) -> Iterator[Runtime]:
    """A runtime for one command; domain and database errors end it with a message.

    With ``migrated`` (the default) the command refuses a database that is behind the code,
    naming ``tastegraph db upgrade``, instead of failing on a missing table half-way.
    """
    settings = settings or load_settings()
    try:
        rt = Runtime.create(settings)
    except ArgumentError as exc:
        fail("Configuration error", f"{ENV_PREFIX}DATABASE_URL: {_first_line(exc)}", code=2)
    except ValueError as exc:
        fail("Configuration error", str(exc), code=2)
    try:
        if migrated:
            from tastegraph.migrations import ensure_migrated

            ensure_migrated(rt.db.engine)
        yield rt
    except TastegraphError as exc:
        fail(exc.title, exc.detail)
    except DBAPIError as exc:
        where = rt.db.engine.url.render_as_string(hide_password=True)
        fail("Database error", f"{where}: {_first_line(exc)}")
    finally:
        rt.close()
