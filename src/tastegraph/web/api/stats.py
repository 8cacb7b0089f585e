"""/api/v1 charts and profiles: per user, site-wide, per country and tag, trending, listeners,
the listening clock, streaks, discoveries, tags and the year in review."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from tastegraph.catalog.kinds import Kind
from tastegraph.locales import normalize_country, normalize_timezone
from tastegraph.stats.errors import InvalidPeriod
from tastegraph.stats.periods import Period, Window, parse_period, resolve, week_starts
from tastegraph.stats.profile import ProfileStats
from tastegraph.stats.review import build_review, render_svg
from tastegraph.stats.schemas import (
    ChartEntryOut,
    ChartOut,
    ClockOut,
    DiscoveriesOut,
    DiscoveryOut,
    ItemStatsOut,
    ListenerOut,
    ShareOut,
    StreaksOut,
    SummaryOut,
    TagOut,
    TopEntryOut,
    TrendOut,
    WeekOut,
    WeeksOut,
    YearReviewOut,
)
from tastegraph.stats.site import SiteStats
from tastegraph.web.deps import RuntimeDep, caller, unit_of_work, view_profile
from tastegraph.web.viewer import viewer_of

router = APIRouter(prefix="/api/v1", tags=["charts"])

PeriodQuery = Annotated[
    str,
    Query(
        description="7day, 1month, 3month, 6month, 12month, overall; or this_week, this_month, "
        "this_year, week, month, quarter, half_yearly, year (calendar periods in the time zone)."
    ),
]
FromQuery = Annotated[datetime | None, Query(alias="from", description="Custom range start.")]
ToQuery = Annotated[datetime | None, Query(alias="to", description="Custom range end (exclusive).")]
ZoneQuery = Annotated[str | None, Query(alias="tz", description="IANA time zone to count in.")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=100_000)]


def _zone(requested: str | None, default: str) -> str:
    if requested is None:
        return default
    try:
        return normalize_timezone(requested)
    except ValueError as exc:
        raise InvalidPeriod(str(exc)) from None


def _window(
    period: str, start: datetime | None, end: datetime | None, zone: str
) -> tuple[str, Window]:
    """A named period in ``zone``, or the custom range [from, to)."""
    now = datetime.now(UTC)
    if start is not None or end is not None:
        begin = _aware(start) if start else None
        finish = _aware(end) if end else now
        if begin is not None and begin >= finish:
            raise InvalidPeriod("'from' must be before 'to'.")
        return "custom", Window(begin, finish, zone)
    named = parse_period(period)
    return named.value, resolve(named, zone, now)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/users/{name}/charts/{level}")
def user_chart(
    name: str,
    level: Kind,
    request: Request,
    runtime: RuntimeDep,
    period: PeriodQuery = "overall",
    start: FromQuery = None,
    end: ToQuery = None,
    tz: ZoneQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ChartOut:
    """A user's top items of a level (artist, album, track, show, season, episode, film,
    competition, team, match, outlet, programme, story) for a period or a custom range.
    Weekly charts: pass the from/to of a week from /weeks."""
    with unit_of_work(runtime) as svc:
        profile = view_profile(svc, request, name)
        owner = profile.owner
        zone = _zone(tz, owner.timezone)
        label, window = _window(period, start, end, zone)
        chart = svc.stats.chart(level, user=owner, window=window, limit=limit, offset=offset)
        # Charts keep what was played; items the viewer cannot watch now are marked.
        viewer = viewer_of(runtime, request, profile.viewer)
        briefs = svc.catalog.briefs([e.item for e in chart.entries], viewer)
        return ChartOut(
            level=level,
            period=label,
            timezone=zone,
            from_=window.start,
            to=window.end,
            total=chart.total,
            entries=[
                ChartEntryOut(rank=e.rank, plays=e.plays, item=briefs[e.item.id])
                for e in chart.entries
            ],
        )


@router.get("/charts/{level}")
def site_chart(
    level: Kind,
    request: Request,
    runtime: RuntimeDep,
    period: PeriodQuery = "7day",
    start: FromQuery = None,
    end: ToQuery = None,
    tz: ZoneQuery = None,
    country: Annotated[str | None, Query(description="ISO 3166-1 code: a geo chart.")] = None,
    tag: Annotated[str | None, Query(description="Only items with this tag.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    listeners: Annotated[
        bool,
        Query(
            description="Count each item's distinct listeners (false: null). Over a long "
            "period this is most of the work; the plays come from the chart rollups."
        ),
    ] = True,
) -> ChartOut:
    """Site-wide charts: everyone's plays (incognito ones never count), optionally of the
    listeners of one country, or of items with a tag."""
    zone = _zone(tz, "UTC")
    label, window = _window(period, start, end, zone)
    if country is not None:
        try:
            country = normalize_country(country)
        except ValueError as exc:
            raise InvalidPeriod(str(exc)) from None
    with unit_of_work(runtime) as svc:
        chart = svc.stats.chart(
            level,
            window=window,
            country=country,
            tag=tag,
            limit=limit,
            offset=offset,
            listeners=listeners,
        )
        viewer = viewer_of(runtime, request, caller(svc, request, required=False))
        briefs = svc.catalog.briefs([e.item for e in chart.entries], viewer)
        return ChartOut(
            level=level,
            period=label,
            timezone=zone,
            from_=window.start,
            to=window.end,
            total=chart.total,
            entries=[
                ChartEntryOut(
                    rank=e.rank, plays=e.plays, listeners=e.listeners, item=briefs[e.item.id]
                )
                for e in chart.entries
            ],
        )


@router.get("/charts/{level}/trending")
def trending(
    level: Kind,
    request: Request,
    runtime: RuntimeDep,
    period: Annotated[
        Period, Query(description="A rolling period: 7day, 1month ...")
    ] = Period.DAYS_7,
    limit: Limit = 20,
) -> list[TrendOut]:
    """Items rising fastest against the equal period before."""
    window = resolve(period, "UTC", datetime.now(UTC))
    if window.start is None:
        raise InvalidPeriod("Trending needs a period with a start, such as 7day.")
    with unit_of_work(runtime) as svc:
        trends = SiteStats(svc.session).trending(level, window.start, window.end, limit=limit)
        viewer = viewer_of(runtime, request, caller(svc, request, required=False))
        briefs = svc.catalog.briefs([t.item for t in trends], viewer)
        return [
            TrendOut(
                item=briefs[t.item.id], plays=t.plays, previous=t.previous, rise=round(t.rise, 4)
            )
            for t in trends
        ]


@router.get("/users/{name}/weeks")
def weeks(name: str, request: Request, runtime: RuntimeDep, tz: ZoneQuery = None) -> WeeksOut:
    """Every week from the user's first play, Monday to Monday in their zone: the archive of
    weekly charts (fetch one with /charts/{level}?from=&to=)."""
    with unit_of_work(runtime) as svc:
        owner = view_profile(svc, request, name).owner
        zone = _zone(tz, owner.timezone)
        span = svc.stats.first_and_last(owner)
        if span is None:
            return WeeksOut(timezone=zone, weeks=[])
        return WeeksOut(
            timezone=zone,
            weeks=[WeekOut(from_=a, to=b) for a, b in week_starts(span[0], span[1], zone)],
        )


@router.get("/users/{name}/summary")
def summary(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    period: PeriodQuery = "overall",
    tz: ZoneQuery = None,
) -> SummaryOut:
    """Totals and the share of each kind of content, first and last play, and streaks."""
    with unit_of_work(runtime) as svc:
        owner = view_profile(svc, request, name).owner
        zone = _zone(tz, owner.timezone)
        _, window = _window(period, None, None, zone)
        profile = ProfileStats(svc.session)
        shares = profile.shares(owner, window)
        span = svc.stats.first_and_last(owner)
        today = datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
        streaks = profile.streaks(owner, today, zone)
        return SummaryOut(
            user=owner.name,
            timezone=zone,
            plays=sum(s.plays for s in shares),
            first_play=span[0] if span else None,
            last_play=span[1] if span else None,
            shares=[
                ShareOut(domain=s.domain, plays=s.plays, share=round(s.share, 4)) for s in shares
            ],
            streaks=StreaksOut(
                current=streaks.current,
                longest=streaks.longest,
                longest_start=streaks.longest_start,
                longest_end=streaks.longest_end,
                active_days=streaks.active_days,
            ),
        )


@router.get("/users/{name}/clock")
def clock(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    period: PeriodQuery = "overall",
    tz: ZoneQuery = None,
) -> ClockOut:
    """Plays by weekday and hour: by default in each play's own local time (the offset the
    person lived it in), or in the zone ``tz`` names."""
    with unit_of_work(runtime) as svc:
        owner = view_profile(svc, request, name).owner
        zone = _zone(tz, owner.timezone) if tz else None
        _, window = _window(period, None, None, zone or owner.timezone)
        grid = ProfileStats(svc.session).clock(owner, window, zone)
        return ClockOut(timezone=zone, grid=grid)


@router.get("/users/{name}/discoveries")
def discoveries(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    level: Kind = Kind.ARTIST,
    tz: ZoneQuery = None,
) -> DiscoveriesOut:
    """New items per week: how many items of the level were played for the first time."""
    with unit_of_work(runtime) as svc:
        owner = view_profile(svc, request, name).owner
        zone = _zone(tz, owner.timezone)
        weeks_found = ProfileStats(svc.session).discoveries(owner, level, zone)
        return DiscoveriesOut(
            level=level,
            timezone=zone,
            weeks=[
                DiscoveryOut(week_start=w.week_start, new_items=w.new_items, plays=w.plays)
                for w in weeks_found
            ],
        )


@router.get("/users/{name}/tags")
def user_tags(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    period: PeriodQuery = "overall",
    limit: Limit = 20,
) -> list[TagOut]:
    """The tags of what the user played, weighted by plays."""
    with unit_of_work(runtime) as svc:
        owner = view_profile(svc, request, name).owner
        _, window = _window(period, None, None, owner.timezone)
        tags = ProfileStats(svc.session).top_tags(owner, window, limit)
        return [TagOut(name=t.name, weight=t.weight) for t in tags]


@router.get("/charts/tags/top")
def site_tags(runtime: RuntimeDep, period: PeriodQuery = "7day", limit: Limit = 20) -> list[TagOut]:
    """The tags of what everyone played, weighted by plays."""
    _, window = _window(period, None, None, "UTC")
    with unit_of_work(runtime) as svc:
        tags = ProfileStats(svc.session).top_tags(None, window, limit)
        return [TagOut(name=t.name, weight=t.weight) for t in tags]


@router.get("/users/{name}/year/{year}.svg", response_class=Response)
def year_poster(
    name: str, year: int, request: Request, runtime: RuntimeDep, tz: ZoneQuery = None
) -> Response:
    with unit_of_work(runtime) as svc:
        owner = view_profile(svc, request, name).owner
        zone = _zone(tz, owner.timezone)
        _check_year(year)
        svg = render_svg(build_review(svc.session, owner, year, zone))
    return Response(svg, media_type="image/svg+xml")


@router.get("/users/{name}/year/{year}")
def year_in_review(
    name: str, year: int, request: Request, runtime: RuntimeDep, tz: ZoneQuery = None
) -> YearReviewOut:
    """A past (or the current) year: totals, months, top items, discoveries, clock; the
    ``poster`` field holds the same as SVG (also at /year/{year}.svg)."""
    with unit_of_work(runtime) as svc:
        owner = view_profile(svc, request, name).owner
        zone = _zone(tz, owner.timezone)
        _check_year(year)
        review = build_review(svc.session, owner, year, zone)
        return YearReviewOut(
            user=review.user,
            year=review.year,
            timezone=review.timezone,
            plays=review.plays,
            active_days=review.active_days,
            longest_streak=review.longest_streak,
            new_artists=review.new_artists,
            months=review.months,
            domains=review.domains,
            top={
                level: [TopEntryOut(id=i, title=t, plays=n) for i, t, n in entries]
                for level, entries in review.top.items()
            },
            clock=review.clock,
            poster=render_svg(review),
        )


def _check_year(year: int) -> None:
    if not 2002 <= year <= datetime.now(UTC).year:
        raise InvalidPeriod(f"There is no review of {year}: pick a year from 2002 to now.")


@router.get("/items/{item_id}/listeners")
def top_listeners(
    item_id: int,
    request: Request,
    runtime: RuntimeDep,
    period: PeriodQuery = "overall",
    limit: Limit = 20,
) -> list[ListenerOut]:
    """Who played an item most — only people whose privacy lets the caller see them."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        item = svc.catalog.get(item_id)
        _, window = _window(period, None, None, "UTC")
        listeners = SiteStats(svc.session).top_listeners(
            item.kind, item.id, viewer=viewer, start=window.start, end=window.end, limit=limit
        )
        hidden = svc.social.hidden_ids(viewer)  # blocks hide people from each other
        return [
            ListenerOut(user=lst.user.name, url=f"/api/v1/users/{lst.user.name}", plays=lst.plays)
            for lst in listeners
            if lst.user.id not in hidden
        ]


@router.get("/items/{item_id}/stats")
def item_stats(item_id: int, request: Request, runtime: RuntimeDep) -> ItemStatsOut:
    """An item's plays and listeners, and the caller's own plays of it."""
    with unit_of_work(runtime) as svc:
        viewer = caller(svc, request, required=False)
        item = svc.catalog.get(item_id)
        totals = svc.stats.item_totals(item.kind, [item.id])[item.id]
        mine = svc.stats.item_totals(item.kind, [item.id], user=viewer)[item.id] if viewer else None
        return ItemStatsOut(
            item=svc.catalog.briefs([item])[item.id],
            plays=totals.plays,
            listeners=totals.listeners,
            your_plays=mine.plays if mine else None,
        )
