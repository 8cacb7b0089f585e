"""Running one import: records read from a file go through validation and
``IngestService.record`` in batches of 1,000, each in its own transaction, and every row is
counted as accepted, a duplicate or rejected (with why). Loves and other feedback are stored
after the plays, whose items they may name.

Shared by ``tastegraph import`` (a progress bar in the terminal) and the import page of the
web settings (a job in a thread, its progress polled by the browser).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tastegraph.catalog.errors import ItemNotFound
from tastegraph.catalog.schemas import ItemRef
from tastegraph.ingest.models import Feedback, Sentiment
from tastegraph.ingest.schemas import PlayProblem, PlayResult, PlayStatus
from tastegraph.ingest.validation import problems_from, validate_plays
from tastegraph.portability import sources
from tastegraph.portability.formats.base import FeedbackRow, Reading, Record, Row
from tastegraph.runtime import Runtime

BATCH = 1000
COUNTS = ("read", "accepted", "duplicate", "rejected")
"""The report's counts: every row read is accepted, a duplicate, or rejected."""
_ITEM: TypeAdapter[Any] = TypeAdapter(ItemRef)

Progress = Callable[[Reading], None]
"""Called after each batch with the reading (``position()`` of ``total`` in ``unit``)."""


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)
    """Plays: read = accepted + duplicate + rejected."""
    feedback: Counter[str] = field(default_factory=Counter)
    """Loves, hates and the like, counted the same way as plays but apart from them."""
    rejected: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Records left out on purpose (not read): skipped Rockbox tracks, removed feedback."""
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False

    def reject(self, record: Record, errors: list[str]) -> None:
        is_feedback = isinstance(record, FeedbackRow)
        (self.feedback if is_feedback else self.counts)["rejected"] += 1
        entry: dict[str, Any] = {record.unit: record.line}
        if record.file:
            entry["file"] = record.file
        if is_feedback:
            entry["type"] = "feedback"
        entry["errors"] = errors
        self.rejected.append(entry)

    def as_json(self) -> dict[str, Any]:
        self.rejected.sort(key=_order)
        return {
            "counts": {name: self.counts[name] for name in COUNTS},
            "feedback": {name: self.feedback[name] for name in COUNTS},
            "skipped": dict(self.skipped),
            "notes": self.notes,
            "complete": not self.interrupted,
            "rejected": self.rejected,
        }


def _order(entry: dict[str, Any]) -> tuple[list[tuple[int, str]], int]:
    """By file (listens/2024/5.jsonl before listens/2024/10.jsonl), then position."""
    parts = re.split(r"(\d+)", str(entry.get("file", "")))
    natural = [(int(part), "") if part.isdigit() else (-1, part) for part in parts]
    return natural, int(entry.get("line", entry.get("record", 0)))


def where(entry: dict[str, Any]) -> str:
    """Where a rejected entry sits: ``listens/2024/5.jsonl line 3 (feedback)``."""
    unit = "line" if "line" in entry else "record"
    found = f"{unit} {entry[unit]}"
    if "file" in entry:
        found = f"{entry['file']} {found}"
    if entry.get("type") == "feedback":
        found += " (feedback)"
    return found


def run_import(
    rt: Runtime,
    *,
    user: str,
    path: Path,
    fmt: str,
    reading: Reading,
    source: str,
    result: Report,
    progress: Progress | None = None,
) -> None:
    """Import ``path`` (in ``fmt``) as ``user``'s plays into ``result``.

    Raises ``UnreadableFile`` when the file cannot be imported at all, ``OSError`` when it
    cannot be read; the batches stored before either stay stored.
    """
    records = sources.read(path, fmt, reading)
    batch: list[Row] = []
    feedback: list[FeedbackRow] = []
    try:
        for record in records:
            if isinstance(record, FeedbackRow):
                # Loves wait until the plays are in: the items they name are made then.
                result.feedback["read"] += 1
                if record.error is not None:
                    result.reject(record, [record.error])
                else:
                    feedback.append(record)
                continue
            result.counts["read"] += 1
            if record.error is not None:
                result.reject(record, [record.error])
                continue
            batch.append(record)
            if len(batch) >= BATCH:
                flush(rt, user, batch, source, result)
                batch = []
                if progress is not None:
                    progress(reading)
        flush(rt, user, batch, source, result)
        for start in range(0, len(feedback), BATCH):
            store_feedback(rt, user, feedback[start : start + BATCH], result)
    finally:
        records.close()
        result.skipped, result.notes = reading.skipped, reading.notes


def _problems(problems: list[PlayProblem], prefix: str = "") -> list[str]:
    return [
        f"{prefix}{p.field}: {p.message} ({p.code})" if p.field else f"{p.message} ({p.code})"
        for p in problems
    ]


def flush(rt: Runtime, user: str, batch: list[Row], source: str, result: Report) -> None:
    """Store one batch in one transaction; each row is accepted, a duplicate or rejected."""
    if not batch:
        return
    valid, bad = validate_plays([row.data for row in batch])
    stored: list[PlayResult] = []
    if valid:
        with rt.db.unit_of_work(write=True) as session:
            svc = rt.services(session)
            owner = svc.accounts.get_by_name(user)
            stored = svc.ingest.record(owner, valid, source=source)
    for outcome in [*stored, *bad]:
        if outcome.status is PlayStatus.ACCEPTED:
            result.counts["accepted"] += 1
        elif outcome.status is PlayStatus.DUPLICATE:
            result.counts["duplicate"] += 1
        else:
            result.reject(batch[outcome.index], _problems(outcome.errors))


def store_feedback(rt: Runtime, user: str, rows: list[FeedbackRow], result: Report) -> None:
    """Store loves and hates in one transaction, through the ingest service.

    An item named by a reference is found or created as a play's would be; one named only by
    a MusicBrainz id must already be in the catalogue. Feedback the user already gave is a
    duplicate.
    """
    named: list[tuple[FeedbackRow, Any]] = []
    by_mbid: list[FeedbackRow] = []
    for row in rows:
        if row.item is None:
            by_mbid.append(row)
            continue
        try:
            named.append((row, _ITEM.validate_python(row.item)))
        except ValidationError as exc:
            result.reject(row, _problems(problems_from(exc), "item."))
    if not named and not by_mbid:
        return
    with rt.db.unit_of_work(write=True) as session:
        svc = rt.services(session)
        owner = svc.accounts.get_by_name(user)
        targets: list[tuple[FeedbackRow, int]] = []
        if named:
            item_ids = svc.catalog.resolve([ref for _, ref in named])
            targets.extend(zip([row for row, _ in named], item_ids, strict=True))
        for row in by_mbid:
            try:
                targets.append((row, svc.catalog.by_external_id("musicbrainz", str(row.mbid)).id))
            except ItemNotFound:
                result.reject(
                    row,
                    [f"no listen and no catalogue item is the MusicBrainz recording {row.mbid}"],
                )
        given: dict[int, Sentiment] = {}
        for row, item_id in targets:
            sentiment = Sentiment(row.sentiment)
            if item_id not in given:
                before = session.get(Feedback, (owner.id, item_id))
                if before is not None:
                    given[item_id] = before.sentiment
            if given.get(item_id) == sentiment:
                result.feedback["duplicate"] += 1
                continue
            svc.ingest.set_feedback(owner, item_id, sentiment)
            given[item_id] = sentiment
            result.feedback["accepted"] += 1
