"""Delivery reports: impressions, unique reach, frequency, clicks, CTR, spend and eCPM.

* Impressions, clicks and spend are exact sums of ``ad_delivery``.
* Reach is a HyperLogLog estimate (0.81 % standard error): the union of the day sketches of
  the cells in each group (ads/reach.py), so it is right over any date range and grouping.
* The frequency distribution needs each viewer's count, so it comes from the per-viewer
  delivery rows of the *frequency sample*: every viewer by default (exact), or one viewer in
  N by hash (``ads_frequency_sample``) at a scale where a row per viewer is too much. The
  same viewers are sampled in every cell and on every day, so a sampled viewer's count over
  any group is exact; the sample's histogram is scaled by N.

Advertisers see only these aggregates: rows are grouped by the dimensions asked for, never by
viewer.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tastegraph.ads.models import AdDelivery, Advertiser, Campaign, Creative, LineItem, Placement
from tastegraph.ads.reach import ReachStore, SqlReach
from tastegraph.ads.schemas import (
    FREQUENCY_BUCKETS,
    ReportDimension,
    ReportOut,
    ReportRow,
    money,
)
from tastegraph.ads.sketch import STANDARD_ERROR
from tastegraph.audiences.models import Segment

COLUMN_NAMES: dict[ReportDimension, str] = {
    ReportDimension.DAY: "day",
    ReportDimension.ADVERTISER: "advertiser_id",
    ReportDimension.CAMPAIGN: "campaign_id",
    ReportDimension.LINE_ITEM: "line_item_id",
    ReportDimension.CREATIVE: "creative_id",
    ReportDimension.PLACEMENT: "placement_id",
    ReportDimension.SEGMENT: "segment_id",
    ReportDimension.COUNTRY: "country",
    ReportDimension.TARGETING: "mode",
}

COLUMNS: dict[ReportDimension, ColumnElement[Any]] = {
    ReportDimension.DAY: AdDelivery.__table__.c.day,
    ReportDimension.ADVERTISER: AdDelivery.__table__.c.advertiser_id,
    ReportDimension.CAMPAIGN: AdDelivery.__table__.c.campaign_id,
    ReportDimension.LINE_ITEM: AdDelivery.__table__.c.line_item_id,
    ReportDimension.CREATIVE: AdDelivery.__table__.c.creative_id,
    ReportDimension.PLACEMENT: AdDelivery.__table__.c.placement_id,
    ReportDimension.SEGMENT: AdDelivery.__table__.c.segment_id,
    ReportDimension.COUNTRY: AdDelivery.__table__.c.country,
    ReportDimension.TARGETING: AdDelivery.__table__.c.mode,
}

NAMED: dict[ReportDimension, Any] = {
    ReportDimension.ADVERTISER: Advertiser,
    ReportDimension.CAMPAIGN: Campaign,
    ReportDimension.LINE_ITEM: LineItem,
    ReportDimension.CREATIVE: Creative,
    ReportDimension.PLACEMENT: Placement,
    ReportDimension.SEGMENT: Segment,
}


@dataclass
class _Acc:
    impressions: int = 0
    clicks: int = 0
    spend: int = 0
    viewers: dict[str, int] = field(default_factory=dict)

    def add(self, viewer: str, impressions: int, clicks: int, spend: int) -> None:
        self.impressions += impressions
        self.clicks += clicks
        self.spend += spend
        if impressions and viewer:  # '' holds the viewers outside the frequency sample
            self.viewers[viewer] = self.viewers.get(viewer, 0) + impressions

    def row(self, dimensions: dict[str, Any], reach: int, sample: int) -> ReportRow:
        histogram = dict.fromkeys(FREQUENCY_BUCKETS, 0)
        for count in self.viewers.values():
            histogram[FREQUENCY_BUCKETS[min(count, 10) - 1]] += sample
        return ReportRow(
            dimensions=dimensions,
            impressions=self.impressions,
            reach=reach,
            average_frequency=round(self.impressions / reach, 4) if reach else 0.0,
            frequency=histogram,
            clicks=self.clicks,
            ctr=round(self.clicks / self.impressions, 6) if self.impressions else 0.0,
            spend=money(self.spend) or 0.0,
            ecpm=round(self.spend / self.impressions * 1000 / 1_000_000, 6)
            if self.impressions
            else 0.0,
        )


def build_report(
    session: Session,
    *,
    advertiser_ids: frozenset[int] | None,
    since: date,
    until: date,
    group_by: Sequence[ReportDimension],
    currency: str,
    campaign_id: int | None = None,
    line_item_id: int | None = None,
    creative_id: int | None = None,
    reach: ReachStore | None = None,
    frequency_sample: int = 1,
) -> ReportOut:
    """Delivery from ``since`` to ``until`` (both included), grouped by ``group_by``.

    ``advertiser_ids`` limits it to those advertisers (None: every advertiser, for operators).
    ``reach`` is where the sketches are (the database's ``ad_reach`` unless told otherwise);
    ``frequency_sample`` the N of the frequency sample the delivery rows were written with.
    """
    t = AdDelivery.__table__.c
    dims = list(dict.fromkeys(group_by))
    columns = [COLUMNS[d] for d in dims]

    def where(c: Any) -> list[ColumnElement[bool]]:
        conditions = [c.day >= since, c.day <= until]
        if advertiser_ids is not None:
            conditions.append(c.advertiser_id.in_(sorted(advertiser_ids) or [-1]))
        if campaign_id is not None:
            conditions.append(c.campaign_id == campaign_id)
        if line_item_id is not None:
            conditions.append(c.line_item_id == line_item_id)
        if creative_id is not None:
            conditions.append(c.creative_id == creative_id)
        return conditions

    query = (
        select(
            *columns,
            t.viewer,
            func.sum(t.impressions),
            func.sum(t.clicks),
            func.sum(t.spend_micros),
        )
        .where(*where(t))
        .group_by(*columns, t.viewer)
    )

    groups: dict[tuple[Any, ...], _Acc] = defaultdict(_Acc)
    total = _Acc()
    for row in session.execute(query):
        key = tuple(row[: len(dims)])
        viewer, impressions, clicks, spend = row[len(dims) :]
        groups[key].add(viewer, int(impressions or 0), int(clicks or 0), int(spend or 0))
        total.add(viewer, int(impressions or 0), int(clicks or 0), int(spend or 0))

    store = reach if reach is not None else SqlReach()
    reaches, total_reach = store.estimate(session, [COLUMN_NAMES[d] for d in dims], where)
    names = _names(session, dims, groups.keys())
    rows = [
        groups[key].row(_dimensions(dims, key, names), reaches.get(key, 0), frequency_sample)
        for key in sorted(groups, key=lambda k: tuple(_sortable(v) for v in k))
    ]
    return ReportOut(
        since=since,
        until=until,
        currency=currency,
        group_by=dims,
        rows=rows,
        total=total.row({}, total_reach, frequency_sample),
        reach_standard_error=round(STANDARD_ERROR, 4),
        frequency_sample=frequency_sample,
    )


def _sortable(value: Any) -> tuple[int, Any]:
    """Known values in order, then the unknown ones (no country, no segment)."""
    return (1, 0) if value is None or value in ("", 0) else (0, value)


def _names(
    session: Session, dims: list[ReportDimension], keys: Any
) -> dict[ReportDimension, dict[int, str]]:
    keys = list(keys)
    out: dict[ReportDimension, dict[int, str]] = {}
    for position, dim in enumerate(dims):
        model = NAMED.get(dim)
        if model is None:
            continue
        ids = sorted({key[position] for key in keys if key[position]})
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            label = model.key if dim is ReportDimension.PLACEMENT else model.name
            for object_id, name in session.execute(
                select(model.id, label).where(model.id.in_(chunk))
            ):
                found[object_id] = name
        out[dim] = found
    return out


def _dimensions(
    dims: list[ReportDimension], key: tuple[Any, ...], names: dict[ReportDimension, dict[int, str]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dim, value in zip(dims, key, strict=True):
        if dim is ReportDimension.DAY:
            out["day"] = value.isoformat() if isinstance(value, date) else str(value)
        elif dim is ReportDimension.COUNTRY:
            out["country"] = value or None
        elif dim is ReportDimension.TARGETING:
            out["targeting"] = value
        elif dim is ReportDimension.SEGMENT and not value:
            out["segment"] = None
            out["segment_name"] = None
        else:
            out[dim.value] = value
            out[f"{dim.value}_name"] = names.get(dim, {}).get(value)
    return out


def report_csv(report: ReportOut) -> str:
    """The report as CSV: one line per row, then a ``total`` line."""
    dimension_columns: list[str] = []
    for row in report.rows:
        for name in row.dimensions:
            if name not in dimension_columns:
                dimension_columns.append(name)
    metrics = ["impressions", "reach", "average_frequency", "clicks", "ctr", "spend", "ecpm"]
    buckets = [f"frequency_{b.replace('+', '_plus')}" for b in FREQUENCY_BUCKETS]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*dimension_columns, *metrics, *buckets])

    def line(row: ReportRow, label: str | None) -> list[Any]:
        cells: list[Any] = [row.dimensions.get(name, "") for name in dimension_columns]
        if label is not None and cells:
            cells[0] = label
        cells = ["" if cell is None else cell for cell in cells]
        cells += [
            row.impressions,
            row.reach,
            row.average_frequency,
            row.clicks,
            row.ctr,
            f"{row.spend:.6f}",
            f"{row.ecpm:.6f}",
        ]
        cells += [row.frequency[b] for b in FREQUENCY_BUCKETS]
        return cells

    for row in report.rows:
        writer.writerow(line(row, None))
    if dimension_columns:
        writer.writerow(line(report.total, "total"))
    return out.getvalue()
