"""Console: audience segments. The list with sizes and IAB ids, the builder (rows of
conditions or raw JSON) with a live size estimate, a segment's page with its breakdowns, and
lookalike expansion.

Sizes below the k-anonymity floor show as "< 100" — the audiences area never gives more — and
such a segment is not targetable. The live estimate is a page route (``POST
/console/segments/estimate``, answering JSON) because a web session does not open the JSON
API; it calls the same ``AudienceService.estimate`` as ``POST /api/v1/audiences/estimate``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError

from tastegraph.accounts.models import User
from tastegraph.audiences import taxonomy
from tastegraph.audiences.errors import InvalidLookalike, InvalidRule
from tastegraph.audiences.models import Segment, SegmentKind
from tastegraph.audiences.services import SizeEstimate
from tastegraph.catalog.kinds import Kind
from tastegraph.runtime import Services
from tastegraph.text import ShortText
from tastegraph.web.ui.console_forms import FormErrors
from tastegraph.web.ui.navigation import N_
from tastegraph.web.ui.page import Page, PageDep, page_router
from tastegraph.web.ui.routes.console import (
    Console,
    FormDep,
    console_context,
    form_lists,
    form_text,
    open_console,
)
from tastegraph.web.ui.segment_builder import (
    CONDITION_TYPES,
    Condition,
    conditions_from_form,
    conditions_from_rule,
    row_of_path,
    rule_from_conditions,
)

router = page_router()

TYPE_LABELS: dict[str, str] = {
    "kind": N_("Plays of a kind of content"),
    "item": N_("Plays of items"),
    "creator": N_("Plays of creators (artists, shows, teams, outlets)"),
    "tag": N_("Plays of tagged content"),
    "country": N_("Country"),
    "language": N_("Language"),
    "timezone": N_("Time zone"),
    "group": N_("Member of a group"),
    "age": N_("Age"),
}
TYPE_HINTS: dict[str, str] = {
    "kind": N_("Kinds, separated by commas: match, episode, track, film …"),
    "item": N_("Item ids, separated by commas (find them below)."),
    "creator": N_(
        "Item ids of artists, shows, teams, competitions or outlets, separated by commas."
    ),
    "tag": N_("Tags, separated by commas: rock, football, drama …"),
    "country": N_("Country codes, separated by commas: DE, FR, BR …"),
    "language": N_("Language codes, separated by commas: de, fr, pt …"),
    "timezone": N_("Time zones, separated by commas: Europe/Berlin, America/Sao_Paulo …"),
    "group": N_("Ids of public groups, separated by commas."),
    "age": N_("Give the age range below (18 or older)."),
}
KIND_OF_SEGMENT: dict[SegmentKind, str] = {
    SegmentKind.RULE: N_("Rule"),
    SegmentKind.LOOKALIKE: N_("Lookalike"),
    SegmentKind.CLUSTER: N_("Interest cluster"),
}
MAX_ROWS = 50
_NAME: TypeAdapter[str] = TypeAdapter(ShortText)
LOOKUP_RESULTS = 12


@dataclass
class Builder:
    """The builder's state, as the form sent it (or as a stored segment fills it)."""

    name: str = ""
    description: str = ""
    active: bool = True
    editor: str = "builder"
    source: str = "builder"
    """The editor the rule was last written in (``editor_was``): when the user switches
    editors, the rule is carried over from this one."""
    combine: str = "and"
    conditions: list[Condition] = field(default_factory=lambda: [Condition()])
    rule_json: str = ""
    lookup: str = ""

    def rule(self) -> tuple[Any, str | None]:
        """(the rule document, a JSON syntax problem) of whichever editor is in use."""
        if self.editor == "json":
            try:
                return orjson.loads(self.rule_json or "null"), None
            except orjson.JSONDecodeError as exc:
                return None, str(exc)
        return rule_from_conditions(self.combine, self.conditions), None


@dataclass
class Estimate:
    size: int | str | None = None
    targetable: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    """Each with ``path``, ``message`` (the area's, English) and the form ``row``."""
    note: str = ""
    """A message in the page's language (no rule yet, not valid JSON)."""
    summary: str = ""
    """What the size means, in the page's language."""


