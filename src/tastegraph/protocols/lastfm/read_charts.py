"""chart.* and geo.*: everyone's charts, and those of one country's listeners.

Last.fm's charts cover recent weeks; here they default to the last 7 days, as the native site
charts do, and take the ``period`` of the user charts as an extension (``period=overall``).
"""

from __future__ import annotations

from tastegraph.catalog.kinds import Kind
from tastegraph.protocols.lastfm.context import Call, Method, Paging
from tastegraph.protocols.lastfm.countries import country_code
from tastegraph.protocols.lastfm.entries import chart_entries, tag_entry
from tastegraph.protocols.lastfm.errors import invalid
from tastegraph.protocols.lastfm.queries import facts, tag_counts
from tastegraph.protocols.lastfm.render import El, node
from tastegraph.stats.errors import InvalidPeriod
from tastegraph.stats.periods import Period, Window, parse_period, resolve


def _window(call: Call) -> Window:
    try:
        period = parse_period(call.params.text("period") or Period.DAYS_7.value)
    except InvalidPeriod:
        raise invalid(
            "Invalid parameters - period must be overall, 7day, 1month, 3month, 6month or 12month"
        ) from None
    return resolve(period, "UTC", call.utcnow())


def _chart(
    call: Call,
    level: Kind,
    container: str,
    item_tag: str,
    *,
    country: str | None = None,
    owner: dict[str, str] | None = None,
) -> list[El]:
    limit = call.params.limit(50, 1000)
    page = call.params.page()
    chart = call.svc.stats.chart(
        level,
        window=_window(call),
        country=country,
        limit=limit,
        offset=(page - 1) * limit,
    )
    paging = Paging(page, limit, chart.total)
    f = facts(call.svc, [e.item for e in chart.entries])
    entries = chart_entries(call, f, chart.entries, item_tag, listeners=True)
    return [node(container, entries, paging.attrs(**(owner or {})), items=item_tag)]


def chart_top_artists(call: Call) -> list[El]:
    return _chart(call, Kind.ARTIST, "artists", "artist")


def chart_top_tracks(call: Call) -> list[El]:
    return _chart(call, Kind.TRACK, "tracks", "track")


def chart_top_tags(call: Call) -> list[El]:
    limit = call.params.limit(50, 1000)
    page = call.params.page()
    tags, total = tag_counts(call.svc, limit=limit, offset=(page - 1) * limit)
    paging = Paging(page, limit, total)
    entries = [tag_entry(call, t, count=False, reach=True) for t in tags]
    return [node("tags", entries, paging.attrs(), items="tag")]


def _country(call: Call) -> tuple[str, str]:
    """The country as sent (echoed back, as Last.fm does) and its ISO code."""
    name = call.params.require("country")
    code = country_code(name)
    if code is None:
        raise invalid("country param invalid")
    return name, code


def geo_top_artists(call: Call) -> list[El]:
    name, code = _country(call)
    return _chart(call, Kind.ARTIST, "topartists", "artist", country=code, owner={"country": name})


def geo_top_tracks(call: Call) -> list[El]:
    name, code = _country(call)
    return _chart(call, Kind.TRACK, "tracks", "track", country=code, owner={"country": name})


METHODS = [
    Method("chart.gettopartists", chart_top_artists),
    Method("chart.gettoptracks", chart_top_tracks),
    Method("chart.gettoptags", chart_top_tags),
    Method("geo.gettopartists", geo_top_artists),
    Method("geo.gettoptracks", geo_top_tracks),
]
