"""Trained versions on disk: written whole, published atomically, read by servers.

Layout under ``<data_dir>/recs``::

    current                     the published version's name (replaced atomically)
    versions/<version>/
        manifest.json           format, version, trained_at, per kind: model, counts, params
        <kind>/model/           the model's own files (``Recommender.save``)
        <kind>/index.npz        row -> user id, column -> item id, item kinds, roots, countries
                                (the mixed model: the artists, albums, shows... of each column)
        <kind>/interactions.npz the users x items matrix it was trained on (neighbours)

A version is built in ``versions/.tmp-*`` and renamed into place when complete, then the
``current`` pointer is swapped with ``os.replace``: a reader sees the old version or the new
one, never half of one. Training one kind copies (hard-links) the other kinds of the current
version, so every version is complete. The last ``keep`` versions stay on disk, so a server
still answering from an older one never loses its files.

``train`` is the job behind ``tastegraph recs train``: it reads the play log in short
read-only units of work and fits outside any transaction.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from tastegraph.recs.components import IntArray, Recommender
from tastegraph.recs.data import LEVELS, MIXED, Dataset, Int8Array, build_dataset, parse_kind
from tastegraph.recs.errors import ArtifactError, DatasetError, RecsError
from tastegraph.storage.base import utcnow
from tastegraph.storage.database import Database

_log = logging.getLogger(__name__)

FORMAT = 1
POINTER = "current"
MANIFEST = "manifest.json"
DEFAULT_KINDS: tuple[str, ...] = (MIXED, *(k.value for k in LEVELS))
"""What ``tastegraph recs train`` trains without ``--kind``: the mixed model and one model per
catalogue level (kinds without enough plays are skipped)."""
MIN_USERS = 2
MIN_ITEMS = 2
LINK_PREFIX = "link_"
"""``index.npz`` arrays ``link_cols_<level>`` and ``link_ids_<level>`` (the mixed model)."""


@dataclass(frozen=True)
class KindManifest:
    kind: str
    model: str
    users: int
    items: int
    interactions: int
    plays: int
    fit_seconds: float
    params: dict[str, float | int | str | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    version: str
    trained_at: datetime
    kinds: dict[str, KindManifest]
    format: int = FORMAT

    def to_json(self) -> str:
        data = {
            "format": self.format,
            "version": self.version,
            "trained_at": self.trained_at.isoformat(),
            "kinds": {k: asdict(v) for k, v in sorted(self.kinds.items())},
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ArtifactError(f"Unknown artifact format {data.get('format')!r}.")
        return cls(
            version=str(data["version"]),
            trained_at=datetime.fromisoformat(data["trained_at"]),
            kinds={k: KindManifest(**v) for k, v in data["kinds"].items()},
            format=int(data["format"]),
        )


@dataclass(frozen=True)
class KindArtifact:
    """One kind of a version, read back: the model and its index maps."""

    kind: str
    model: Recommender
    user_ids: IntArray
    item_ids: IntArray
    item_kinds: Int8Array
    groups: IntArray
    group_kinds: Int8Array
    user_countries: tuple[str, ...]
    interactions: sparse.csr_matrix
    links: dict[str, tuple[IntArray, IntArray]] = field(default_factory=dict)
    """Per level, (columns, level item ids); versions trained before links were kept have none."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


