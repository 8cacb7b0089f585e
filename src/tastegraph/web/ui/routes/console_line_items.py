"""Console: line items (bid, targeting, frequency caps) and their creatives (image, video or
text, with a validated click URL and a preview)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError

from tastegraph.ads.errors import InvalidAdData
from tastegraph.ads.models import Creative, CreativeFormat, LineItem, Status
from tastegraph.ads.schemas import (
    WEEKDAYS,
    Client,
    CreativeIn,
    CreativeUpdate,
    LineItemIn,
    LineItemUpdate,
    money,
)
from tastegraph.ads.taxonomy import (
    AMERICAN_FOOTBALL,
    ENTERTAINMENT,
    MOVIES,
    MUSIC,
    NEWS,
    SOCCER,
    SPORTS,
    TELEVISION,
)
from tastegraph.audiences.errors import SegmentNotFound
from tastegraph.catalog.kinds import Kind
from tastegraph.runtime import Services
from tastegraph.web.ui.console_forms import FormErrors, add_area_errors, add_validation_errors
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router
from tastegraph.web.ui.routes.console import (
    Console,
    FormDep,
    console_context,
    describer,
    form_lists,
    form_text,
    open_console,
    parse_money,
)
from tastegraph.web.ui.segment_builder import split

router = page_router()

LINE_ITEM_FIELDS: dict[str, str] = {
    "name": N_("Name"),
    "bid": N_("Bid"),
    "status": N_("Status"),
    "segments": N_("Audience segments"),
    "countries": N_("Countries"),
    "kinds": N_("Content kinds"),
    "categories": N_("IAB content categories"),
    "languages": N_("Languages"),
    "dayparts": N_("Times of day"),
    "clients": N_("Devices"),
    "placements": N_("Placements"),
    "live": N_("Live or on demand"),
    "frequency_caps": N_("Frequency caps"),
}
CREATIVE_FIELDS: dict[str, str] = {
    "name": N_("Name"),
    "format": N_("Format"),
    "width": N_("Width (pixels)"),
    "height": N_("Height (pixels)"),
    "duration_seconds": N_("Duration (seconds)"),
    "asset_url": N_("Asset URL"),
    "mime": N_("MIME type"),
    "headline": N_("Headline"),
    "body": N_("Text"),
    "click_url": N_("Click URL"),
    "status": N_("Status"),
}
KIND_LABELS: dict[Kind, str] = {
    Kind.ARTIST: N_("Artists"),
    Kind.ALBUM: N_("Albums"),
    Kind.TRACK: N_("Tracks"),
    Kind.SHOW: N_("Shows"),
    Kind.SEASON: N_("Seasons"),
    Kind.EPISODE: N_("Episodes"),
    Kind.FILM: N_("Films"),
    Kind.COMPETITION: N_("Competitions"),
    Kind.TEAM: N_("Teams"),
    Kind.MATCH: N_("Matches"),
    Kind.OUTLET: N_("News outlets"),
    Kind.PROGRAMME: N_("Programmes"),
    Kind.STORY: N_("News stories"),
}
CATEGORY_LABELS: dict[str, str] = {
    ENTERTAINMENT: N_("Entertainment"),
    MUSIC: N_("Music"),
    TELEVISION: N_("Television"),
    MOVIES: N_("Movies"),
    SPORTS: N_("Sports"),
    SOCCER: N_("Soccer"),
    AMERICAN_FOOTBALL: N_("American football"),
    NEWS: N_("News"),
    "646": N_("Comedy"),
    "647": N_("Drama"),
    "648": N_("Documentary"),
    "651": N_("Reality TV"),
    "642": N_("Soap opera"),
    "A0AH3G": N_("Talk show"),
    "KHPC5A": N_("True crime"),
    "700": N_("Thriller"),
    "380": N_("Crime"),
    "432": N_("Celebrity and pop culture"),
}
"""The IAB Content Taxonomy ids the catalogue's kinds and tags map to (ads/taxonomy.py)."""
CLIENT_LABELS: dict[Client, str] = {
    Client.DESKTOP: N_("Desktop"),
    Client.MOBILE: N_("Mobile"),
    Client.TABLET: N_("Tablet"),
    Client.CTV: N_("Connected TV"),
}
FORMAT_LABELS: dict[CreativeFormat, str] = {
    CreativeFormat.IMAGE: N_("Image"),
    CreativeFormat.VIDEO: N_("Video"),
    CreativeFormat.TEXT: N_("Text"),
}
WINDOWS: tuple[tuple[int, str], ...] = (
    (3600, N_("per hour")),
    (86_400, N_("per day")),
    (7 * 86_400, N_("per week")),
    (30 * 86_400, N_("per 30 days")),
)
MAX_DAYPARTS = 8
MAX_CAPS = 5


