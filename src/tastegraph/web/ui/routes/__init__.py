"""One module per page family, each with its own ``router = page_router()``. Add a new
family's router to ``ROUTERS`` (the order matters only where paths overlap)."""

from __future__ import annotations

from fastapi import APIRouter

from tastegraph.web.ui.routes import (
    admin,
    auth,
    charts,
    community,
    console,
    console_campaigns,
    console_line_items,
    console_reports,
    console_segments,
    events,
    groups,
    home,
    insights,
    items,
    notifications,
    profile,
    recommendations,
    review,
    search,
    settings,
    stations,
)

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    auth.router,
    profile.router,
    settings.router,
    items.router,
    charts.router,
    search.router,
    recommendations.router,
    stations.router,
    review.router,
    console.router,
    console_campaigns.router,
    console_line_items.router,
    console_segments.router,
    console_reports.router,
    admin.router,
    insights.router,
    groups.router,
    events.router,
    community.router,
    notifications.router,
)
