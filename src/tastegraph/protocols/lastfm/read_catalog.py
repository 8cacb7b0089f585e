"""artist.*, album.*, track.* and tag.* read methods.

Items are named as Last.fm names them, by text (``artist=Cher&track=Believe``) or by
MusicBrainz id (``mbid``), and found without creating anything. ``username`` (pylast sends it
in the query string) adds that user's own figures: ``userplaycount``, ``userloved``.
"""

from __future__ import annotations

from collections.abc import Callable

from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.matching import identity
from tastegraph.catalog.models import Item
from tastegraph.protocols.lastfm.context import Call, Method, Paging
from tastegraph.protocols.lastfm.elements import (
    artist_nested,
    duration_ms,
    duration_seconds,
    images,
    item_url,
    streamable,
    tag_url,
)
from tastegraph.protocols.lastfm.entries import (
    Figures,
    album_entry,
    chart_entries,
    tag_entry,
    tag_names,
    track_entry,
)
from tastegraph.protocols.lastfm.errors import Code, LastfmError, missing
from tastegraph.protocols.lastfm.queries import (
    Facts,
    album_tracks,
    by_mbid,
    credited_items,
    facts,
    find_album,
    find_artist,
    find_track,
    items_by_id,
    loved_ids,
    tag_counts,
    tag_info,
)
from tastegraph.protocols.lastfm.render import El, leaf, node
from tastegraph.protocols.lastfm.similar import similar_artists, similar_tracks

SEARCH_CAP = 1000
"""Search results counted at most; deeper pages of a search are not useful."""

# -- finding the item a call names ------------------------------------------------------------


def _not_found(what: str) -> LastfmError:
    return LastfmError(Code.INVALID_PARAMETERS, f"The {what} you supplied could not be found")


def the_artist(call: Call) -> Item:
    mbid, name = call.params.text("mbid"), call.params.text("artist")
    found = by_mbid(call.svc, mbid, Kind.ARTIST) if mbid else None
    if found is None and name:
        found = find_artist(call.svc, name)
    if found is None:
        if not mbid and not name:
            raise missing("artist")
        raise _not_found("artist")
    return found


def the_album(call: Call) -> Item:
    mbid = call.params.text("mbid")
    found = by_mbid(call.svc, mbid, Kind.ALBUM) if mbid else None
    if found is None:
        if mbid and not call.params.text("album"):
            raise _not_found("album")
        found = find_album(call.svc, call.params.require("artist"), call.params.require("album"))
    if found is None:
        raise _not_found("album")
    return found


def the_track(call: Call) -> Item:
    mbid = call.params.text("mbid")
    found = by_mbid(call.svc, mbid, Kind.TRACK) if mbid else None
    if found is None:
        if mbid and not call.params.text("track"):
            raise _not_found("track")
        found = find_track(call.svc, call.params.require("artist"), call.params.require("track"))
    if found is None:
        raise LastfmError(Code.INVALID_PARAMETERS, "Track not found")
    return found


def _user_figures(call: Call, level: Kind, item: Item, *, loved: bool = False) -> list[El]:
    """userplaycount (and userloved) for the ``username`` parameter, when sent."""
    if call.params.text("username") is None:
        return []
    user = call.optional_user("username")
    plays = (
        call.svc.stats.item_totals(level, [item.id], user=user)[item.id].plays
        if user is not None
        else 0
    )
    out = [leaf("userplaycount", str(plays))]
    if loved:
        is_loved = user is not None and item.id in loved_ids(call.svc, user.id, [item.id])
        out.append(leaf("userloved", "1" if is_loved else "0"))
    return out


def _wiki(tag: str, item: Item) -> list[El]:
    if not item.description:
        return []
    return [
        node(
            tag,
            [
                leaf("published", ""),
                leaf("summary", item.description[:300]),
                leaf("content", item.description),
            ],
        )
    ]


# -- artist.* ---------------------------------------------------------------------------------


def _similar_artist_entries(call: Call, item: Item, limit: int, *, match: bool) -> list[El]:
    similar = similar_artists(call.svc, item, limit, call.user)
    f = facts(call.svc, [s for s, _ in similar])
    out = []
    for other, score in similar:
        children = [leaf("name", other.title), leaf("mbid", f.mbid(other))]
        if match:
            children.append(leaf("match", f"{score:.6f}"))
        children += [leaf("url", item_url(call, other)), *images(), leaf("streamable", "0")]
        out.append(node("artist", children))
    return out