def _builder_from_form(form: Any) -> Builder:
    lists = form_lists(form)
    conditions = conditions_from_form(lists)[:MAX_ROWS] or [Condition()]
    editor = "json" if form_text(form, "editor", 10) == "json" else "builder"
    previous = form_text(form, "editor_was", 10)
    return Builder(
        name=form_text(form, "name", 200),
        description=form_text(form, "description", 2000),
        active=form_text(form, "active", 10) == "on",
        editor=editor,
        source=previous if previous in {"json", "builder"} else editor,
        combine="or" if form_text(form, "combine", 5) == "or" else "and",
        conditions=conditions,
        rule_json=form_text(form, "rule_json", 100_000),
        lookup=form_text(form, "lookup", 200),
    )


def _builder_from_segment(segment: Segment) -> Builder:
    rule = segment.rule
    builder = Builder(
        name=segment.name,
        description=segment.description or "",
        active=segment.active,
        rule_json=json.dumps(rule, indent=2, ensure_ascii=False) if rule else "",
    )
    shown = conditions_from_rule(rule)
    if shown is None:
        builder.editor = "json"
    else:
        builder.combine, builder.conditions = shown
    return builder


def _sync(builder: Builder, page: Page) -> str:
    """Keep the two editors in step, from the one the rule was last written in: rows are
    shown as JSON; JSON the rows can show fills the rows. JSON beyond the rows keeps the JSON
    editor, with a note saying why."""
    if builder.source == "builder":
        document = rule_from_conditions(builder.combine, builder.conditions)
        builder.rule_json = json.dumps(document, indent=2, ensure_ascii=False) if document else ""
        return ""
    try:
        document = orjson.loads(builder.rule_json or "null")
    except orjson.JSONDecodeError:
        builder.editor = "json"
        return ""
    if document is None:
        return ""
    shown = conditions_from_rule(document)
    if shown is not None:
        builder.combine, builder.conditions = shown
        return ""
    builder.editor = "json"
    return page.gettext("This rule nests deeper than the form shows; keep editing it as JSON.")


def _estimate(page: Page, svc: Services, builder: Builder) -> Estimate:
    document, problem = builder.rule()
    if problem is not None:
        return Estimate(
            note=page.gettext("This is not valid JSON."),
            errors=[{"path": "$.rule", "message": problem, "row": None}],
        )
    if document is None:
        return Estimate(note=page.gettext("Add a condition to see how many people it reaches."))
    try:
        size: SizeEstimate = svc.audiences.estimate(document, at="$.rule")
    except InvalidRule as exc:
        errors = [
            {
                "path": e.get("path", ""),
                "message": e.get("message", ""),
                "row": row_of_path(e.get("path", ""), builder.conditions)
                if builder.editor == "builder"
                else None,
            }
            for e in exc.extra.get("errors") or [{"path": "$.rule", "message": exc.detail}]
        ]
        return Estimate(errors=errors, note=page.gettext("The rule has problems:"))
    if size.targetable:
        summary = page.gettext(
            "About %(size)s people — targetable.", size=page.format_number(size.count)
        )
    else:
        summary = page.gettext(
            "Fewer than %(floor)s people — below the privacy floor, so it cannot be targeted.",
            floor=page.format_number(size.floor),
        )
    return Estimate(size=size.display, targetable=size.targetable, summary=summary)


def _lookup(svc: Services, text: str) -> list[Any]:
    """Catalogue items matching a title, to find the ids item and creator conditions take."""
    if not text:
        return []
    items = svc.catalog.search(text, limit=LOOKUP_RESULTS)
    briefs = svc.catalog.briefs(items)
    return [briefs[item.id] for item in items if item.id in briefs]


