"""Operators' rights data: grants, live blackouts and rights sheets, in the caller's unit of
work. Every change calls ``changed`` (which bumps the rights version; see availability.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tastegraph.catalog.errors import (
    BlackoutNotFound,
    InvalidRights,
    ItemNotFound,
    RightsNotFound,
    RightsSheetRejected,
)
from tastegraph.catalog.models import ExternalId, ItemBlackout, ItemRight, Offer
from tastegraph.catalog.rights_schemas import BlackoutIn, RightIn, SheetProblem, SheetReport
from tastegraph.catalog.rights_sheet import ItemKey, Problem, SheetRow, read_sheet
from tastegraph.catalog.territories import TerritoryGroups

Canonical = Callable[[Sequence[int]], dict[int, int]]
_CHUNK = 500

_GrantKey = tuple[int, str, Offer, float | None]


def _key(item_id: int, territory: str, offer: Offer, starts_at: datetime | None) -> _GrantKey:
    return (item_id, territory, offer, starts_at.timestamp() if starts_at else None)


class RightsService:
    def __init__(
        self,
        session: Session,
        territories: TerritoryGroups,
        canonical: Canonical,
        changed: Callable[[Session], None],
    ) -> None:
        self.session = session
        self.territories = territories
        self.canonical = canonical
        self.changed = changed

    # -- grants -------------------------------------------------------------------------------

    def grant(self, data: RightIn) -> ItemRight:
        item_id = self._item(data.item_id)
        territory = self.territories.normalize(data.territory)
        existing = self._existing([item_id]).get(
            _key(item_id, territory, data.offer, data.starts_at)
        )
        row = existing or ItemRight(
            item_id=item_id, territory=territory, offer=data.offer, starts_at=data.starts_at
        )
        row.ends_at = data.ends_at
        row.audio_languages = list(data.audio_languages)
        row.subtitle_languages = list(data.subtitle_languages)
        if existing is None:
            self.session.add(row)
        self.session.flush()
        self.changed(self.session)
        return row

    def find(
        self,
        *,
        item_id: int | None = None,
        territory: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[ItemRight], int]:
        stmt = select(ItemRight)
        if item_id is not None:
            stmt = stmt.where(ItemRight.item_id == self._item(item_id))
        if territory is not None:
            stmt = stmt.where(ItemRight.territory == territory.strip().upper())
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self.session.scalars(
            stmt.order_by(ItemRight.item_id, ItemRight.territory, ItemRight.id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows), total

    def get(self, right_id: int) -> ItemRight:
        row = self.session.get(ItemRight, right_id)
        if row is None:
            raise RightsNotFound(f"There is no rights grant {right_id}.")
        return row

    def remove(self, right_ids: Sequence[int]) -> int:
        for right_id in right_ids:
            self.get(right_id)
        self.session.execute(delete(ItemRight).where(ItemRight.id.in_(list(right_ids))))
        if right_ids:
            self.changed(self.session)
        return len(right_ids)

    def remove_for_item(self, item_id: int) -> int:
        target = self._item(item_id)
        ids = list(self.session.scalars(select(ItemRight.id).where(ItemRight.item_id == target)))
        return self.remove(ids)

    # -- blackouts ----------------------------------------------------------------------------

    def add_blackout(self, data: BlackoutIn) -> ItemBlackout:
        item_id = self._item(data.item_id)
        known = self.territories.keys()
        territories: list[str] = []
        for code in data.territories:
            territory = self.territories.normalize(code, known)
            if territory not in territories:
                territories.append(territory)
        row = ItemBlackout(
            item_id=item_id,
            territories=territories,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            note=data.note,
        )
        self.session.add(row)
        self.session.flush()
        self.changed(self.session)
        return row

    def blackouts(self, *, item_id: int | None = None) -> list[ItemBlackout]:
        stmt = select(ItemBlackout).order_by(ItemBlackout.starts_at, ItemBlackout.id)
        if item_id is not None:
            stmt = stmt.where(ItemBlackout.item_id == self._item(item_id))
        return list(self.session.scalars(stmt))

    def remove_blackout(self, blackout_id: int) -> None:
        row = self.session.get(ItemBlackout, blackout_id)
        if row is None:
            raise BlackoutNotFound(f"There is no blackout {blackout_id}.")
        self.session.delete(row)
        self.session.flush()
        self.changed(self.session)

    # -- rights sheets ------------------------------------------------------------------------

    def import_sheet(self, text: str) -> SheetReport:
        """Store every good row of a CSV rights sheet and report every bad one with its line.

        A grant of the same item, territory, offer and start as one stored already replaces its
        end and languages, so a corrected sheet can simply be imported again.
        """
        sheet = read_sheet(text)
        problems = list(sheet.problems)
        items = self._sheet_items(sheet.rows, problems)
        known = self.territories.keys()
        accepted: list[tuple[SheetRow, int, list[str]]] = []
        for row in sheet.rows:
            item_id = items.get(row.item)
            territories: list[str] = []
            bad = False
            for code in row.territories:
                try:
                    territories.append(self.territories.normalize(code, known))
                except InvalidRights as exc:
                    problems.append(Problem(row.line, "territory", "unknown_territory", exc.detail))
                    bad = True
            if item_id is None or bad:
                continue
            accepted.append((row, item_id, list(dict.fromkeys(territories))))
        existing = self._existing(sorted({item_id for _, item_id, _ in accepted}))
        stored = updated = unchanged = 0
        for row, item_id, territories in accepted:
            for territory in territories:
                key = _key(item_id, territory, row.offer, row.starts_at)
                grant = existing.get(key)
                if grant is None:
                    grant = ItemRight(
                        item_id=item_id,
                        territory=territory,
                        offer=row.offer,
                        starts_at=row.starts_at,
                        ends_at=row.ends_at,
                        audio_languages=row.audio,
                        subtitle_languages=row.subtitles,
                    )
                    self.session.add(grant)
                    existing[key] = grant
                    stored += 1
                elif (grant.ends_at, grant.audio_languages, grant.subtitle_languages) == (
                    row.ends_at,
                    row.audio,
                    row.subtitles,
                ):
                    unchanged += 1
                else:
                    grant.ends_at = row.ends_at
                    grant.audio_languages, grant.subtitle_languages = row.audio, row.subtitles
                    updated += 1
        rejected = [
            SheetProblem(line=p.line, field=p.field, code=p.code, message=p.message)
            for p in sorted(problems, key=lambda p: (p.line, p.field or ""))
        ]
        report = SheetReport(
            rows=sheet.read,
            stored=stored,
            updated=updated,
            unchanged=unchanged,
            rejected=rejected,
            ignored_columns=sheet.ignored_columns,
        )
        if stored or updated:
            self.session.flush()
            self.changed(self.session)
        elif rejected and not accepted:
            raise RightsSheetRejected(
                f"None of the {sheet.read} rows could be stored; {len(rejected)} problems.",
                rejected=[r.model_dump() for r in rejected],
            )
        return report

    def _sheet_items(self, rows: Sequence[SheetRow], problems: list[Problem]) -> dict[ItemKey, int]:
        """Each row's item as a canonical id; rows naming no known item are reported."""
        found: dict[ItemKey, int] = {}
        ids = sorted({row.item.item_id for row in rows if row.item.item_id is not None})
        canonical: dict[int, int] = {}
        for start in range(0, len(ids), _CHUNK):
            canonical.update(self.canonical(ids[start : start + _CHUNK]))
        by_scheme: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            if row.item.scheme and row.item.value:
                by_scheme[row.item.scheme].add(row.item.value)
        external: dict[tuple[str, str], int] = {}
        for scheme, values in by_scheme.items():
            ordered = sorted(values)
            for start in range(0, len(ordered), _CHUNK):
                for value, item_id in self.session.execute(
                    select(ExternalId.value, ExternalId.item_id).where(
                        ExternalId.scheme == scheme,
                        ExternalId.value.in_(ordered[start : start + _CHUNK]),
                    )
                ):
                    external[(scheme, value)] = item_id
        if external:
            merged = self.canonical(sorted(set(external.values())))
            external = {key: merged.get(item_id, item_id) for key, item_id in external.items()}
        for row in rows:
            key = row.item
            if key.item_id is not None:
                target = canonical.get(key.item_id)
            else:
                target = external.get((key.scheme or "", key.value or ""))
            if target is None:
                problems.append(
                    Problem(row.line, "item", "unknown_item", f"no catalogue item is {key}")
                )
            else:
                found[key] = target
        return found

    # -- helpers ------------------------------------------------------------------------------

    def _item(self, item_id: int) -> int:
        canonical = self.canonical([item_id]).get(item_id)
        if canonical is None:
            raise ItemNotFound(f"There is no item with id {item_id}.")
        return canonical

    def _existing(self, item_ids: Sequence[int]) -> dict[_GrantKey, ItemRight]:
        out: dict[_GrantKey, ItemRight] = {}
        for start in range(0, len(item_ids), _CHUNK):
            for row in self.session.scalars(
                select(ItemRight).where(ItemRight.item_id.in_(item_ids[start : start + _CHUNK]))
            ):
                out[_key(row.item_id, row.territory, row.offer, row.starts_at)] = row
        return out
