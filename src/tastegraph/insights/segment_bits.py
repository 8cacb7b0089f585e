"""Segment members as bitmaps, so that a title page counts its viewers in each segment
without joining the membership rows.

The page of a title watched by 50,000 people asks, for each of 30 segments, how many of them
are members: as a join that is 450,000 membership rows read and probed (most of what the page
cost). Each segment's members are kept as one bitmap instead (``segment_bitmaps``: bit
``u % 8`` of byte ``u // 8`` for user ``u``, 12.5 kB for 100,000 users), and the count is a
lookup of each viewer's bit. A bitmap is rewritten from the members whenever they change, in
the same transaction: ``rebuild`` is the audiences area's member hook (wired in
``runtime.py``), called by every path that adds or removes members (refreshes, lookalikes,
clusters, per-user re-evaluation, consent withdrawal). A segment deleted takes its bitmap with
it; a segment without a bitmap is counted from its members, so the numbers never depend on a
bitmap being there. ``check`` compares every bitmap with the members.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from tastegraph.audiences.models import Segment, SegmentMember
from tastegraph.insights.models import SegmentBitmap
from tastegraph.insights.packed import IntArray, packed, unpack


def to_bits(user_ids: IntArray) -> bytes:
    """The bitmap of these user ids (as long as the largest needs)."""
    if not len(user_ids):
        return b""
    flags = np.zeros(int(user_ids.max()) + 1, dtype=bool)
    flags[user_ids] = True
    return np.packbits(flags, bitorder="little").tobytes()


def members_in(bits: bytes, user_ids: IntArray) -> int:
    """How many of ``user_ids`` (distinct) have their bit set."""
    data = np.frombuffer(bits, dtype=np.uint8)
    inside = user_ids[user_ids < len(data) * 8]
    return int(((data[inside >> 3] >> (inside & 7).astype(np.uint8)) & 1).sum())


def _members(db: Session | Connection, segment_ids: Sequence[int]) -> dict[int, IntArray]:
    rows = db.execute(
        select(SegmentMember.segment_id, packed(SegmentMember.user_id))
        .where(SegmentMember.segment_id.in_(segment_ids))
        .group_by(SegmentMember.segment_id)
    )
    return {int(segment): unpack(users) for segment, users in rows}


def rebuild(db: Session | Connection, segment_ids: Iterable[int]) -> None:
    """Rewrite the bitmaps of these segments from their members (the member hook)."""
    ids = sorted(set(segment_ids))
    if not ids:
        return
    db.execute(delete(SegmentBitmap).where(SegmentBitmap.segment_id.in_(ids)))
    existing = list(db.scalars(select(Segment.id).where(Segment.id.in_(ids))))
    members = _members(db, existing)
    none = np.zeros(0, dtype=np.int64)
    rows = [
        {"segment_id": s, "members": len(m), "bits": to_bits(m)}
        for s in existing
        for m in [members.get(s, none)]
    ]
    if rows:
        db.execute(insert(SegmentBitmap), rows)


def store(db: Session | Connection, bitmaps: Mapping[int, tuple[int, bytes]]) -> list[int]:
    """Write bitmaps built elsewhere (a batch job over an export of the members,
    ``batch/insights.py``): segment id -> (members, bits). Every existing segment is written:
    one missing from ``bitmaps`` has no members. A segment whose member count now differs
    from the given one changed since (its member hook already wrote a fresh bitmap) and is
    rebuilt from its members instead; returns those."""
    counts = dict(
        db.execute(
            select(SegmentMember.segment_id, func.count()).group_by(SegmentMember.segment_id)
        ).all()
    )
    existing = list(db.scalars(select(Segment.id)))
    changed = [s for s in existing if counts.get(s, 0) != bitmaps.get(s, (0, b""))[0]]
    kept = [s for s in existing if s not in set(changed)]
    for chunk in (kept[i : i + 1000] for i in range(0, len(kept), 1000)):
        db.execute(delete(SegmentBitmap).where(SegmentBitmap.segment_id.in_(chunk)))
        db.execute(
            insert(SegmentBitmap),
            [
                {"segment_id": s, "members": members, "bits": bits}
                for s in chunk
                for members, bits in [bitmaps.get(s, (0, b""))]
            ],
        )
    rebuild(db, changed)
    return changed


def rebuild_all(db: Session | Connection) -> None:
    """Every segment's bitmap (after a migration, a restore or a hand edit of members)."""
    rebuild(db, db.scalars(select(Segment.id)))


def count_members(
    session: Session, segment_ids: Sequence[int], user_ids: IntArray
) -> dict[int, int]:
    """How many of ``user_ids`` (distinct) are in each of these segments that has a bitmap;
    the others are left out (the caller counts them from the members)."""
    if not segment_ids:
        return {}
    rows = list(
        session.execute(
            select(SegmentBitmap.segment_id, SegmentBitmap.bits).where(
                SegmentBitmap.segment_id.in_(list(segment_ids))
            )
        )
    )
    if not rows or not len(user_ids):
        return {int(segment): 0 for segment, _ in rows}
    # All bitmaps as one matrix (a row per segment, padded to the longest or to the largest
    # viewer): one gather of the viewers' bytes, one mask, one count per row.
    width = max(*(len(bits) for _, bits in rows), int(user_ids.max()) // 8 + 1)
    matrix = np.zeros((len(rows), width), dtype=np.uint8)
    for row, (_, bits) in enumerate(rows):
        matrix[row, : len(bits)] = np.frombuffer(bits, dtype=np.uint8)
    masks = np.left_shift(1, user_ids & 7).astype(np.uint8)
    counts = np.count_nonzero(matrix[:, user_ids >> 3] & masks, axis=1)
    return {int(segment): int(n) for (segment, _), n in zip(rows, counts, strict=True)}


def check(session: Session) -> list[int]:
    """The segments whose bitmap is missing or differs from their members."""
    ids = list(session.scalars(select(Segment.id).order_by(Segment.id)))
    members = _members(session, ids)
    stored: dict[int, bytes] = {
        int(segment): bytes(bits)
        for segment, bits in session.execute(select(SegmentBitmap.segment_id, SegmentBitmap.bits))
    }
    none = np.zeros(0, dtype=np.int64)
    return [
        s
        for s in ids
        if s not in stored or stored[s].rstrip(b"\0") != to_bits(members.get(s, none))
    ]