def artist_info(call: Call) -> list[El]:
    artist = the_artist(call)
    f = facts(call.svc, [artist])
    totals = call.svc.stats.item_totals(Kind.ARTIST, [artist.id])[artist.id]
    tags, _ = tag_counts(call.svc, item_ids=[artist.id], limit=5)
    # Its own <name> and <mbid> come first: pylast reads the first of each in the document.
    children = [
        leaf("name", artist.title),
        leaf("mbid", f.mbid(artist)),
        leaf("url", item_url(call, artist)),
        *images(),
        leaf("streamable", "0"),
        leaf("ontour", "0"),
        node(
            "stats",
            [
                leaf("listeners", str(totals.listeners)),
                leaf("playcount", str(totals.plays)),
                *_user_figures(call, Kind.ARTIST, artist),
            ],
        ),
        node("similar", _similar_artist_entries(call, artist, 5, match=False), items="artist"),
        node("tags", tag_names(call, [t.name for t in tags]), items="tag"),
        node(
            "bio",
            [
                node(
                    "links", [leaf("link", "", {"rel": "original", "href": item_url(call, artist)})]
                ),
                leaf("published", ""),
                leaf("summary", (artist.description or "")[:300]),
                leaf("content", artist.description or ""),
            ],
        ),
    ]
    return [node("artist", children)]


def artist_similar(call: Call) -> list[El]:
    artist = the_artist(call)
    entries = _similar_artist_entries(call, artist, call.params.limit(100, 1000), match=True)
    return [node("similarartists", entries, {"artist": artist.title}, items="artist")]


def _artist_top(call: Call, level: Kind, tag: str) -> list[El]:
    """An artist's most played tracks or albums, everyone's plays counted."""
    artist = the_artist(call)
    limit = call.params.limit(50, 1000)
    page = call.params.page()
    ids = credited_items(call.svc, artist.id, level)
    totals = call.svc.stats.item_totals(level, ids)
    ranked = sorted((i for i in ids if totals[i].plays > 0), key=lambda i: (-totals[i].plays, i))
    paging = Paging(page, limit, len(ranked))
    shown = items_by_id(call.svc, ranked[paging.offset : paging.offset + limit])
    f = facts(call.svc, shown)
    build = album_entry if level is Kind.ALBUM else track_entry
    entries = [
        build(
            call,
            f,
            item,
            Figures(
                rank=paging.offset + n + 1,
                playcount=totals[item.id].plays,
                listeners=totals[item.id].listeners,
            ),
        )
        for n, item in enumerate(shown)
    ]
    return [node(f"top{tag}s", entries, paging.attrs(artist=artist.title), items=tag)]


def artist_top_tracks(call: Call) -> list[El]:
    return _artist_top(call, Kind.TRACK, "track")


def artist_top_albums(call: Call) -> list[El]:
    return _artist_top(call, Kind.ALBUM, "album")


def _top_tags(call: Call, item: Item, owner: dict[str, str | int]) -> list[El]:
    tags, _ = tag_counts(call.svc, item_ids=[item.id], limit=call.params.limit(100, 1000))
    return [node("toptags", [tag_entry(call, t) for t in tags], owner, items="tag")]


def artist_top_tags(call: Call) -> list[El]:
    artist = the_artist(call)
    return _top_tags(call, artist, {"artist": artist.title})


def artist_correction(call: Call) -> list[El]:
    artist = the_artist(call)
    f = facts(call.svc, [artist])
    correction = node(
        "correction",
        [
            node(
                "artist",
                [
                    leaf("name", artist.title),
                    leaf("mbid", f.mbid(artist)),
                    leaf("url", item_url(call, artist)),
                ],
            )
        ],
        {"index": "0"},
    )
    return [node("corrections", [correction], items="correction")]


# -- search -----------------------------------------------------------------------------------

Entry = Callable[[Call, Facts, Item, dict[int, int]], El]


