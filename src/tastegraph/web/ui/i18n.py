"""UI languages: the gettext catalogues of every domain, merged per locale, and negotiation.

Catalogues are ``translations/<locale>/LC_MESSAGES/<domain>.po`` beside the templates. Every
``.po`` file of a locale is read and merged, so each page family can keep its own domain file
(``ui.po``, ``console.po`` ...) without two people editing one file. They are compiled in
memory when the app is built, so nothing needs a manual compile step.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES: tuple[str, ...] = ("en", "fr", "es", "de", "pt", "ja")
"""The languages the UI ships in; the first is the fallback."""

DEFAULT_LOCALE = LOCALES[0]

TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"


def catalogue_files(locale: str, root: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Every domain file of ``locale``, in name order (a later domain wins a clash)."""
    return sorted((root / locale / "LC_MESSAGES").glob("*.po"))


def read_catalogue(locale: str, root: Path = TRANSLATIONS_DIR) -> Catalog:
    """Every domain file of ``locale`` read into one catalogue (a later file wins a clash)."""
    combined = Catalog(locale=locale, domain="tastegraph")
    for path in catalogue_files(locale, root):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=locale, domain=path.stem):
                if message.id:
                    combined[message.id] = message
    return combined


def load_translations(locale: str, root: Path = TRANSLATIONS_DIR) -> Translations:
    """All domains of ``locale``, compiled in memory (fuzzy entries are left out, as msgfmt
    does, so an unreviewed translation shows the English text)."""
    stamps = tuple((path.name, path.stat().st_mtime_ns) for path in catalogue_files(locale, root))
    compiled = io.BytesIO(_compiled(locale, root, stamps))
    return Translations(compiled, domain="tastegraph")


@functools.lru_cache(maxsize=64)
def _compiled(locale: str, root: Path, stamps: tuple[tuple[str, int], ...]) -> bytes:
    """The .mo bytes of ``locale``'s catalogues as they are on disk (``stamps``: their names
    and modification times). Parsing the .po files costs ~70 ms a locale, and every app a
    process creates (each test creates one) would pay it again; an edited file has a new
    stamp and is read afresh."""
    del stamps  # part of the cache key only
    out = io.BytesIO()
    write_mo(out, read_catalogue(locale, root))
    return out.getvalue()


@dataclass(frozen=True)
class Catalogues:
    """The compiled translations of every UI locale; built once per app."""

    translations: dict[str, Translations]

    @classmethod
    def load(cls, root: Path = TRANSLATIONS_DIR) -> Catalogues:
        return cls({locale: load_translations(locale, root) for locale in LOCALES})


def supported(tag: str | None) -> str | None:
    """The UI locale for a language tag (``pt-BR`` -> ``pt``), or None if not shipped."""
    if not tag:
        return None
    try:
        language = Locale.parse(tag.strip().replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return language if language in LOCALES else None


def from_accept_language(header: str | None) -> str | None:
    """The best shipped locale for an ``Accept-Language`` header (quality values honoured)."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    return first_supported(tag for _, _, tag in sorted(ranked))


def first_supported(tags: Iterable[str | None]) -> str | None:
    for tag in tags:
        found = supported(tag)
        if found is not None:
            return found
    return None


def negotiate(*, chosen: str | None, user_setting: str | None, accept_language: str | None) -> str:
    """Explicit choice (cookie), then the user's setting, then the browser's, then English."""
    return (
        supported(chosen)
        or supported(user_setting)
        or from_accept_language(accept_language)
        or DEFAULT_LOCALE
    )
