"""What every command needs: settings, a runtime, and errors printed instead of tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console

from tastegraph.config import Settings
from tastegraph.errors import TastegraphError
from tastegraph.runtime import Runtime

err = Console(stderr=True)


def load_settings() -> Settings:
    try:
        return Settings()
    except (ValueError, ValidationError) as exc:
        err.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


@contextmanager
def runtime(settings: Settings | None = None) -> Iterator[Runtime]:
    rt = Runtime.create(settings or load_settings())
    try:
        yield rt
    except TastegraphError as exc:
        err.print(f"[red]{exc.title}:[/red] {exc.detail}")
        raise typer.Exit(1) from None
    finally:
        rt.close()