def _labels(page: Page, fields: dict[str, str]) -> dict[str, str]:
    return {name: page.gettext(label) for name, label in fields.items()}


def _choices(svc: Services, console: Console) -> dict[str, Any]:
    """What the targeting form offers: the segments this user may see, the placements ..."""
    segments = []
    for segment in svc.audiences.visible_segments(console.user):
        size = svc.audiences.size(segment)
        segments.append((segment, size.display, size.targetable and segment.active))
    return {
        "segments": segments,
        "floor": svc.audiences.k_floor,
        "placements": svc.ads.list_placements(),
        "kind_labels": KIND_LABELS,
        "category_labels": CATEGORY_LABELS,
        "client_labels": CLIENT_LABELS,
        "weekdays": WEEKDAYS,
        "windows": WINDOWS,
        "format_labels": FORMAT_LABELS,
    }


def targeting_summary(page: Page, targeting: dict[str, Any] | None) -> str:
    """A line item's targeting in a few words: "2 segments · DE, AT · Matches"."""
    t = targeting or {}
    parts: list[str] = []
    if t.get("segments"):
        count = len(t["segments"])
        parts.append(page.ngettext("%(num)s segment", "%(num)s segments", count))
    if t.get("countries"):
        parts.append(", ".join(t["countries"]))
    if t.get("kinds"):
        parts.append(", ".join(page.gettext(KIND_LABELS[Kind(k)]) for k in t["kinds"]))
    if t.get("categories"):
        parts.append(
            ", ".join(
                page.gettext(CATEGORY_LABELS.get(c, c)) if c in CATEGORY_LABELS else c
                for c in t["categories"]
            )
        )
    if t.get("languages"):
        parts.append(", ".join(t["languages"]))
    if t.get("clients"):
        parts.append(", ".join(page.gettext(CLIENT_LABELS[Client(c)]) for c in t["clients"]))
    if t.get("dayparts"):
        count = len(t["dayparts"])
        parts.append(page.ngettext("%(num)s time of day", "%(num)s times of day", count))
    if t.get("placements"):
        parts.append(", ".join(t["placements"]))
    if t.get("live") is not None:
        parts.append(page.gettext("Live only") if t["live"] else page.gettext("On demand only"))
    return " · ".join(parts) if parts else page.gettext("Run of network")


# -- line items ---------------------------------------------------------------------------------


def _line_item_values(line_item: LineItem | None) -> dict[str, Any]:
    targeting: dict[str, Any] = dict(line_item.targeting or {}) if line_item else {}
    known = set(CATEGORY_LABELS)
    categories = [str(c) for c in targeting.get("categories", [])]
    caps = [
        (str(c["impressions"]), str(c["window_seconds"]))
        for c in (line_item.frequency_caps if line_item else [])
    ]
    dayparts = [
        (list(d.get("days", WEEKDAYS)), str(d.get("start_hour", 0)), str(d.get("end_hour", 24)))
        for d in targeting.get("dayparts", [])
    ]
    live = targeting.get("live")
    return {
        "name": line_item.name if line_item else "",
        "bid": "" if line_item is None else f"{money(line_item.bid_micros) or 0:.3f}",
        "status": line_item.status.value if line_item else Status.ACTIVE.value,
        "segments": [str(s) for s in targeting.get("segments", [])],
        "countries": ", ".join(targeting.get("countries", [])),
        "kinds": list(targeting.get("kinds", [])),
        "categories": [c for c in categories if c in known],
        "categories_other": ", ".join(c for c in categories if c not in known),
        "languages": ", ".join(targeting.get("languages", [])),
        "dayparts": [*dayparts, ([], "0", "24")][:MAX_DAYPARTS],
        "clients": list(targeting.get("clients", [])),
        "placements": list(targeting.get("placements", [])),
        "live": "" if live is None else ("true" if live else "false"),
        "caps": [*caps, ("", "86400")][:MAX_CAPS],
    }