def _builder_page(
    page: Page,
    svc: Services,
    console: Console,
    builder: Builder,
    *,
    segment: Segment | None = None,
    estimate: Estimate | None = None,
    errors: FormErrors | None = None,
    note: str = "",
    status: int = 200,
) -> Response:
    return page.render(
        "ui/console/segment_builder.html",
        console_context(
            page,
            console,
            builder=builder,
            segment=segment,
            estimate=estimate,
            errors=errors or FormErrors(),
            note=note,
            floor=svc.audiences.k_floor,
            type_labels=TYPE_LABELS,
            type_hints=TYPE_HINTS,
            condition_types=CONDITION_TYPES,
            blank_condition=Condition(),
            kinds=[k.value for k in Kind],
            lookup_results=_lookup(svc, builder.lookup),
        ),
        status=status,
    )


def _manager(page: Page, svc: Services) -> tuple[Console, User]:
    console = open_console(page, svc)
    svc.audiences.require_manager(console.user)
    return console, console.user


def _row(svc: Services, segment: Segment) -> dict[str, Any]:
    size = svc.audiences.size(segment)
    return {
        "segment": segment,
        "size": size.display,
        "targetable": size.targetable and segment.active,
        "iab": [
            (i, taxonomy.name_of(i))
            for i in segment.iab_ids or []
            if i in taxonomy.AUDIENCE_TAXONOMY
        ],
    }


