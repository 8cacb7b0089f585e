"""Errors of the console's forms: what went wrong, on which field, in the page's language.

Each error names the field (``f-<field>`` is its input's id, so the summary links to it), a
message in the page's language, and optionally the area's own detail, which is English (the
templates mark it ``lang="en"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from tastegraph.errors import TastegraphError


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    detail: str = ""


@dataclass
class FormErrors:
    items: list[FieldError] = field(default_factory=list)

    def add(self, name: str, message: str, detail: str = "") -> None:
        self.items.append(FieldError(name, message, detail))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)

    def on(self, name: str) -> bool:
        """Whether the field has an error (its input gets ``aria-invalid``)."""
        return any(e.field == name for e in self.items)

    def fields(self) -> set[str]:
        return {e.field for e in self.items}


def field_of(location: Iterable[int | str], known: set[str]) -> str:
    """The form field a pydantic location or an area's dotted field path points at: the
    deepest known name in it (``targeting.countries.1`` -> ``countries``)."""
    parts = [str(p) for p in location]
    for part in reversed(parts):
        if part in known:
            return part
    return parts[0] if parts else ""


Describe = Callable[[str], str]
"""The message for a field's translated label ("" when no field is known)."""


def add_validation_errors(
    errors: FormErrors, exc: ValidationError, labels: dict[str, str], describe: Describe
) -> None:
    """Each pydantic error as a message about its field, with pydantic's text as the detail."""
    for error in exc.errors(include_url=False, include_input=False):
        name = field_of(error["loc"], set(labels))
        text = str(error["msg"]).removeprefix("Value error, ")
        errors.add(name, describe(labels.get(name, "")), text)


def add_area_errors(
    errors: FormErrors, exc: TastegraphError, labels: dict[str, str], describe: Describe
) -> None:
    """An area's error (``extra["errors"]`` with ``field`` paths, or just its detail)."""
    listed = exc.extra.get("errors") or []
    if not listed:
        errors.add("", describe(""), exc.detail)
        return
    for error in listed:
        name = field_of(str(error.get("field") or "").split("."), set(labels))
        errors.add(name, describe(labels.get(name, "")), str(error.get("message", "")))