def _read_line_item(
    page: Page, form: Any, errors: FormErrors
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the values to show again, the line item's data) from the posted form."""
    lists = form_lists(form)
    starts, ends = lists.get("daypart_start", []), lists.get("daypart_end", [])
    dayparts_shown = []
    dayparts = []
    for index in range(min(len(starts), len(ends), MAX_DAYPARTS)):
        days = lists.get(f"daypart_{index}_days", [])
        dayparts_shown.append((days, starts[index], ends[index]))
        if days:
            dayparts.append({"days": days, "start_hour": starts[index], "end_hour": ends[index]})
    if dayparts_shown and dayparts_shown[-1][0]:
        dayparts_shown.append(([], "0", "24"))
    impressions, windows = lists.get("cap_impressions", []), lists.get("cap_window", [])
    caps_shown = list(zip(impressions, windows, strict=False))[:MAX_CAPS]
    caps = [{"impressions": n.strip(), "window_seconds": w} for n, w in caps_shown if n.strip()]
    if len(caps_shown) < MAX_CAPS and (not caps_shown or caps_shown[-1][0].strip()):
        caps_shown.append(("", "86400"))
    values: dict[str, Any] = {
        "name": form_text(form, "name", 300),
        "bid": form_text(form, "bid", 40),
        "status": form_text(form, "status", 20) or Status.ACTIVE.value,
        "segments": lists.get("segments", []),
        "countries": form_text(form, "countries"),
        "kinds": lists.get("kinds", []),
        "categories": lists.get("categories", []),
        "categories_other": form_text(form, "categories_other"),
        "languages": form_text(form, "languages"),
        "dayparts": dayparts_shown or [([], "0", "24")],
        "clients": lists.get("clients", []),
        "placements": lists.get("placements", []),
        "live": form_text(form, "live", 10),
        "caps": caps_shown or [("", "86400")],
    }
    bid: Decimal | None = None
    try:
        bid = parse_money(values["bid"])
    except ValueError:
        errors.add(
            "bid", page.gettext("Enter an amount for “%(field)s”.", field=page.gettext("Bid"))
        )
    if bid is None and not errors.on("bid"):
        errors.add("bid", page.gettext("A line item needs a bid."))
    targeting: dict[str, Any] = {
        "segments": [s for s in values["segments"] if s],
        "countries": [c.upper() for c in split(values["countries"])],
        "kinds": values["kinds"],
        "categories": [*values["categories"], *split(values["categories_other"])],
        "languages": split(values["languages"]),
        "dayparts": dayparts,
        "clients": values["clients"],
        "placements": values["placements"],
    }
    if values["live"] in {"true", "false"}:
        targeting["live"] = values["live"] == "true"
    data = {
        "name": values["name"],
        "bid": bid,
        "status": values["status"],
        "targeting": targeting,
        "frequency_caps": caps,
    }
    return values, data


def _check_segments(
    page: Page, svc: Services, console: Console, ids: list[str], errors: FormErrors
) -> None:
    """Only segments this user may see can be bought (the audiences area decides)."""
    for text in ids:
        try:
            svc.audiences.readable_segment(console.user, int(text))
        except (ValueError, SegmentNotFound):
            errors.add("segments", page.gettext("There is no such segment."))


def _line_item_form(
    page: Page,
    svc: Services,
    console: Console,
    *,
    campaign: Any,
    line_item: LineItem | None,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> Response:
    return page.render(
        "ui/console/line_item_form.html",
        console_context(
            page,
            console,
            campaign=campaign,
            line_item=line_item,
            values=values,
            errors=errors,
            labels=_labels(page, LINE_ITEM_FIELDS),
            **_choices(svc, console),
        ),
        status=status,
    )


def _save_line_item(
    page: Page,
    svc: Services,
    console: Console,
    form: Any,
    line_item: LineItem | None,
    campaign_id: int,
) -> tuple[dict[str, Any], FormErrors, int | None]:
    errors = FormErrors()
    values, data = _read_line_item(page, form, errors)
    _check_segments(page, svc, console, data["targeting"]["segments"], errors)
    if errors:
        return values, errors, None
    labels = _labels(page, LINE_ITEM_FIELDS)
    try:
        if line_item is None:
            made = svc.ads.create_line_item(
                console.scope, LineItemIn.model_validate({"campaign_id": campaign_id, **data})
            )
            return values, errors, made.id
        svc.ads.update_line_item(console.scope, line_item.id, LineItemUpdate.model_validate(data))
        return values, errors, line_item.id
    except ValidationError as exc:
        add_validation_errors(errors, exc, labels, describer(page))
    except InvalidAdData as exc:
        add_area_errors(errors, exc, labels, describer(page))
    return values, errors, None


@router.get("/console/campaigns/{campaign_id}/line-items/new")
def new_line_item(campaign_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        campaign = svc.ads.campaign(console.scope, campaign_id)
        return _line_item_form(
            page, svc, console, campaign=campaign, line_item=None,
            values=_line_item_values(None), errors=FormErrors(),
        )  # fmt: skip


@router.post("/console/campaigns/{campaign_id}/line-items/new")
def create_line_item(campaign_id: int, page: PageDep, form: FormDep) -> Response:
    with page.unit_of_work(write=True) as svc:
        console = open_console(page, svc)
        campaign = svc.ads.campaign(console.scope, campaign_id)
        values, errors, made = _save_line_item(page, svc, console, form, None, campaign.id)
        if made is None:
            svc.session.rollback()
            return _line_item_form(
                page, svc, console, campaign=campaign, line_item=None,
                values=values, errors=errors, status=422,
            )  # fmt: skip
    page.runtime.ads.invalidate()
    return page.redirect(f"/console/line-items/{made}")


@router.get("/console/line-items/{line_item_id}")
def line_item_page(line_item_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        line_item = svc.ads.line_item(console.scope, line_item_id)
        campaign = svc.ads.campaign(console.scope, line_item.campaign_id)
        targeting = dict(line_item.targeting or {})
        segments: list[tuple[int, str | None, int | str, bool]] = []
        for segment_id in targeting.get("segments", []):
            try:
                segment = svc.audiences.readable_segment(console.user, int(segment_id))
            except SegmentNotFound:
                segments.append((segment_id, None, "", False))
                continue
            size = svc.audiences.size(segment)
            segments.append(
                (segment_id, segment.name, size.display, size.targetable and segment.active)
            )
        return page.render(
            "ui/console/line_item.html",
            console_context(
                page,
                console,
                campaign=campaign,
                line_item=line_item,
                targeting=targeting,
                segments=segments,
                creatives=svc.ads.list_creatives(console.scope, line_item.id),
                kind_labels=KIND_LABELS,
                category_labels=CATEGORY_LABELS,
                client_labels=CLIENT_LABELS,
                format_labels=FORMAT_LABELS,
                windows=dict(WINDOWS),
                bid=money(line_item.bid_micros) or 0.0,
            ),
        )


@router.get("/console/line-items/{line_item_id}/edit")
def edit_line_item(line_item_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        line_item = svc.ads.line_item(console.scope, line_item_id)
        campaign = svc.ads.campaign(console.scope, line_item.campaign_id)
        return _line_item_form(
            page, svc, console, campaign=campaign, line_item=line_item,
            values=_line_item_values(line_item), errors=FormErrors(),
        )  # fmt: skip


@router.post("/console/line-items/{line_item_id}/edit")
def update_line_item(line_item_id: int, page: PageDep, form: FormDep) -> Response:
    with page.unit_of_work(write=True) as svc:
        console = open_console(page, svc)
        line_item = svc.ads.line_item(console.scope, line_item_id)
        campaign = svc.ads.campaign(console.scope, line_item.campaign_id)
        values, errors, saved = _save_line_item(page, svc, console, form, line_item, campaign.id)
        if saved is None:
            svc.session.rollback()
            return _line_item_form(
                page, svc, console, campaign=campaign, line_item=line_item,
                values=values, errors=errors, status=422,
            )  # fmt: skip
    page.runtime.ads.invalidate()
    return page.redirect(f"/console/line-items/{line_item_id}")


@router.post("/console/line-items/{line_item_id}/status")
def line_item_status(line_item_id: int, page: PageDep, form: FormDep) -> Response:
    action = form_text(form, "action", 20)
    with page.unit_of_work(write=True) as svc:
        console = open_console(page, svc)
        line_item = svc.ads.line_item(console.scope, line_item_id)
        target = f"/console/line-items/{line_item_id}"
        if action == "archive":
            svc.ads.archive_line_item(console.scope, line_item_id)
            target = f"/console/campaigns/{line_item.campaign_id}"
        elif action in {"pause", "resume"}:
            status = Status.PAUSED if action == "pause" else Status.ACTIVE
            svc.ads.update_line_item(console.scope, line_item_id, LineItemUpdate(status=status))
        else:
            raise PageError(400, page.gettext("Check what you entered and try again."))
    page.runtime.ads.invalidate()
    return page.redirect(target)


# -- creatives ----------------------------------------------------------------------------------

_CREATIVE_TEXT = ("name", "format", "asset_url", "mime", "headline", "body", "click_url", "status")
_CREATIVE_NUMBERS = ("width", "height", "duration_seconds")


def _creative_values(creative: Creative | None) -> dict[str, str]:
    if creative is None:
        return dict.fromkeys(CREATIVE_FIELDS, "") | {
            "format": CreativeFormat.IMAGE.value,
            "status": Status.ACTIVE.value,
        }
    return {
        name: "" if getattr(creative, name) is None else str(getattr(creative, name))
        for name in CREATIVE_FIELDS
    }


def _read_creative(
    page: Page, form: Any, errors: FormErrors
) -> tuple[dict[str, str], dict[str, Any]]:
    values = {name: form_text(form, name, 2000) for name in CREATIVE_FIELDS}
    data: dict[str, Any] = {}
    fmt = values["format"]
    for name in _CREATIVE_TEXT:
        if values[name]:
            data[name] = values[name]
    for name in _CREATIVE_NUMBERS:
        if values[name]:
            if not values[name].isdigit():
                errors.add(
                    name,
                    page.gettext(
                        "Enter a whole number for “%(field)s”.",
                        field=page.gettext(CREATIVE_FIELDS[name]),
                    ),
                )
            else:
                data[name] = int(values[name])
    # Only the fields of the chosen format are kept: a text ad has no asset.
    if fmt == CreativeFormat.TEXT.value:
        for name in ("asset_url", "width", "height", "duration_seconds", "mime"):
            data.pop(name, None)
    elif fmt == CreativeFormat.IMAGE.value:
        for name in ("duration_seconds", "mime"):
            data.pop(name, None)
    return values, data


def _creative_form(
    page: Page,
    svc: Services,
    console: Console,
    *,
    line_item: LineItem,
    creative: Creative | None,
    values: dict[str, str],
    errors: FormErrors,
    status: int = 200,
) -> Response:
    return page.render(
        "ui/console/creative_form.html",
        console_context(
            page,
            console,
            campaign=svc.ads.campaign(console.scope, line_item.campaign_id),
            line_item=line_item,
            creative=creative,
            values=values,
            errors=errors,
            labels=_labels(page, CREATIVE_FIELDS),
            format_labels=FORMAT_LABELS,
        ),
        status=status,
    )


@router.get("/console/line-items/{line_item_id}/creatives/new")
def new_creative(line_item_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        line_item = svc.ads.line_item(console.scope, line_item_id)
        return _creative_form(
            page, svc, console, line_item=line_item, creative=None,
            values=_creative_values(None), errors=FormErrors(),
        )  # fmt: skip


@router.post("/console/line-items/{line_item_id}/creatives/new")
def create_creative(line_item_id: int, page: PageDep, form: FormDep) -> Response:
    errors = FormErrors()
    made: int | None = None
    with page.unit_of_work(write=True) as svc:
        console = open_console(page, svc)
        line_item = svc.ads.line_item(console.scope, line_item_id)
        values, data = _read_creative(page, form, errors)
        labels = _labels(page, CREATIVE_FIELDS)
        if not errors:
            try:
                made = svc.ads.create_creative(
                    console.scope, CreativeIn.model_validate({"line_item_id": line_item.id, **data})
                ).id
            except ValidationError as exc:
                add_validation_errors(errors, exc, labels, describer(page))
            except InvalidAdData as exc:
                add_area_errors(errors, exc, labels, describer(page))
        if made is None:
            svc.session.rollback()
            return _creative_form(
                page, svc, console, line_item=line_item, creative=None,
                values=values, errors=errors, status=422,
            )  # fmt: skip
    page.runtime.ads.invalidate()
    return page.redirect(f"/console/creatives/{made}")


@router.get("/console/creatives/{creative_id}")
def creative_page(creative_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        creative = svc.ads.creative(console.scope, creative_id)
        line_item = svc.ads.line_item(console.scope, creative.line_item_id)
        return page.render(
            "ui/console/creative.html",
            console_context(
                page,
                console,
                campaign=svc.ads.campaign(console.scope, line_item.campaign_id),
                line_item=line_item,
                creative=creative,
                format_labels=FORMAT_LABELS,
            ),
        )


@router.get("/console/creatives/{creative_id}/edit")
def edit_creative(creative_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        creative = svc.ads.creative(console.scope, creative_id)
        line_item = svc.ads.line_item(console.scope, creative.line_item_id)
        return _creative_form(
            page, svc, console, line_item=line_item, creative=creative,
            values=_creative_values(creative), errors=FormErrors(),
        )  # fmt: skip


@router.post("/console/creatives/{creative_id}/edit")
def update_creative(creative_id: int, page: PageDep, form: FormDep) -> Response:
    errors = FormErrors()
    with page.unit_of_work(write=True) as svc:
        console = open_console(page, svc)
        creative = svc.ads.creative(console.scope, creative_id)
        line_item = svc.ads.line_item(console.scope, creative.line_item_id)
        values, data = _read_creative(page, form, errors)
        values["format"] = creative.format.value  # a creative keeps its format
        data.pop("format", None)
        labels = _labels(page, CREATIVE_FIELDS)
        if not errors:
            try:
                svc.ads.update_creative(
                    console.scope, creative.id, CreativeUpdate.model_validate(data)
                )
            except ValidationError as exc:
                add_validation_errors(errors, exc, labels, describer(page))
            except InvalidAdData as exc:
                add_area_errors(errors, exc, labels, describer(page))
        if errors:
            svc.session.rollback()
            return _creative_form(
                page, svc, console, line_item=line_item, creative=creative,
                values=values, errors=errors, status=422,
            )  # fmt: skip
    page.runtime.ads.invalidate()
    return page.redirect(f"/console/creatives/{creative_id}")


@router.post("/console/creatives/{creative_id}/status")
def creative_status(creative_id: int, page: PageDep, form: FormDep) -> Response:
    action = form_text(form, "action", 20)
    with page.unit_of_work(write=True) as svc:
        console = open_console(page, svc)
        creative = svc.ads.creative(console.scope, creative_id)
        target = f"/console/creatives/{creative_id}"
        if action == "archive":
            svc.ads.archive_creative(console.scope, creative_id)
            target = f"/console/line-items/{creative.line_item_id}"
        elif action in {"pause", "resume"}:
            status = Status.PAUSED if action == "pause" else Status.ACTIVE
            svc.ads.update_creative(console.scope, creative_id, CreativeUpdate(status=status))
        else:
            raise PageError(400, page.gettext("Check what you entered and try again."))
    page.runtime.ads.invalidate()
    return page.redirect(target)
