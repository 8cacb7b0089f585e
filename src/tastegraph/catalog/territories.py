"""Territories rights are granted to: countries, named groups of countries, and WORLD.

Groups are data an operator edits; a country joining or leaving a group changes what is
available there at once (the change bumps the rights version, see ``availability.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tastegraph.catalog.errors import InvalidRights, TerritoryGroupInUse, TerritoryGroupNotFound
from tastegraph.catalog.models import ItemBlackout, ItemRight, TerritoryGroup, TerritoryGroupMember
from tastegraph.locales import countries
from tastegraph.storage.base import utcnow

WORLD = "WORLD"
"""Every country, and viewers whose country is not known."""

_GROUP_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_EU = _codes("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK")

DEFAULT_GROUPS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "EU": ("European Union", _EU),
    "EEA": ("European Economic Area", (*_EU, "IS", "LI", "NO")),
    "DACH": ("Germany, Austria and Switzerland", ("AT", "CH", "DE")),
    "BENELUX": ("Belgium, the Netherlands and Luxembourg", ("BE", "LU", "NL")),
    "NORDICS": ("The Nordic countries", ("DK", "FI", "IS", "NO", "SE")),
    "UKI": ("The United Kingdom and Ireland", ("GB", "IE")),
    "NORTH_AMERICA": ("The United States and Canada", ("CA", "US")),
    "LATAM": (
        "Latin America",
        _codes("AR BO BR CL CO CR CU DO EC GT HN MX NI PA PE PR PY SV UY VE"),
    ),
    "ANZ": ("Australia and New Zealand", ("AU", "NZ")),
    "MENA": (
        "The Middle East and North Africa",
        _codes("AE BH DZ EG IQ JO KW LB LY MA OM PS QA SA SY TN YE"),
    ),
}
"""The groups a new database starts with (migration 0012 seeds a copy of this list)."""


def normalize_country_code(code: str) -> str:
    code = code.strip().upper()
    if code not in countries():
        raise InvalidRights(f"{code!r} is not an ISO 3166-1 alpha-2 country code.")
    return code


def check_group_key(key: str) -> str:
    key = key.strip().upper()
    if key == WORLD:
        raise InvalidRights("WORLD is built in: it covers every country and cannot be edited.")
    if key in countries():
        raise InvalidRights(f"{key!r} is a country code; a group needs a name of its own.")
    if not _GROUP_KEY.match(key):
        raise InvalidRights(
            f"{key!r} is not a group key: 2 to 32 capital letters, digits or _, "
            "starting with a letter (EU, DACH, LATAM)."
        )
    return key


def split_codes(text: str) -> list[str]:
    """``"DE AT;CH|EU"`` -> ``["DE", "AT", "CH", "EU"]``: the separators sheets use."""
    return [part for part in re.split(r"[\s,;|]+", text.strip().upper()) if part]


@dataclass(frozen=True)
class GroupView:
    key: str
    name: str
    countries: tuple[str, ...]


class TerritoryGroups:
    """Groups of countries, inside the caller's unit of work. ``changed`` is called after
    every change (it bumps the rights version)."""

    def __init__(self, session: Session, changed: Callable[[Session], None]) -> None:
        self.session = session
        self.changed = changed

    def keys(self) -> set[str]:
        return set(self.session.scalars(select(TerritoryGroup.key)))

    def normalize(self, code: str, known: set[str] | None = None) -> str:
        """A territory as stored: a country code, a known group's key, or WORLD."""
        code = code.strip().upper()
        if code == WORLD or code in countries():
            return code
        if code in (known if known is not None else self.keys()):
            return code
        raise InvalidRights(
            f"{code!r} is neither an ISO 3166-1 country code, WORLD, nor a territory group "
            "(GET /api/v1/catalog/territory-groups lists them)."
        )

    def all(self) -> list[GroupView]:
        members: dict[str, list[str]] = {}
        for key, country in self.session.execute(
            select(TerritoryGroupMember.group_key, TerritoryGroupMember.country).order_by(
                TerritoryGroupMember.group_key, TerritoryGroupMember.country
            )
        ):
            members.setdefault(key, []).append(country)
        return [
            GroupView(group.key, group.name, tuple(members.get(group.key, ())))
            for group in self.session.scalars(select(TerritoryGroup).order_by(TerritoryGroup.key))
        ]

    def get(self, key: str) -> GroupView:
        group = self.session.get(TerritoryGroup, key.strip().upper())
        if group is None:
            raise TerritoryGroupNotFound(f"There is no territory group {key!r}.")
        found = self.session.scalars(
            select(TerritoryGroupMember.country)
            .where(TerritoryGroupMember.group_key == group.key)
            .order_by(TerritoryGroupMember.country)
        )
        return GroupView(group.key, group.name, tuple(found))

    def put(self, key: str, name: str, members: Iterable[str]) -> GroupView:
        """Create a group or replace its name and countries."""
        key = check_group_key(key)
        wanted = sorted({normalize_country_code(code) for code in members})
        group = self.session.get(TerritoryGroup, key)
        if group is None:
            self.session.add(TerritoryGroup(key=key, name=name))
        else:
            group.name, group.updated_at = name, utcnow()
        self.session.flush()
        self.session.execute(
            delete(TerritoryGroupMember).where(TerritoryGroupMember.group_key == key)
        )
        self.session.add_all(TerritoryGroupMember(group_key=key, country=c) for c in wanted)
        self.changed(self.session)
        return GroupView(key, name, tuple(wanted))

    def add_country(self, key: str, country: str) -> GroupView:
        group = self.get(key)
        country = normalize_country_code(country)
        if country not in group.countries:
            self.session.add(TerritoryGroupMember(group_key=group.key, country=country))
            self._touch(group.key)
        return self.get(group.key)

    def remove_country(self, key: str, country: str) -> GroupView:
        group = self.get(key)
        country = normalize_country_code(country)
        if country in group.countries:
            self.session.execute(
                delete(TerritoryGroupMember).where(
                    TerritoryGroupMember.group_key == group.key,
                    TerritoryGroupMember.country == country,
                )
            )
            self._touch(group.key)
        return self.get(group.key)

    def delete(self, key: str) -> None:
        group = self.get(key)
        used = self.session.scalar(
            select(func.count()).select_from(ItemRight).where(ItemRight.territory == group.key)
        )
        blackouts = sum(
            1
            for territories in self.session.scalars(select(ItemBlackout.territories))
            if group.key in territories
        )
        if used or blackouts:
            raise TerritoryGroupInUse(
                f"{used} rights and {blackouts} blackouts name {group.key}; remove them first.",
                rights=used,
                blackouts=blackouts,
            )
        self.session.execute(delete(TerritoryGroup).where(TerritoryGroup.key == group.key))
        self.changed(self.session)

    def restore_defaults(self) -> list[GroupView]:
        """Put back every default group that is missing; groups that exist are left alone."""
        existing = self.keys()
        for key, (name, members) in DEFAULT_GROUPS.items():
            if key not in existing:
                self.put(key, name, members)
        return self.all()

    def _touch(self, key: str) -> None:
        group = self.session.get(TerritoryGroup, key)
        if group is not None:
            group.updated_at = utcnow()
        self.session.flush()
        self.changed(self.session)
