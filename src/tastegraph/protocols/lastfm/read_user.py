"""user.* and library.* read methods: a user's profile, history, charts, loves and friends.

A user the caller may not see (private, or friends-only to a stranger) is answered as missing,
the same error 6 "User not found" as a name that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tastegraph.accounts.models import User
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.models import Item
from tastegraph.ingest.models import Sentiment
from tastegraph.protocols.lastfm.context import Call, Method, Paging
from tastegraph.protocols.lastfm.countries import country_name
from tastegraph.protocols.lastfm.elements import (
    artist_nested,
    artist_text,
    date,
    images,
    item_url,
    user_url,
    uts,
)
from tastegraph.protocols.lastfm.entries import chart_entries, tag_entry, weekly_entry
from tastegraph.protocols.lastfm.errors import invalid
from tastegraph.protocols.lastfm.queries import (
    Facts,
    facts,
    loved_ids,
    tag_counts,
    user_tag_counts,
)
from tastegraph.protocols.lastfm.render import El, leaf, node
from tastegraph.stats.errors import InvalidPeriod
from tastegraph.stats.periods import Period, Window, parse_period, resolve

_FAR_FUTURE = timedelta(days=3650)


def window_for(call: Call, user: User) -> Window:
    """The ``period`` parameter (Last.fm's overall, 7day, 1month, 3month, 6month, 12month)
    as a window ending now, in the user's time zone."""
    try:
        period = parse_period(call.params.text("period") or Period.OVERALL.value)
    except InvalidPeriod:
        raise invalid(
            "Invalid parameters - period must be overall, 7day, 1month, 3month, 6month or 12month"
        ) from None
    return resolve(period, user.timezone, call.utcnow())


def _moment(seconds: int | None) -> datetime | None:
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise invalid("Invalid parameters - timestamps are UNIX seconds") from None


# -- user.getInfo -----------------------------------------------------------------------------


def _profile(call: Call, user: User, *, registered_text: str | int) -> list[El]:
    """The fields user.getInfo and user.getFriends share, in Last.fm's order."""
    return [
        leaf("name", user.name),
        leaf("realname", user.display_name or ""),
        *images(),
        leaf("url", user_url(call, user.name)),
        leaf("country", country_name(user.country) if user.country else "None"),
        leaf("age", "0"),
        leaf("gender", "n"),
        leaf("subscriber", "0"),
        leaf("playcount", str(call.svc.stats.play_count(user))),
        leaf("playlists", "0"),
        leaf("bootstrap", "0"),
        leaf("registered", registered_text, {"unixtime": uts(user.created_at)}),
        leaf("type", "user"),
    ]


def get_info(call: Call) -> list[El]:
    # pylast's AuthenticatedUser sends no user, only sk: the session's user is meant.
    user = call.target_user()
    counts = [
        leaf(f"{level.value}_count", str(call.svc.stats.chart(level, user=user, limit=1).total))
        for level in (Kind.ARTIST, Kind.ALBUM, Kind.TRACK)
    ]
    # user.getInfo's JSON gives the registration time as a number in "#text".
    registered = int(user.created_at.timestamp())
    return [node("user", [*_profile(call, user, registered_text=registered), *counts])]


# -- user.getRecentTracks ---------------------------------------------------------------------


def _recent_track(
    call: Call,
    f: Facts,
    item: Item,
    *,
    played_at: datetime | None,
    extended: bool,
    loved: bool,
) -> El:
    album = f.album(item)
    children: list[El] = []
    if extended:
        children += [leaf("name", item.title), artist_nested(call, f, item, with_images=True)]
        children.append(leaf("loved", "1" if loved else "0"))
    else:
        children += [artist_text(f, item), leaf("name", item.title)]
    children += [
        leaf("streamable", "0"),
        leaf("mbid", f.mbid(item)),
        leaf("album", album.title if album else "", {"mbid": f.mbid(album)}),
        leaf("url", item_url(call, item)),
        *images(),
    ]
    attrs: dict[str, str | int] = {}
    if played_at is None:
        # pylast only tests that the attribute exists: never send nowplaying="false".
        attrs["nowplaying"] = "true"
    else:
        children.append(date(played_at))
    return node("track", children, attrs)


def get_recent_tracks(call: Call) -> list[El]:
    user = call.target_user()
    limit = call.params.limit(50, 200)
    page = call.params.page()
    since = _moment(call.params.timestamp("from"))
    until = _moment(call.params.timestamp("to"))
    extended = call.params.flag("extended")
    if not call.svc.social.can_see_recent(call.user, user):
        # The user hides recent activity from others: an empty history, as the native API.
        return [
            node("recenttracks", [], Paging(page, limit, 0).attrs(user=user.name), items="track")
        ]
    end = until or call.utcnow() + _FAR_FUTURE
    total = call.svc.stats.play_count(user, Window(since, end, user.timezone))
    paging = Paging(page, limit, total)
    rows = call.svc.ingest.history(
        user, limit=limit, since=since, until=until, offset=paging.offset
    )
    playing = None
    if page == 1 and until is None:
        # The track playing now comes first, on page 1 only, and is not counted in total.
        found = call.svc.ingest.now_playing(user)
        playing = found[1] if found is not None else None
    items = [item for _, item, _ in rows] + ([playing] if playing is not None else [])
    f = facts(call.svc, items)
    loved = loved_ids(call.svc, user.id, [i.id for i in items]) if extended else set()
    tracks = []
    if playing is not None:
        tracks.append(
            _recent_track(
                call, f, playing, played_at=None, extended=extended, loved=playing.id in loved
            )
        )
    tracks += [
        _recent_track(
            call, f, item, played_at=play.played_at, extended=extended, loved=item.id in loved
        )
        for play, item, _ in rows
    ]
    return [node("recenttracks", tracks, paging.attrs(user=user.name), items="track")]


# -- top lists --------------------------------------------------------------------------------

_TOP = {Kind.ARTIST: "artist", Kind.ALBUM: "album", Kind.TRACK: "track"}


def _top(call: Call, level: Kind) -> list[El]:
    user = call.target_user()
    window = window_for(call, user)
    limit = call.params.limit(50, 1000)
    page = call.params.page()
    offset = (page - 1) * limit
    chart = call.svc.stats.chart(level, user=user, window=window, limit=limit, offset=offset)
    paging = Paging(page, limit, chart.total)
    tag = _TOP[level]
    f = facts(call.svc, [e.item for e in chart.entries])
    entries = chart_entries(call, f, chart.entries, tag)
    return [node(f"top{tag}s", entries, paging.attrs(user=user.name), items=tag)]


def get_top_artists(call: Call) -> list[El]:
    return _top(call, Kind.ARTIST)


def get_top_albums(call: Call) -> list[El]:
    return _top(call, Kind.ALBUM)


def get_top_tracks(call: Call) -> list[El]:
    return _top(call, Kind.TRACK)


def get_top_tags(call: Call) -> list[El]:
    """The tags the user put on things, most used first."""
    user = call.target_user()
    tags, _ = tag_counts(call.svc, user_id=user.id, limit=call.params.limit(50, 1000))
    entries = [tag_entry(call, t) for t in tags]
    return [node("toptags", entries, {"user": user.name}, items="tag")]


# -- friends and loves ------------------------------------------------------------------------


def get_friends(call: Call) -> list[El]:
    """Friends as an empty container when there are none: Last.fm's error 6 "no such page"
    for a friendless user breaks paging clients."""
    user = call.target_user()
    friends = [
        friend
        for friend in call.svc.social.friends_of(user.id)
        if call.svc.social.can_view(call.user, friend)
    ]
    paging = Paging(call.params.page(), call.params.limit(50, 1000), len(friends))
    shown = friends[paging.offset : paging.offset + paging.limit]
    entries = [
        node(
            "user",
            _profile(call, friend, registered_text=friend.created_at.strftime("%Y-%m-%d %H:%M")),
        )
        for friend in shown
    ]
    return [node("friends", entries, paging.attrs(user=user.name), items="user")]


def get_loved_tracks(call: Call) -> list[El]:
    user = call.target_user()
    limit = call.params.limit(50, 1000)
    page = call.params.page()
    paging = Paging(page, limit, call.svc.ingest.count_feedback(user, Sentiment.LOVE))
    rows = call.svc.ingest.feedback(user, Sentiment.LOVE, limit=limit, offset=paging.offset)
    f = facts(call.svc, [item for _, item in rows])
    tracks = [
        node(
            "track",
            [
                leaf("name", item.title),
                leaf("mbid", f.mbid(item)),
                leaf("url", item_url(call, item)),
                # pylast needs date@uts on every loved track.
                date(fb.created_at),
                artist_nested(call, f, item),
                *images(),
                leaf("streamable", "0", {"fulltrack": "0"}),
            ],
        )
        for fb, item in rows
    ]
    return [node("lovedtracks", tracks, paging.attrs(user=user.name), items="track")]


# -- weekly charts ----------------------------------------------------------------------------


def get_weekly_chart_list(call: Call) -> list[El]:
    user = call.target_user()
    charts = [
        leaf("chart", "", {"from": uts(start), "to": uts(end)})
        for start, end in call.svc.stats.weeks(user)
    ]
    return [node("weeklychartlist", charts, {"user": user.name}, items="chart")]


def _week(call: Call, user: User) -> Window:
    """from/to as sent (weeks from getWeeklyChartList), else the last complete week."""
    start = _moment(call.params.timestamp("from"))
    end = _moment(call.params.timestamp("to"))
    if start is None and end is None:
        return resolve(Period.WEEK, user.timezone, call.utcnow())
    if start is None:
        assert end is not None
        start = end - timedelta(days=7)
    if end is None:
        end = start + timedelta(days=7)
    if start >= end:
        raise invalid("Invalid parameters - from must be before to")
    return Window(start, end, user.timezone)


def _weekly(call: Call, level: Kind) -> list[El]:
    user = call.target_user()
    window = _week(call, user)
    chart = call.svc.stats.chart(
        level, user=user, window=window, limit=call.params.limit(500, 5000)
    )
    tag = _TOP[level]
    f = facts(call.svc, [e.item for e in chart.entries])
    attrs: dict[str, str | int] = {"user": user.name}
    if window.start is not None:
        attrs["from"] = uts(window.start)
    attrs["to"] = uts(window.end)
    entries = [weekly_entry(call, f, e, tag) for e in chart.entries]
    return [node(f"weekly{tag}chart", entries, attrs, items=tag)]


def get_weekly_artist_chart(call: Call) -> list[El]:
    return _weekly(call, Kind.ARTIST)


def get_weekly_album_chart(call: Call) -> list[El]:
    return _weekly(call, Kind.ALBUM)


def get_weekly_track_chart(call: Call) -> list[El]:
    return _weekly(call, Kind.TRACK)


# -- library.getArtists -----------------------------------------------------------------------


def library_artists(call: Call) -> list[El]:
    user = call.target_user()
    limit = call.params.limit(50, 2000)
    page = call.params.page()
    offset = (page - 1) * limit
    chart = call.svc.stats.chart(Kind.ARTIST, user=user, limit=limit, offset=offset)
    paging = Paging(page, limit, chart.total)
    f = facts(call.svc, [e.item for e in chart.entries])
    tagged = user_tag_counts(call.svc, user.id, [e.item.id for e in chart.entries])
    entries = [
        node(
            "artist",
            [
                leaf("name", e.item.title),
                leaf("playcount", str(e.plays)),
                leaf("tagcount", str(tagged.get(e.item.id, 0))),
                leaf("mbid", f.mbid(e.item)),
                leaf("url", item_url(call, e.item)),
                leaf("streamable", "0"),
                *images(),
            ],
        )
        for e in chart.entries
    ]
    return [node("artists", entries, paging.attrs(user=user.name), items="artist")]


METHODS = [
    Method("user.getinfo", get_info),
    Method("user.getrecenttracks", get_recent_tracks),
    Method("user.gettopartists", get_top_artists),
    Method("user.gettopalbums", get_top_albums),
    Method("user.gettoptracks", get_top_tracks),
    Method("user.gettoptags", get_top_tags),
    Method("user.getfriends", get_friends),
    Method("user.getlovedtracks", get_loved_tracks),
    Method("user.getweeklychartlist", get_weekly_chart_list),
    Method("user.getweeklyartistchart", get_weekly_artist_chart),
    Method("user.getweeklyalbumchart", get_weekly_album_chart),
    Method("user.getweeklytrackchart", get_weekly_track_chart),
    Method("library.getartists", library_artists),
]