class ArtifactStore:
    """The versions under one directory and the pointer to the published one."""

    def __init__(self, root: Path, *, keep: int = 3) -> None:
        self.root = root
        self.keep = max(1, keep)

    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    @property
    def pointer(self) -> Path:
        return self.root / POINTER

    def pointer_signature(self) -> tuple[int, int] | None:
        """(mtime ns, inode) of the pointer: changes whenever a version is published."""
        try:
            st = self.pointer.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def current_version(self) -> str | None:
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def version_dir(self, version: str) -> Path:
        if not version or "/" in version or version.startswith("."):
            raise ArtifactError(f"Invalid version name {version!r}.")
        return self.versions_dir / version

    def read_manifest(self, version: str) -> Manifest:
        path = self.version_dir(version) / MANIFEST
        try:
            return Manifest.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ArtifactError(f"Version {version} has no manifest at {path}.") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"The manifest of version {version} is unreadable: {exc}") from None

    def versions(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(
            p.name for p in self.versions_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    def _new_version(self, now: datetime) -> str:
        base = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name, n = base, 1
        while (self.versions_dir / name).exists():
            n += 1
            name = f"{base}-{n}"
        return name

    def publish(
        self,
        write: Callable[[Path], dict[str, KindManifest]],
        *,
        trained_at: datetime,
        inherit: bool = True,
    ) -> Manifest:
        """Build a version with ``write(directory)``, rename it into place, point at it."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.versions_dir / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            kinds = write(tmp)
            previous = self.current_version() if inherit else None
            if previous is not None:
                kinds = self._inherit(previous, tmp, kinds)
            if not kinds:
                raise DatasetError("Nothing to learn from: no kind has enough plays yet.")
            version = self._new_version(trained_at)
            manifest = Manifest(version=version, trained_at=trained_at, kinds=kinds)
            _write_text(tmp / MANIFEST, manifest.to_json())
            _fsync_dir(tmp)
            tmp.rename(self.versions_dir / version)
            _fsync_dir(self.versions_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.point(version)
        self.prune()
        return manifest

    def _inherit(
        self, previous: str, target: Path, kinds: dict[str, KindManifest]
    ) -> dict[str, KindManifest]:
        try:
            old = self.read_manifest(previous)
        except ArtifactError:
            return kinds
        merged = dict(kinds)
        for kind, entry in old.kinds.items():
            if kind in merged:
                continue
            source = self.version_dir(previous) / kind
            if not source.is_dir():
                continue
            shutil.copytree(source, target / kind, copy_function=_link_or_copy)
            merged[kind] = entry
        return merged

    def point(self, version: str) -> None:
        """Publish ``version``: write the pointer beside it and swap it in with a rename."""
        if not (self.version_dir(version) / MANIFEST).is_file():
            raise ArtifactError(f"There is no complete version {version}.")
        tmp = self.root / f".{POINTER}.{uuid.uuid4().hex}"
        _write_text(tmp, version + "\n")
        os.replace(tmp, self.pointer)
        _fsync_dir(self.root)

    def prune(self) -> list[str]:
        """Remove all but the newest ``keep`` versions (never the current one)."""
        current = self.current_version()
        versions = self.versions()
        keep = set(versions[-self.keep :])
        if current:
            keep.add(current)
        removed = [v for v in versions if v not in keep]
        for version in removed:
            shutil.rmtree(self.versions_dir / version, ignore_errors=True)
        cutoff = time.time() - 3600
        for stale in self.versions_dir.glob(".tmp-*"):
            if stale.stat().st_mtime < cutoff:
                shutil.rmtree(stale, ignore_errors=True)
        return removed

    def load_kind(self, version: str, kind: str) -> KindArtifact:
        return load_kind(self.version_dir(version) / kind, kind)


def _link_or_copy(src: str, dst: str) -> object:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


# -- one kind on disk ---------------------------------------------------------------------------


def save_kind(directory: Path, dataset: Dataset, model: Recommender) -> None:
    directory.mkdir(parents=True)
    (directory / "model").mkdir()
    model.save(directory / "model")
    arrays: dict[str, np.ndarray[Any, Any]] = {
        "user_ids": dataset.user_ids,
        "item_ids": dataset.item_ids,
        "item_kinds": dataset.item_kinds,
        "groups": dataset.groups,
        "group_kinds": dataset.group_kinds,
        "user_countries": np.asarray(dataset.user_countries, dtype="<U8"),
    }
    for level, (columns, ids) in dataset.links.items():
        arrays[f"{LINK_PREFIX}cols_{level}"] = columns
        arrays[f"{LINK_PREFIX}ids_{level}"] = ids
    np.savez(directory / "index.npz", allow_pickle=False, **arrays)
    sparse.save_npz(directory / "interactions.npz", dataset.matrix, compressed=False)


def load_kind(directory: Path, kind: str) -> KindArtifact:
    from tastegraph.recs.registry import load_model

    try:
        model = load_model(directory / "model")
        with np.load(directory / "index.npz") as index:
            arrays = {name: index[name] for name in index.files}
        interactions = sparse.csr_matrix(sparse.load_npz(directory / "interactions.npz"))
    except ArtifactError:
        raise
    except (OSError, ValueError, KeyError, RecsError) as exc:
        raise ArtifactError(f"Cannot read the {kind} model at {directory}: {exc}") from None
    return KindArtifact(
        kind=kind,
        model=model,
        user_ids=arrays["user_ids"].astype(np.int64),
        item_ids=arrays["item_ids"].astype(np.int64),
        item_kinds=arrays["item_kinds"].astype(np.int8),
        groups=arrays["groups"].astype(np.int64),
        group_kinds=arrays["group_kinds"].astype(np.int8),
        user_countries=tuple(str(c) for c in arrays["user_countries"]),
        interactions=interactions,
        links={
            name.removeprefix(f"{LINK_PREFIX}cols_"): (
                arrays[name].astype(np.int64),
                arrays[name.replace("cols_", "ids_", 1)].astype(np.int64),
            )
            for name in arrays
            if name.startswith(f"{LINK_PREFIX}cols_")
        },
    )


# -- the training job ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainOptions:
    kinds: Sequence[str] | None = None
    """Kinds to (re)train; the others are carried over from the current version."""
    model: str | None = None
    """A registry name; None picks ``default_model_name`` for each kind's size."""
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    since: datetime | None = None


def train(
    db: Database,
    store: ArtifactStore,
    options: TrainOptions | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    report: Callable[[str], None] | None = None,
) -> Manifest:
    """Train the kinds asked for and publish a new version."""
    from tastegraph.recs.registry import create_model, default_model_name

    options = options or TrainOptions()
    kinds = [parse_kind(k) for k in (options.kinds or DEFAULT_KINDS)]
    say = report or (lambda message: _log.info("%s", message))
    trained_at = clock()

    def write(directory: Path) -> dict[str, KindManifest]:
        out: dict[str, KindManifest] = {}
        for kind in dict.fromkeys(kinds):
            with db.unit_of_work() as session:
                dataset = build_dataset(session, kind, since=options.since)
            if dataset.n_users < MIN_USERS or dataset.n_items < MIN_ITEMS:
                say(f"{kind}: skipped ({dataset.n_users} users, {dataset.n_items} items)")
                continue
            name = options.model or default_model_name(
                dataset.n_users, dataset.n_items, kind, int(dataset.matrix.nnz)
            )
            model = create_model(name, **options.params)
            started = time.perf_counter()
            fit = model.fit(dataset.matrix, dataset.side, seed=options.seed)
            seconds = time.perf_counter() - started
            save_kind(directory / kind, dataset, model)
            out[kind] = KindManifest(
                kind=kind,
                model=name,
                users=dataset.n_users,
                items=dataset.n_items,
                interactions=int(dataset.matrix.nnz),
                plays=dataset.plays,
                fit_seconds=round(seconds, 3),
                params=dict(fit.params),
            )
            say(
                f"{kind}: {name} on {dataset.n_users:,} users x {dataset.n_items:,} items "
                f"({dataset.matrix.nnz:,} interactions) in {seconds:.2f} s"
            )
        return out

    return store.publish(write, trained_at=trained_at, inherit=options.kinds is not None)