@router.get("/console/segments")
def segments(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console, user = _manager(page, svc)
        rows = [_row(svc, s) for s in svc.audiences.visible_segments(user)]
        return page.render(
            "ui/console/segments.html",
            console_context(
                page, console, rows=rows, floor=svc.audiences.k_floor, kind_labels=KIND_OF_SEGMENT
            ),
        )


@router.get("/console/segments/new")
def new_segment(page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console, _user = _manager(page, svc)
        return _builder_page(page, svc, console, Builder())


def _act(
    page: Page, svc: Services, console: Console, user: User, form: Any, segment: Segment | None
) -> Response | int:
    """The builder's buttons: add a row, look an item up, estimate, or save (returns the
    saved segment's id, or the page again with what is wrong)."""
    builder = _builder_from_form(form)
    action = form_text(form, "action", 20)
    note = _sync(builder, page)
    estimate: Estimate | None = None
    errors = FormErrors()
    if action == "add" and len(builder.conditions) < MAX_ROWS:
        builder.conditions.append(Condition())
    elif action == "save":
        saved = _save(page, svc, user, builder, segment, errors)
        if saved is not None:
            return saved
        svc.session.rollback()
        estimate = _estimate(page, svc, builder)
    elif action not in {"add", "lookup"}:
        estimate = _estimate(page, svc, builder)
    failed = bool(errors) or (estimate is not None and bool(estimate.errors))
    return _builder_page(
        page,
        svc,
        console,
        builder,
        segment=segment,
        estimate=estimate,
        errors=errors,
        note=note,
        status=422 if failed else 200,
    )


def _save(
    page: Page,
    svc: Services,
    user: User,
    builder: Builder,
    segment: Segment | None,
    errors: FormErrors,
) -> int | None:
    """Create or change the segment; None (and ``errors`` or a failing rule) if it cannot."""
    name = builder.name
    try:
        name = _NAME.validate_python(builder.name)
    except ValidationError:
        errors.add("name", page.gettext("Give the segment a name of at most 128 characters."))
    document, problem = builder.rule()
    if errors or problem is not None or document is None:
        return None
    try:
        if segment is None:
            return svc.audiences.create_segment(
                user, name=name, rule=document, description=builder.description or None
            ).id
        return svc.audiences.update_segment(
            svc.audiences.writable_segment(user, segment.id),
            name=name,
            description=builder.description,
            rule=document,
            active=builder.active,
        ).id
    except InvalidRule:
        return None


@router.post("/console/segments/new")
def create_segment(page: PageDep, form: FormDep) -> Response:
    with page.unit_of_work(write=True) as svc:
        console, user = _manager(page, svc)
        outcome = _act(page, svc, console, user, form, None)
    if isinstance(outcome, Response):
        return outcome
    return page.redirect(f"/console/segments/{outcome}")


@router.post("/console/segments/estimate")
def estimate(page: PageDep, form: FormDep) -> Response:
    """The builder's live estimate, for its script: always 200, the rule's problems are part
    of the answer. Texts come in the page's language; the area's messages are English."""
    with page.unit_of_work() as svc:
        _manager(page, svc)
        builder = _builder_from_form(form)
        note = _sync(builder, page)
        found = _estimate(page, svc, builder)
        floor = svc.audiences.k_floor
    body = {
        "size": found.size,
        "size_text": (
            page.format_number(found.size) if isinstance(found.size, int) else (found.size or "")
        ),
        "targetable": found.targetable,
        "floor": floor,
        "summary": found.summary or found.note,
        "errors": [
            {
                **error,
                "label": page.gettext("Condition %(num)s", num=error["row"])
                if error["row"]
                else error["path"],
            }
            for error in found.errors
        ],
        "rule_json": builder.rule_json,
        "note": note,
    }
    return page.finish(JSONResponse(body))


@router.get("/console/segments/{segment_id}")
def segment_page(segment_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console, user = _manager(page, svc)
        segment = svc.audiences.readable_segment(user, segment_id)
        return _segment_page(page, svc, console, user, segment)


def _segment_page(
    page: Page,
    svc: Services,
    console: Console,
    user: User,
    segment: Segment,
    *,
    lookalike: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    breakdown = svc.audiences.breakdown(segment)
    writable = user.is_admin or segment.owner_id == user.id
    return page.render(
        "ui/console/segment.html",
        console_context(
            page,
            console,
            **_row(svc, segment),
            floor=svc.audiences.k_floor,
            kind_labels=KIND_OF_SEGMENT,
            by_country=breakdown.by_country,
            by_age_band=breakdown.by_age_band,
            rule_json=json.dumps(segment.rule, indent=2, ensure_ascii=False)
            if segment.rule
            else "",
            writable=writable and segment.kind is SegmentKind.RULE,
            lookalike=lookalike or {"target_size": "", "name": "", "include_seed": "on"},
            errors=errors or FormErrors(),
            seed=svc.audiences.readable_segment(user, segment.seed_segment_id)
            if segment.seed_segment_id
            else None,
        ),
        status=status,
    )


@router.get("/console/segments/{segment_id}/edit")
def edit_segment(segment_id: int, page: PageDep) -> Response:
    with page.unit_of_work() as svc:
        console, user = _manager(page, svc)
        segment = svc.audiences.writable_segment(user, segment_id)
        builder = _builder_from_segment(segment)
        return _builder_page(page, svc, console, builder, segment=segment)


@router.post("/console/segments/{segment_id}/edit")
def update_segment(segment_id: int, page: PageDep, form: FormDep) -> Response:
    with page.unit_of_work(write=True) as svc:
        console, user = _manager(page, svc)
        segment = svc.audiences.writable_segment(user, segment_id)
        outcome = _act(page, svc, console, user, form, segment)
    if isinstance(outcome, Response):
        return outcome
    return page.redirect(f"/console/segments/{outcome}")


@router.post("/console/segments/{segment_id}/lookalike")
def lookalike(segment_id: int, page: PageDep, form: FormDep) -> Response:
    """A new segment: the seed's members plus the consenting users most like them."""
    values = {
        "target_size": form_text(form, "target_size", 12),
        "name": form_text(form, "name", 200),
        "include_seed": form_text(form, "include_seed", 10),
    }
    errors = FormErrors()
    with page.unit_of_work(write=True) as svc:
        console, user = _manager(page, svc)
        seed = svc.audiences.readable_segment(user, segment_id)
        size = values["target_size"]
        if not size.isdigit() or not 1 <= int(size) <= 10_000_000:
            errors.add("target_size", page.gettext("Enter a target size between 1 and 10,000,000."))
        else:
            try:
                made = svc.audiences.lookalike(
                    seed,
                    target_size=int(size),
                    owner=user,
                    name=values["name"] or None,
                    include_seed=values["include_seed"] == "on",
                )
                return page.redirect(f"/console/segments/{made.id}")
            except InvalidLookalike as exc:
                svc.session.rollback()
                errors.add(
                    "target_size", page.gettext("This lookalike cannot be made."), exc.detail
                )
        return _segment_page(
            page, svc, console, user, seed, lookalike=values, errors=errors, status=422
        )
