"""Console: a campaign's page, creating and changing campaigns, pausing and archiving them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError

from tastegraph.ads.errors import InvalidAdData
from tastegraph.ads.models import Campaign, Pacing, Pricing, Priority, Status
from tastegraph.ads.schemas import CampaignIn, CampaignUpdate, ReportDimension, money
from tastegraph.web.ui.console_forms import FormErrors, add_area_errors, add_validation_errors
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageDep, PageError, page_router
from tastegraph.web.ui.routes.console import (
    PACING_STATES,
    Console,
    FormDep,
    console_context,
    describer,
    form_text,
    local_input,
    open_console,
    pacing_of,
    parse_id,
    parse_local,
    parse_money,
    spend_by_campaign,
    today,
)
from tastegraph.web.ui.routes.console_line_items import targeting_summary

router = page_router()

FIELDS: dict[str, str] = {
    "advertiser_id": N_("Advertiser"),
    "name": N_("Name"),
    "priority": N_("Priority"),
    "pricing": N_("Pricing"),
    "pacing": N_("Pacing"),
    "starts_at": N_("Starts"),
    "ends_at": N_("Ends"),
    "total_budget": N_("Total budget"),
    "daily_budget": N_("Daily budget"),
    "status": N_("Status"),
}
PRICING_LABELS: dict[Pricing, str] = {
    Pricing.CPM: N_("CPM: per thousand impressions"),
    Pricing.CPC: N_("CPC: per click"),
}
DELIVERY_DAYS = 14


def _labels(page: Page) -> dict[str, str]:
    return {name: page.gettext(label) for name, label in FIELDS.items()}


def _values(campaign: Campaign | None, timezone: str) -> dict[str, str]:
    if campaign is None:
        return {
            "advertiser_id": "",
            "name": "",
            "priority": Priority.STANDARD.value,
            "pricing": Pricing.CPM.value,
            "pacing": Pacing.EVEN.value,
            "starts_at": "",
            "ends_at": "",
            "total_budget": "",
            "daily_budget": "",
            "status": Status.ACTIVE.value,
        }
    total, daily = money(campaign.total_budget_micros), money(campaign.daily_budget_micros)
    return {
        "advertiser_id": str(campaign.advertiser_id),
        "name": campaign.name,
        "priority": campaign.priority.value,
        "pricing": campaign.pricing.value,
        "pacing": campaign.pacing.value,
        "starts_at": local_input(campaign.starts_at, timezone),
        "ends_at": local_input(campaign.ends_at, timezone),
        "total_budget": "" if total is None else f"{total:.2f}",
        "daily_budget": "" if daily is None else f"{daily:.2f}",
        "status": campaign.status.value,
    }


def _read(page: Page, form: Any, errors: FormErrors) -> dict[str, Any]:
    """The posted fields, typed; unreadable ones are reported and left out."""
    values = {name: form_text(form, name, 300) for name in FIELDS}
    data: dict[str, Any] = {"name": values["name"]}
    labels = _labels(page)
    for name in ("priority", "pricing", "pacing", "status"):
        data[name] = values[name] or None
    for name in ("starts_at", "ends_at"):
        try:
            data[name] = parse_local(values[name], page.timezone)
        except ValueError:
            errors.add(
                name, page.gettext("Enter a date and time for “%(field)s”.", field=labels[name])
            )
    for name in ("total_budget", "daily_budget"):
        try:
            data[name] = parse_money(values[name])
        except ValueError:
            errors.add(name, page.gettext("Enter an amount for “%(field)s”.", field=labels[name]))
    if data.get("starts_at") is None and "starts_at" not in errors.fields():
        errors.add("starts_at", page.gettext("A campaign needs a start."))
    return data


def _form(
    page: Page,
    console: Console,
    *,
    campaign: Campaign | None,
    values: dict[str, str],
    errors: FormErrors,
    status: int = 200,
) -> Response:
    return page.render(
        "ui/console/campaign_form.html",
        console_context(
            page,
            console,
            campaign=campaign,
            values=values,
            errors=errors,
            labels=_labels(page),
            pricing_labels=PRICING_LABELS,
            priorities=console.priorities(),
        ),
        status=status,
    )


@router.get("/console/campaigns/new")
def new_campaign(page: PageDep, advertiser_id: str = "") -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        values = _values(None, page.timezone)
        chosen = parse_id(advertiser_id)
        if chosen is not None:
            values["advertiser_id"] = str(svc.ads.advertiser(console.scope, chosen).id)
        elif console.advertisers:
            values["advertiser_id"] = str(console.advertisers[0].id)
        values["starts_at"] = local_input(page.runtime.ads.clock(), page.timezone)
        return _form(page, console, campaign=None, values=values, errors=FormErrors())


@router.post("/console/campaigns/new")
def create_campaign(page: PageDep, form: FormDep) -> Response:
    errors = FormErrors()
    with page.unit_of_work(write=True) as svc:
        console = open_console(page, svc)
        values = {name: form_text(form, name, 300) for name in FIELDS}
        data = _read(page, form, errors)
        advertiser_id = (
            parse_id(values["advertiser_id"]) if values["advertiser_id"].isdigit() else None
        )
        if advertiser_id is None:
            errors.add("advertiser_id", page.gettext("Choose an advertiser."))
        if not errors:
            try:
                created = svc.ads.create_campaign(
                    console.scope,
                    CampaignIn.model_validate(
                        {
                            "advertiser_id": advertiser_id,
                            **{k: v for k, v in data.items() if v is not None},
                        }
                    ),
                )
                campaign_id = created.id
            except ValidationError as exc:
                add_validation_errors(errors, exc, _labels(page), describer(page))
            except InvalidAdData as exc:
                add_area_errors(errors, exc, _labels(page), describer(page))
        if errors:
            svc.session.rollback()
            return _form(page, console, campaign=None, values=values, errors=errors, status=422)
    page.runtime.ads.invalidate()
    return page.redirect(f"/console/campaigns/{campaign_id}")


@router.get("/console/campaigns/{campaign_id}")
def campaign_page(campaign_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        campaign = svc.ads.campaign(console.scope, campaign_id)
        advertiser = svc.ads.advertiser(console.scope, campaign.advertiser_id)
        line_items = svc.ads.list_line_items(console.scope, campaign.id)
        creatives = {li.id: svc.ads.list_creatives(console.scope, li.id) for li in line_items}
        spent, spent_today = spend_by_campaign(page, svc, console, [campaign])
        pacing = pacing_of(
            campaign,
            spent.get(campaign.id, 0.0),
            spent_today.get(campaign.id, 0.0),
            page.runtime.ads.clock(),
        )
        last = today(page)
        first = last - timedelta(days=DELIVERY_DAYS - 1)
        report = svc.ads.report(
            console.scope,
            since=first,
            until=last,
            group_by=[ReportDimension.DAY],
            campaign_id=campaign.id,
            reach=page.runtime.ads.reach,
            frequency_sample=page.runtime.ads.frequency_sample,
        )
        by_day = {row.dimensions["day"]: row.impressions for row in report.rows}
        days = [first + timedelta(days=n) for n in range(DELIVERY_DAYS)]
        return page.render(
            "ui/console/campaign.html",
            console_context(
                page,
                console,
                campaign=campaign,
                advertiser=advertiser,
                line_items=line_items,
                creatives=creatives,
                summaries={li.id: targeting_summary(page, li.targeting) for li in line_items},
                pacing=pacing,
                pacing_states=PACING_STATES,
                pricing_labels=PRICING_LABELS,
                delivery=[(d, float(by_day.get(d.isoformat(), 0))) for d in days],
                report_total=report.total,
            ),
        )


@router.get("/console/campaigns/{campaign_id}/edit")
def edit_campaign(campaign_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console = open_console(page, svc)
        campaign = svc.ads.campaign(console.scope, campaign_id)
        return _form(
            page,
            console,
            campaign=campaign,
            values=_values(campaign, page.timezone),
            errors=FormErrors(),
        )


@router.post("/console/campaigns/{campaign_id}/edit")
def update_campaign(campaign_id: int, page: PageDep, form: FormDep) -> Response:
    errors = FormErrors()
    with page.unit_of_work(write=True) as svc:
        console = open_console(page, svc)
        campaign = svc.ads.campaign(console.scope, campaign_id)
        values = {name: form_text(form, name, 300) for name in FIELDS}
        values["advertiser_id"] = str(campaign.advertiser_id)
        data = _read(page, form, errors)
        if not errors:
            try:
                changes = {
                    k: v
                    for k, v in data.items()
                    if v is not None or k in {"ends_at", "daily_budget", "total_budget"}
                }
                svc.ads.update_campaign(
                    console.scope, campaign.id, CampaignUpdate.model_validate(changes)
                )
            except ValidationError as exc:
                add_validation_errors(errors, exc, _labels(page), describer(page))
            except InvalidAdData as exc:
                add_area_errors(errors, exc, _labels(page), describer(page))
        if errors:
            svc.session.rollback()
            return _form(page, console, campaign=campaign, values=values, errors=errors, status=422)
    page.runtime.ads.invalidate()
    return page.redirect(f"/console/campaigns/{campaign_id}")


@router.post("/console/campaigns/{campaign_id}/status")
def campaign_status(campaign_id: int, page: PageDep, form: FormDep) -> Response:
    """Pause, resume or archive (archived campaigns stop serving and leave the lists; their
    reports stay)."""
    action = form_text(form, "action", 20)
    with page.unit_of_work(write=True) as svc:
        console = open_console(page, svc)
        if action == "archive":
            svc.ads.archive_campaign(console.scope, campaign_id)
            target = "/console"
        elif action in {"pause", "resume"}:
            status = Status.PAUSED if action == "pause" else Status.ACTIVE
            svc.ads.update_campaign(console.scope, campaign_id, CampaignUpdate(status=status))
            target = f"/console/campaigns/{campaign_id}"
        else:
            raise PageError(400, page.gettext("Check what you entered and try again."))
    page.runtime.ads.invalidate()
    return page.redirect(target)
