"""CSV files of the insights, for spreadsheets and plotting tools.

A title's insights are one long ("tidy") table: ``section,key,label,metric,value``, a row per
number (``weeks`` rows are keyed by the week's start, ``countries`` by country code...), so any
plot is a filter and a pivot. The overlap is one row per ordered pair; the local-content report
one row per country and kind.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from tastegraph.insights.schemas import (
    LocalContentOut,
    LocalMeasureOut,
    OverlapOut,
    TitleInsightsOut,
)


def _text(rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def title_csv(data: TitleInsightsOut) -> str:
    rows: list[tuple[Any, ...]] = [("section", "key", "label", "metric", "value")]
    title = data.title

    def put(section: str, key: Any, label: Any, values: dict[str, Any]) -> None:
        rows.extend((section, key, label, metric, value) for metric, value in values.items())

    put(
        "title",
        title.id,
        title.title,
        {"kind": title.kind.value, "covered_items": data.covered_items},
    )
    put(
        "window",
        "",
        "",
        {
            "since": data.window.since.isoformat(),
            "until": data.window.until.isoformat(),
            "timezone": data.window.timezone,
        },
    )
    audience = data.audience
    completion = audience.completion
    put(
        "audience",
        "",
        "",
        {
            "viewers": audience.viewers,
            "plays": audience.plays,
            "plays_per_viewer": audience.plays_per_viewer,
            "completion_rate": completion.rate,
            "completed": completion.completed,
            "playbacks": completion.playbacks,
            "unfinished_playbacks": completion.unfinished_playbacks,
            "plays_without_progress": completion.plays_without_progress,
        },
    )
    for week in data.weeks:
        put(
            "weeks",
            week.start.isoformat(),
            week.end.isoformat(),
            week.model_dump(exclude={"start", "end"}),
        )
    for country in data.countries:
        put("countries", country.country or "", "", country.model_dump(exclude={"country"}))
    for cell in data.segments.cells:
        put(
            "segments",
            cell.segment_id,
            cell.name,
            {
                "members": cell.members,
                "viewers": cell.viewers_display,
                "share_of_viewers": cell.share_of_viewers,
                "reach_in_segment": cell.reach_in_segment,
            },
        )
    for group in data.groups:
        put("groups", group.group_id, group.name, {"viewers": group.viewers})
    revenue = data.revenue
    put(
        "revenue",
        "",
        revenue.currency,
        revenue.model_dump(
            include={
                "impressions",
                "clicks",
                "revenue",
                "ecpm",
                "revenue_per_viewer",
                "impressions_per_viewer",
                "network_ecpm",
                "at_network_prices",
                "targeting_premium",
            }
        ),
    )
    for part in [*revenue.by_targeting, revenue.targeted]:
        put("revenue_by_targeting", part.targeting, "", part.model_dump(exclude={"targeting"}))
    for cost in data.costs:
        put("costs", cost.kind.value, cost.currency, {"amount": cost.amount})
    if data.break_even is not None:
        even = data.break_even
        put(
            "break_even",
            "",
            even.currency,
            even.model_dump(exclude={"currency", "excluded_costs", "assumptions"}),
        )
    return _text(rows)


def overlap_csv(data: OverlapOut) -> str:
    titles = {t.title.id: t for t in data.titles}
    rows: list[tuple[Any, ...]] = [
        ("a_id", "a_title", "b_id", "b_title", "a_viewers", "b_viewers", "both", "jaccard",
         "share_of_a"),
    ]  # fmt: skip
    for cell in data.cells:
        a, b = titles[cell.a], titles[cell.b]
        rows.append(
            (a.title.id, a.title.title, b.title.id, b.title.title, a.viewers, b.viewers,
             cell.both, cell.jaccard, cell.share_of_a)
        )  # fmt: skip
    return _text(rows)


def _measure(m: LocalMeasureOut) -> tuple[Any, ...]:
    return (m.total, m.local, m.share, m.passes)


def local_content_csv(data: LocalContentOut) -> str:
    header: list[str] = ["country", "kind", "threshold", "policy_scope"]
    for measure in ("offered", "recommended", "consumed"):
        header += [f"{measure}_{x}" for x in ("total", "local", "share", "passes")]
    rows: list[Sequence[Any]] = [[*header, "passes"]]
    for cell in data.cells:
        rows.append(
            (
                cell.country,
                cell.kind.value,
                cell.threshold,
                cell.policy_scope,
                *_measure(cell.offered),
                *_measure(cell.recommended),
                *_measure(cell.consumed),
                cell.passes,
            )
        )
    return _text(rows)
