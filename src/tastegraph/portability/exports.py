"""A user's complete data, as JSONL (every record) or CSV (one row per record)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO, cast

from sqlalchemy import select

from tastegraph.accounts.models import ApiToken, User
from tastegraph.accounts.schemas import user_private
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.ingest.models import Feedback, IncognitoPlay, Play
from tastegraph.runtime import Services

_PAGE = 5000

CSV_COLUMNS = [
    "record",
    "played_at",
    "local_time",
    "timezone_offset",
    "kind",
    "title",
    "artist",
    "album",
    "album_artist",
    "track_number",
    "show",
    "season",
    "episode",
    "year",
    "director",
    "competition",
    "home",
    "away",
    "starts_at",
    "outlet",
    "programme",
    "duration",
    "mbid",
    "isrc",
    "imdb",
    "tmdb",
    "tvdb",
    "url",
    "duration_played",
    "progress",
    "client",
    "submission_id",
    "incognito",
    "sentiment",
    "tag",
    "friend",
    "created_at",
]


def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def records(svc: Services, user: User) -> Iterator[dict[str, Any]]:
    """Every record of the user's data, oldest plays first."""
    profile = user_private(user).model_dump(mode="json")
    yield {"type": "profile", **profile}
    for token in svc.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        yield {
            "type": "token",
            "name": token.name,
            "kind": token.kind,
            "prefix": token.prefix,
            "created_at": token.created_at.isoformat(),
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        }
    for model, incognito in ((Play, False), (IncognitoPlay, True)):
        yield from _plays(svc, user, model, incognito)
    fb_rows = list(
        svc.session.execute(
            select(Feedback, Item)
            .join(Item, Item.id == Feedback.item_id)
            .where(Feedback.user_id == user.id)
            .order_by(Feedback.created_at)
        )
    )
    refs = svc.catalog.references([item for _, item in fb_rows])
    for fb, item in fb_rows:
        yield {
            "type": "feedback",
            "item": refs[item.id],
            "sentiment": fb.sentiment,
            "created_at": fb.created_at.isoformat(),
        }
    tag_rows = list(
        svc.session.execute(
            select(ItemTag, Tag, Item)
            .join(Tag, Tag.id == ItemTag.tag_id)
            .join(Item, Item.id == ItemTag.item_id)
            .where(ItemTag.user_id == user.id)
            .order_by(ItemTag.created_at)
        )
    )
    refs = svc.catalog.references([item for _, _, item in tag_rows])
    for item_tag, tag, item in tag_rows:
        yield {
            "type": "tag",
            "item": refs[item.id],
            "tag": tag.name,
            "created_at": item_tag.created_at.isoformat(),
        }
    for friend in svc.social.friends_of(user.id):
        yield {"type": "friend", "name": friend.name}


def _plays(
    svc: Services, user: User, model: type[Play] | type[IncognitoPlay], incognito: bool
) -> Iterator[dict[str, Any]]:
    last: tuple[datetime, int] | None = None
    while True:
        stmt = (
            select(model, Item)
            .join(Item, Item.id == model.item_id)
            .where(model.user_id == user.id)
            .order_by(model.played_at, model.id)
            .limit(_PAGE)
        )
        if last is not None:
            stmt = stmt.where(
                (model.played_at > last[0]) | ((model.played_at == last[0]) & (model.id > last[1]))
            )
        rows = cast(list[tuple[Play | IncognitoPlay, Item]], list(svc.session.execute(stmt)))
        if not rows:
            return
        refs = svc.catalog.references([item for _, item in rows])
        for play, item in rows:
            local = play.played_at.astimezone(timezone(timedelta(minutes=play.tz_offset_minutes)))
            record: dict[str, Any] = {
                "type": "play",
                "played_at": play.played_at.isoformat(),
                "local_time": local.isoformat(),
                "timezone_offset": _offset(play.tz_offset_minutes),
                "item": refs[item.id],
                "duration_played": play.duration_played,
                "progress": play.progress,
                "client": play.source,
                "submission_id": play.submission_id,
                "incognito": incognito,
            }
            yield {k: v for k, v in record.items() if v is not None}
        last = (rows[-1][0].played_at, rows[-1][0].id)


def write_jsonl(out: TextIO, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(out: TextIO, rows: Iterator[dict[str, Any]]) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        flat = _flatten(row)
        if flat is not None:
            writer.writerow(flat)
            count += 1
    return count


def _flatten(row: dict[str, Any]) -> dict[str, Any] | None:
    kind = row["type"]
    if kind in ("profile", "token"):
        return None  # the CSV carries the history; JSONL carries everything
    flat: dict[str, Any] = {"record": kind}
    item = row.get("item") or {}
    for key, value in item.items():
        if key == "ids":
            for scheme, ext in value.items():
                flat["mbid" if scheme == "musicbrainz" else scheme] = ext
        elif key == "artist" and isinstance(value, list):
            flat["artist"] = ", ".join(value)
        else:
            flat[key] = value
    for key in (
        "played_at",
        "local_time",
        "timezone_offset",
        "duration_played",
        "progress",
        "client",
        "submission_id",
        "incognito",
        "sentiment",
        "tag",
        "created_at",
    ):
        if key in row:
            flat[key] = row[key]
    if kind == "friend":
        flat["friend"] = row["name"]
    # true/false as spreadsheets and the importer read them, not Python's True/False.
    return {k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in flat.items()}
