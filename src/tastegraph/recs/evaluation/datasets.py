"""Reading evaluation data sets: a generic interactions CSV and the HetRec Last.fm 2K folder.

Both become an :class:`EvalData`: interactions as parallel arrays of user index, item index,
weight and (when the source has them) timestamp, with the original labels kept for reports,
plus whatever side information the source has (friendships, tag assignments).

The generic CSV has a header line naming at least ``user`` and ``item``; ``weight`` (default 1)
and ``timestamp`` (seconds since the epoch, or ISO 8601) are optional. Rows repeating a
``(user, item)`` pair are separate events: the splits add their weights up.

The HetRec folder is recognised by its ``user_artists.dat``; ``user_friends.dat``,
``user_taggedartists.dat`` and ``tags.dat`` are read when present. Its interactions have no
timestamps (the tag assignments have dates, the listening counts do not).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tastegraph.recs.errors import DatasetError

HETREC_MARKER = "user_artists.dat"


@dataclass(frozen=True)
class TagAssignments:
    """Who tagged which item with which tag, by index (HetRec's user_taggedartists)."""

    users: npt.NDArray[np.int64]
    items: npt.NDArray[np.int64]
    tags: npt.NDArray[np.int64]
    tag_labels: tuple[str, ...]


@dataclass(frozen=True)
class EvalData:
    """Interactions and side information of one data set, by index."""

    name: str
    users: npt.NDArray[np.int64]
    items: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float32]
    timestamps: npt.NDArray[np.int64] | None
    user_labels: tuple[str, ...]
    item_labels: tuple[str, ...]
    friends: npt.NDArray[np.int64] | None = None
    """Pairs of user indices (n x 2), both directions listed."""
    tags: TagAssignments | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_labels)

    @property
    def n_items(self) -> int:
        return len(self.item_labels)

    @property
    def n_events(self) -> int:
        return len(self.users)

    @property
    def kind(self) -> str:
        return "hetrec" if self.name.startswith("hetrec") else "csv"


class _Index:
    """Labels to dense indices, in order of first appearance."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, label: str) -> int:
        found = self.ids.get(label)
        if found is None:
            found = self.ids[label] = len(self.ids)
        return found

    def labels(self) -> tuple[str, ...]:
        return tuple(self.ids)


def is_hetrec(path: Path) -> bool:
    return (path.is_dir() and (path / HETREC_MARKER).is_file()) or path.name == HETREC_MARKER


def load(path: Path) -> EvalData:
    """Read ``path``: a HetRec Last.fm folder (or its user_artists.dat) or a generic CSV."""
    if not path.exists():
        raise DatasetError(f"{path}: no such file or directory")
    if is_hetrec(path):
        return load_hetrec(path if path.is_dir() else path.parent)
    if path.is_dir():
        raise DatasetError(f"{path}: a directory without {HETREC_MARKER}; give a CSV file")
    return load_csv(path)


def _timestamp(text: str, where: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        pass
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError as exc:
        raise DatasetError(f"{where}: timestamp {text!r} is neither a number nor ISO 8601") from exc


def load_csv(path: Path) -> EvalData:
    """A CSV with a header naming ``user``, ``item`` and optionally ``weight``, ``timestamp``."""
    users: list[int] = []
    items: list[int] = []
    weights: list[float] = []
    stamps: list[int] = []
    user_index, item_index = _Index(), _Index()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        if "user" not in header or "item" not in header:
            raise DatasetError(
                f"{path}: the first line must name the columns: user,item[,weight][,timestamp]"
            )
        col_user, col_item = header.index("user"), header.index("item")
        col_weight = header.index("weight") if "weight" in header else None
        col_time = header.index("timestamp") if "timestamp" in header else None
        width = len(header)
        for line_no, row in enumerate(reader, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            where = f"{path}:{line_no}"
            if len(row) < width:
                raise DatasetError(f"{where}: {len(row)} columns, the header names {width}")
            users.append(user_index(row[col_user].strip()))
            items.append(item_index(row[col_item].strip()))
            if col_weight is not None:
                try:
                    weight = float(row[col_weight])
                except ValueError as exc:
                    raise DatasetError(f"{where}: weight {row[col_weight]!r}") from exc
                if not np.isfinite(weight) or weight <= 0:
                    raise DatasetError(f"{where}: weight must be a positive number")
                weights.append(weight)
            else:
                weights.append(1.0)
            if col_time is not None:
                stamps.append(_timestamp(row[col_time].strip(), where))
    if not users:
        raise DatasetError(f"{path}: no interactions")
    return EvalData(
        name=path.stem,
        users=np.asarray(users, dtype=np.int64),
        items=np.asarray(items, dtype=np.int64),
        weights=np.asarray(weights, dtype=np.float32),
        timestamps=np.asarray(stamps, dtype=np.int64) if col_time is not None else None,
        user_labels=user_index.labels(),
        item_labels=item_index.labels(),
    )


def _read_dat(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    """Tab-separated lines after the header, CRLF or LF."""
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        lines = handle.read().splitlines()
    return [line.split("\t") for line in lines[1:] if line.strip()]


def load_hetrec(folder: Path) -> EvalData:
    """The HetRec 2011 Last.fm 2K folder: listening counts, friendships, tag assignments.

    The catalogue is the artists of ``user_artists.dat`` (17,632), as in RecBole's atomic files;
    tag assignments of artists nobody listened to are dropped. Users are those with at least one
    listened artist (all 1,892).
    """
    user_index, item_index = _Index(), _Index()
    rows = _read_dat(folder / HETREC_MARKER)
    try:
        users = np.asarray([user_index(r[0]) for r in rows], dtype=np.int64)
        items = np.asarray([item_index(r[1]) for r in rows], dtype=np.int64)
        weights = np.asarray([float(r[2]) for r in rows], dtype=np.float32)
    except (IndexError, ValueError) as exc:
        raise DatasetError(f"{folder / HETREC_MARKER}: not userID, artistID, weight") from exc
    friends = None
    friends_path = folder / "user_friends.dat"
    if friends_path.is_file():
        pairs = [
            (user_index.ids[a], user_index.ids[b])
            for a, b, *_ in _read_dat(friends_path)
            if a in user_index.ids and b in user_index.ids
        ]
        friends = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    tags = None
    tagged_path = folder / "user_taggedartists.dat"
    if tagged_path.is_file():
        labels: dict[str, str] = {}
        tags_path = folder / "tags.dat"
        if tags_path.is_file():
            labels = {r[0]: r[1] for r in _read_dat(tags_path, "iso-8859-1") if len(r) >= 2}
        tag_index = _Index()
        t_users, t_items, t_tags = [], [], []
        for row in _read_dat(tagged_path):
            user, item = user_index.ids.get(row[0]), item_index.ids.get(row[1])
            if user is None or item is None:
                continue
            t_users.append(user)
            t_items.append(item)
            t_tags.append(tag_index(row[2]))
        tags = TagAssignments(
            users=np.asarray(t_users, dtype=np.int64),
            items=np.asarray(t_items, dtype=np.int64),
            tags=np.asarray(t_tags, dtype=np.int64),
            tag_labels=tuple(labels.get(t, t) for t in tag_index.labels()),
        )
    return EvalData(
        name="hetrec2011-lastfm-2k",
        users=users,
        items=items,
        weights=weights,
        timestamps=None,
        user_labels=user_index.labels(),
        item_labels=item_index.labels(),
        friends=friends,
        tags=tags,
    )
