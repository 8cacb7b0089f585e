"""The site's main navigation. Labels are marked with ``N_`` for extraction and translated
when the header is rendered (``_(entry.label)``)."""

from __future__ import annotations

from dataclasses import dataclass


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    return message


@dataclass(frozen=True)
class NavEntry:
    path: str
    label: str
    signed_in_only: bool = False


NAVIGATION: tuple[NavEntry, ...] = (
    NavEntry("/", N_("Home")),
    NavEntry("/charts", N_("Charts")),
    NavEntry("/search", N_("Search")),
    NavEntry("/groups", N_("Groups")),
    NavEntry("/live", N_("Live")),
    NavEntry("/feed", N_("Feed"), signed_in_only=True),
    NavEntry("/recommendations", N_("Recommendations"), signed_in_only=True),
    NavEntry("/settings", N_("Settings"), signed_in_only=True),
)
