"""Item references turned into specs: what an item is and what it hangs from.

A spec names an item by its kind and identity key. The key of a dependent item (an album, a
track, a match) includes the ids of the items it depends on, so specs are resolved in order of
depth: artists before albums before tracks.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from tastegraph.catalog.kinds import CreditRole, Kind
from tastegraph.catalog.matching import bounded_key, split_artist, split_title
from tastegraph.catalog.matching import identity as normalize
from tastegraph.catalog.schemas import (
    EpisodeRef,
    FilmRef,
    MatchRef,
    ProgrammeRef,
    StoryRef,
    TrackRef,
)


@dataclass(eq=False)
class Spec:
    kind: Kind
    title: str
    key_parts: tuple[str | tuple[Spec, ...], ...]
    parent: Spec | None = None
    credits: tuple[tuple[Spec, CreditRole], ...] = ()
    number: int | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    resolved_id: int | None = None

    @cached_property
    def depth(self) -> int:
        """0 for what stands alone, one more than the deepest dependency otherwise."""
        return 1 + max((d.depth for d in self.dependencies()), default=-1)

    def dependencies(self) -> list[Spec]:
        deps = [spec for spec, _ in self.credits]
        if self.parent is not None:
            deps.append(self.parent)
        for part in self.key_parts:
            if isinstance(part, tuple):
                deps.extend(part)
        return deps

    def key(self) -> str:
        """The identity key; only valid once every dependency is resolved."""
        parts: list[str] = []
        for part in self.key_parts:
            if isinstance(part, tuple):
                ids = sorted({_resolved(spec) for spec in part})
                parts.append(",".join(str(i) for i in ids))
            else:
                parts.append(part)
        return bounded_key("|".join(parts))


AnyRef = TrackRef | EpisodeRef | FilmRef | MatchRef | ProgrammeRef | StoryRef

RefKey = tuple[Hashable, ...]

_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None), Kind})


def ref_key(ref: AnyRef) -> RefKey:
    """Everything a reference says, as a key for the resolution cache.

    Resolving a reference that was resolved before changes nothing: it names the same item,
    and what it could teach that item (an album, a duration, ids) was learned the first time.
    So the cache answers such a reference from this key, without building its specs.
    """
    # Validation fills a model's __dict__ with every field, in the order the model declares.
    return (
        type(ref).__name__,
        *[v if v.__class__ in _PLAIN else _hashable(v) for v in ref.__dict__.values()],
    )


def _hashable(value: object) -> Hashable:
    if isinstance(value, datetime):
        # Equal instants in other offsets are equal datetimes, but not equal dates or years.
        return value.isoformat()
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    assert isinstance(value, Hashable)
    return value


def _resolved(spec: Spec) -> int:
    if spec.resolved_id is None:
        raise RuntimeError(f"dependency {spec.kind}:{spec.title} used before it was resolved")
    return spec.resolved_id


def named(kind: Kind, title: str, **attrs: Any) -> Spec:
    """An item that stands on its own: an artist, a show, a team, an outlet."""
    return Spec(kind=kind, title=title, key_parts=(normalize(title),), attrs=attrs)


def _common_attrs(
    ref: TrackRef | EpisodeRef | FilmRef | MatchRef | ProgrammeRef | StoryRef,
) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if ref.duration is not None:
        attrs["duration_seconds"] = ref.duration
    if ref.released_at is not None:
        attrs["released_at"] = ref.released_at
    if ref.language is not None:
        attrs["original_language"] = ref.language
    if ref.country is not None:
        attrs["country"] = ref.country
    return attrs


def track_spec(ref: TrackRef) -> Spec:
    if isinstance(ref.artist, list):
        main_names: list[str] = list(ref.artist)
        featured_names: list[str] = []
    else:
        credits = split_artist(ref.artist)
        main_names, featured_names = list(credits.main), list(credits.featured)
    title, title_featured = split_title(ref.title)
    featured_names += title_featured
    if not main_names:
        main_names = [ref.artist if isinstance(ref.artist, str) else ref.artist[0]]
    main = tuple(named(Kind.ARTIST, n) for n in _unique(main_names))
    main_keys = {normalize(n) for n in main_names}
    featured = tuple(
        named(Kind.ARTIST, n) for n in _unique(featured_names) if normalize(n) not in main_keys
    )
    parent: Spec = main[0]
    if ref.album:
        album_artists = (
            tuple(named(Kind.ARTIST, n) for n in split_artist(ref.album_artist).main)
            if ref.album_artist
            else main
        ) or main
        parent = Spec(
            kind=Kind.ALBUM,
            title=ref.album,
            key_parts=(normalize(ref.album), album_artists),
            parent=album_artists[0],
            credits=tuple((a, CreditRole.MAIN) for a in album_artists),
        )
    credit_list = tuple((a, CreditRole.MAIN) for a in main) + tuple(
        (a, CreditRole.FEATURED) for a in featured
    )
    return Spec(
        kind=Kind.TRACK,
        title=title or ref.title,
        key_parts=(normalize(title or ref.title), main),
        parent=parent,
        credits=credit_list,
        number=ref.track_number,
        attrs=_common_attrs(ref),
        ids=dict(ref.ids),
    )


def episode_spec(ref: EpisodeRef) -> Spec:
    show = named(Kind.SHOW, ref.show)
    parent = show
    if ref.season is not None:
        parent = Spec(
            kind=Kind.SEASON,
            title=f"{ref.show} – season {ref.season}",
            key_parts=((show,), str(ref.season)),
            parent=show,
            number=ref.season,
        )
    if ref.episode is not None:
        identity = f"s{ref.season if ref.season is not None else ''}e{ref.episode}"
    else:
        identity = "t:" + normalize(ref.title or "")
    title = ref.title or (
        f"{ref.show} S{ref.season or 0:02d}E{ref.episode:02d}"
        if ref.episode is not None
        else ref.show
    )
    return Spec(
        kind=Kind.EPISODE,
        title=title,
        key_parts=((show,), identity),
        parent=parent,
        number=ref.episode,
        attrs=_common_attrs(ref),
        ids=dict(ref.ids),
    )


def film_spec(ref: FilmRef) -> Spec:
    attrs = _common_attrs(ref)
    credits: tuple[tuple[Spec, CreditRole], ...] = ()
    if ref.director:
        credits = ((named(Kind.ARTIST, ref.director), CreditRole.DIRECTOR),)
    year = str(ref.year) if ref.year else (str(ref.released_at.year) if ref.released_at else "")
    return Spec(
        kind=Kind.FILM,
        title=ref.title,
        key_parts=(normalize(ref.title), year),
        credits=credits,
        attrs=attrs,
        ids=dict(ref.ids),
    )


def match_spec(ref: MatchRef) -> Spec:
    competition = named(Kind.COMPETITION, ref.competition) if ref.competition else None
    home = named(Kind.TEAM, ref.home) if ref.home else None
    away = named(Kind.TEAM, ref.away) if ref.away else None
    attrs = _common_attrs(ref)
    if ref.starts_at is not None:
        attrs["released_at"] = ref.starts_at
    credits: list[tuple[Spec, CreditRole]] = []
    if home and away:
        credits = [(home, CreditRole.HOME), (away, CreditRole.AWAY)]
        title = ref.title or f"{ref.home} – {ref.away}"
    else:
        title = ref.title or ""
    day = _day(ref.starts_at)
    key_parts: tuple[str | tuple[Spec, ...], ...] = (
        ((home,), (away,), day) if home and away else (normalize(title), day)
    )
    if competition:
        key_parts = ((competition,), *key_parts)
    return Spec(
        kind=Kind.MATCH,
        title=title,
        key_parts=key_parts,
        parent=competition,
        credits=tuple(credits),
        attrs=attrs,
        ids=dict(ref.ids),
    )


def programme_spec(ref: ProgrammeRef) -> Spec:
    outlet = named(Kind.OUTLET, ref.outlet)
    return Spec(
        kind=Kind.PROGRAMME,
        title=ref.title,
        key_parts=((outlet,), normalize(ref.title)),
        parent=outlet,
        attrs=_common_attrs(ref),
        ids=dict(ref.ids),
    )


def story_spec(ref: StoryRef) -> Spec:
    outlet = named(Kind.OUTLET, ref.outlet)
    parent = outlet
    if ref.programme:
        parent = Spec(
            kind=Kind.PROGRAMME,
            title=ref.programme,
            key_parts=((outlet,), normalize(ref.programme)),
            parent=outlet,
        )
    ids = dict(ref.ids)
    if ref.url:
        ids.setdefault("url", ref.url)
    identity = ids.get("url") or normalize(ref.title)
    return Spec(
        kind=Kind.STORY,
        title=ref.title,
        key_parts=((outlet,), identity),
        parent=parent,
        attrs=_common_attrs(ref),
        ids=ids,
    )


def spec_for(ref: AnyRef) -> Spec:
    if isinstance(ref, TrackRef):
        return track_spec(ref)
    if isinstance(ref, EpisodeRef):
        return episode_spec(ref)
    if isinstance(ref, FilmRef):
        return film_spec(ref)
    if isinstance(ref, MatchRef):
        return match_spec(ref)
    if isinstance(ref, ProgrammeRef):
        return programme_spec(ref)
    return story_spec(ref)


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else ""


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = normalize(name)
        if key and key not in seen:
            seen.add(key)
            out.append(name)
    return out
