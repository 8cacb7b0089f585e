"""Titles and descriptions in the viewer's language, where the catalogue has them.

The viewer's languages come from their account's locale, then the request's
``Accept-Language``; an item is shown in the first of those the catalogue has it in (the item's
own language counts: a Danish viewer sees Borgen's Danish title, not an English translation),
and in its original title otherwise. ``de-AT`` takes ``de-AT``, then ``de``, then any ``de-*``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tastegraph.catalog.errors import InvalidRights
from tastegraph.catalog.matching import identity
from tastegraph.catalog.models import Item, ItemTranslation
from tastegraph.locales import normalize_locale
from tastegraph.storage.base import utcnow

MAX_ACCEPTED = 10
_ORIGINAL = ""


def parse_accept_language(header: str | None) -> list[str]:
    """``"de-AT,de;q=0.9,en;q=0.5"`` -> ``["de-AT", "de", "en"]`` (RFC 9110 weights; tags
    Babel does not know, ``*`` and ``q=0`` are dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if not tag or tag == "*" or weight <= 0:
            continue
        try:
            weighted.append((-weight, position, normalize_locale(tag)))
        except ValueError:
            continue
    return _unique(tag for _, _, tag in sorted(weighted))[:MAX_ACCEPTED]


def preferred_languages(account_locale: str | None, accept_language: str | None) -> tuple[str, ...]:
    """The account's locale first (a setting the person chose), then the browser's."""
    first = [account_locale] if account_locale else []
    return tuple(_unique([*first, *parse_accept_language(accept_language)]))


def pick_language(available: Collection[str], wanted: Sequence[str]) -> str | None:
    """The best of ``available`` for someone who reads ``wanted`` (best first), or None."""
    for tag in wanted:
        if tag in available:
            return tag
        base = tag.split("-")[0]
        if base in available:
            return base
        for candidate in sorted(available):
            if candidate.split("-")[0] == base:
                return candidate
    return None


def _unique(tags: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        if tag not in seen:
            seen.append(tag)
    return seen


@dataclass(frozen=True)
class Localised:
    title: str
    description: str | None
    language: str | None
    """The language of the translation shown; None when it is the original."""


class Translations:
    """Translations of items, inside the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(
        self, item: Item, language: str, title: str, description: str | None
    ) -> ItemTranslation:
        try:
            language = normalize_locale(language)
        except ValueError as exc:
            raise InvalidRights(str(exc)) from None
        title = " ".join(title.split())
        if not title:
            raise InvalidRights("A translated title cannot be blank.")
        row = self.session.get(ItemTranslation, (item.id, language))
        if row is None:
            row = ItemTranslation(item_id=item.id, language=language)
            self.session.add(row)
        row.title, row.search_key = title, identity(title)[:1024]
        row.description, row.updated_at = description, utcnow()
        self.session.flush()
        return row

    def remove(self, item: Item, language: str) -> bool:
        try:
            language = normalize_locale(language)
        except ValueError as exc:
            raise InvalidRights(str(exc)) from None
        result = self.session.execute(
            delete(ItemTranslation).where(
                ItemTranslation.item_id == item.id, ItemTranslation.language == language
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def of(self, item: Item) -> list[ItemTranslation]:
        return list(
            self.session.scalars(
                select(ItemTranslation)
                .where(ItemTranslation.item_id == item.id)
                .order_by(ItemTranslation.language)
            )
        )

    def localise(self, items: Sequence[Item], wanted: Sequence[str]) -> dict[int, Localised]:
        """Each item's title and description for a reader of ``wanted``, in one query."""
        by_item: dict[int, dict[str, ItemTranslation]] = {}
        ids = [item.id for item in items]
        if wanted and ids:
            for row in self.session.scalars(
                select(ItemTranslation).where(ItemTranslation.item_id.in_(ids))
            ):
                by_item.setdefault(row.item_id, {})[row.language] = row
        out: dict[int, Localised] = {}
        for item in items:
            translations = by_item.get(item.id, {})
            choice = None
            if translations:
                choices: dict[str, str] = {language: language for language in translations}
                if item.original_language:
                    choices.setdefault(item.original_language, _ORIGINAL)
                picked = pick_language(choices, wanted)
                choice = translations.get(choices[picked]) if picked is not None else None
            if choice is None:
                out[item.id] = Localised(item.title, item.description, None)
            else:
                out[item.id] = Localised(
                    choice.title, choice.description or item.description, choice.language
                )
        return out