def _search(
    call: Call,
    kind: Kind,
    query: str,
    entry: Entry,
    keep: Callable[[Facts, Item], bool] | None = None,
) -> list[El]:
    limit = call.params.limit(30, 1000)
    page = call.params.page()
    found = call.svc.catalog.search(query, kind=kind, limit=SEARCH_CAP)
    if keep is not None:
        everything = facts(call.svc, found)
        found = [item for item in found if keep(everything, item)]
    paging = Paging(page, limit, len(found))
    shown = found[paging.offset : paging.offset + limit]
    f = facts(call.svc, shown)
    totals = call.svc.stats.item_totals(kind, [i.id for i in shown])
    listeners = {i: t.listeners for i, t in totals.items()}
    tag = kind.value
    results = [
        leaf(
            "opensearch:Query",
            "",
            {"role": "request", "searchTerms": query, "startPage": str(page)},
        ),
        leaf("opensearch:totalResults", str(paging.total)),
        leaf("opensearch:startIndex", str(paging.offset)),
        leaf("opensearch:itemsPerPage", str(limit)),
        node(f"{tag}matches", [entry(call, f, i, listeners) for i in shown], items=tag),
    ]
    attrs: dict[str, str | int] = {
        "for": query,
        "xmlns:opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    }
    return [node("results", results, attrs)]


def _artist_match(call: Call, f: Facts, item: Item, listeners: dict[int, int]) -> El:
    return node(
        "artist",
        [
            leaf("name", item.title),
            leaf("listeners", str(listeners.get(item.id, 0))),
            leaf("mbid", f.mbid(item)),
            leaf("url", item_url(call, item)),
            leaf("streamable", "0"),
            *images(),
        ],
    )


def _album_match(call: Call, f: Facts, item: Item, _listeners: dict[int, int]) -> El:
    # In search results the artist is text: pylast reads the <artist> element's text.
    return node(
        "album",
        [
            leaf("name", item.title),
            leaf("artist", f.artist_name(item)),
            leaf("url", item_url(call, item)),
            *images(),
            leaf("streamable", "0"),
            leaf("mbid", f.mbid(item)),
        ],
    )


def _track_match(call: Call, f: Facts, item: Item, listeners: dict[int, int]) -> El:
    return node(
        "track",
        [
            leaf("name", item.title),
            leaf("artist", f.artist_name(item)),
            leaf("url", item_url(call, item)),
            leaf("streamable", "0"),
            leaf("listeners", str(listeners.get(item.id, 0))),
            *images(),
            leaf("mbid", f.mbid(item)),
        ],
    )


def artist_search(call: Call) -> list[El]:
    return _search(call, Kind.ARTIST, call.params.require("artist"), _artist_match)


def album_search(call: Call) -> list[El]:
    return _search(call, Kind.ALBUM, call.params.require("album"), _album_match)


def track_search(call: Call) -> list[El]:
    title = call.params.require("track")
    artist = call.params.text("artist")
    keep = None
    if artist:
        wanted = identity(artist)

        def keep(f: Facts, item: Item) -> bool:
            return wanted in identity(f.artist_name(item))

    return _search(call, Kind.TRACK, title, _track_match, keep)


# -- album.* ----------------------------------------------------------------------------------


def album_info(call: Call) -> list[El]:
    album = the_album(call)
    tracks = album_tracks(call.svc, album.id)
    f = facts(call.svc, [album, *tracks])
    totals = call.svc.stats.item_totals(Kind.ALBUM, [album.id])[album.id]
    tags, _ = tag_counts(call.svc, item_ids=[album.id], limit=5)
    track_elements = [
        node(
            "track",
            [
                leaf("name", track.title),
                leaf("url", item_url(call, track)),
                leaf("duration", duration_seconds(track)),
                streamable(),
                artist_nested(call, f, track),
            ],
            {"rank": str(track.number if track.number is not None else n + 1)},
        )
        for n, track in enumerate(tracks)
    ]
    children = [
        leaf("name", album.title),
        leaf("artist", f.artist_name(album)),
        leaf("mbid", f.mbid(album)),
        leaf("url", item_url(call, album)),
        *images(),
        leaf("listeners", str(totals.listeners)),
        leaf("playcount", str(totals.plays)),
        *_user_figures(call, Kind.ALBUM, album),
        node("tracks", track_elements, items="track"),
        node("tags", tag_names(call, [t.name for t in tags]), items="tag"),
        *_wiki("wiki", album),
    ]
    return [node("album", children)]


def album_top_tags(call: Call) -> list[El]:
    album = the_album(call)
    f = facts(call.svc, [album])
    return _top_tags(call, album, {"artist": f.artist_name(album), "album": album.title})


# -- track.* ----------------------------------------------------------------------------------


def track_info(call: Call) -> list[El]:
    track = the_track(call)
    f = facts(call.svc, [track])
    totals = call.svc.stats.item_totals(Kind.TRACK, [track.id])[track.id]
    tags, _ = tag_counts(call.svc, item_ids=[track.id], limit=5)
    children = [
        leaf("name", track.title),
        leaf("mbid", f.mbid(track)),
        leaf("url", item_url(call, track)),
        leaf("duration", duration_ms(track)),
        streamable(),
        leaf("listeners", str(totals.listeners)),
        leaf("playcount", str(totals.plays)),
        artist_nested(call, f, track),
    ]
    album = f.album(track)
    if album is not None:
        album_facts = facts(call.svc, [album])
        position = {"position": str(track.number)} if track.number is not None else {}
        children.append(
            node(
                "album",
                [
                    leaf("artist", album_facts.artist_name(album)),
                    leaf("title", album.title),
                    leaf("mbid", album_facts.mbid(album)),
                    leaf("url", item_url(call, album)),
                    *images(),
                ],
                position,
            )
        )
    children += _user_figures(call, Kind.TRACK, track, loved=True)
    children.append(node("toptags", tag_names(call, [t.name for t in tags]), items="tag"))
    children += _wiki("wiki", track)
    return [node("track", children)]


def track_similar(call: Call) -> list[El]:
    track = the_track(call)
    similar = similar_tracks(call.svc, track, call.params.limit(100, 1000), call.user)
    f = facts(call.svc, [t for t, _ in similar])
    totals = call.svc.stats.item_totals(Kind.TRACK, [t.id for t, _ in similar])
    entries = [
        node(
            "track",
            [
                leaf("name", other.title),
                leaf("playcount", str(totals[other.id].plays)),
                leaf("mbid", f.mbid(other)),
                leaf("match", f"{score:.6f}"),
                leaf("url", item_url(call, other)),
                streamable(),
                leaf("duration", duration_seconds(other)),
                artist_nested(call, f, other),
                *images(),
            ],
        )
        for other, score in similar
    ]
    attrs: dict[str, str | int] = {
        "artist": facts(call.svc, [track]).artist_name(track),
        "track": track.title,
    }
    return [node("similartracks", entries, attrs, items="track")]


def track_top_tags(call: Call) -> list[El]:
    track = the_track(call)
    f = facts(call.svc, [track])
    return _top_tags(call, track, {"artist": f.artist_name(track), "track": track.title})


def track_correction(call: Call) -> list[El]:
    track = the_track(call)
    f = facts(call.svc, [track])
    corrected = node(
        "track",
        [
            leaf("name", track.title),
            leaf("mbid", f.mbid(track)),
            leaf("url", item_url(call, track)),
            artist_nested(call, f, track),
        ],
    )
    correction = node("correction", [corrected], {"index": "0"})
    return [node("corrections", [correction], items="correction")]


# -- tag.* ------------------------------------------------------------------------------------


def tag_info_method(call: Call) -> list[El]:
    name = call.params.require("tag")
    found = tag_info(call.svc, name)
    shown, total, reach = (found[0], found[1].count, found[1].reach) if found else (name, 0, 0)
    children = [
        leaf("name", shown),
        leaf("url", tag_url(call, shown)),
        leaf("reach", str(reach)),
        leaf("total", str(total)),
        leaf("streamable", "0"),
        node("wiki", [leaf("summary", ""), leaf("content", "")]),
    ]
    return [node("tag", children)]


def _tag_top(call: Call, level: Kind, container: str, tag_name: str) -> list[El]:
    name = call.params.require("tag")
    limit = call.params.limit(50, 1000)
    page = call.params.page()
    chart = call.svc.stats.chart(level, tag=name, limit=limit, offset=(page - 1) * limit)
    paging = Paging(page, limit, chart.total)
    f = facts(call.svc, [e.item for e in chart.entries])
    entries = chart_entries(call, f, chart.entries, tag_name)
    return [node(container, entries, paging.attrs(tag=name), items=tag_name)]


def tag_top_artists(call: Call) -> list[El]:
    return _tag_top(call, Kind.ARTIST, "topartists", "artist")


def tag_top_albums(call: Call) -> list[El]:
    return _tag_top(call, Kind.ALBUM, "albums", "album")


def tag_top_tracks(call: Call) -> list[El]:
    return _tag_top(call, Kind.TRACK, "tracks", "track")


def tag_top_tags(call: Call) -> list[El]:
    """The most applied tags on this server (pylast's ``network.get_top_tags``)."""
    limit = call.params.limit(250, 1000)
    page = call.params.page()
    offset = (page - 1) * limit
    tags, total = tag_counts(call.svc, limit=limit, offset=offset)
    entries = [tag_entry(call, t, reach=True) for t in tags]
    attrs: dict[str, str | int] = {
        "offset": str(offset),
        "num_res": str(len(entries)),
        "total": str(total),
    }
    return [node("toptags", entries, attrs, items="tag")]


METHODS = [
    Method("artist.getinfo", artist_info),
    Method("artist.getsimilar", artist_similar),
    Method("artist.gettoptracks", artist_top_tracks),
    Method("artist.gettopalbums", artist_top_albums),
    Method("artist.gettoptags", artist_top_tags),
    Method("artist.getcorrection", artist_correction),
    Method("artist.search", artist_search),
    Method("album.getinfo", album_info),
    Method("album.gettoptags", album_top_tags),
    Method("album.search", album_search),
    Method("track.getinfo", track_info),
    Method("track.getsimilar", track_similar),
    Method("track.gettoptags", track_top_tags),
    Method("track.getcorrection", track_correction),
    Method("track.search", track_search),
    Method("tag.getinfo", tag_info_method),
    Method("tag.gettopartists", tag_top_artists),
    Method("tag.gettopalbums", tag_top_albums),
    Method("tag.gettoptracks", tag_top_tracks),
    Method("tag.gettoptags", tag_top_tags),
]
