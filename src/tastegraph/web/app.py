"""The app factory. Nothing is created at import time: ``create_app(settings)`` builds it all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

import tastegraph
from tastegraph.audiences.refresher import Refresher
from tastegraph.config import Settings
from tastegraph.ingest.partitions import PartitionKeeper
from tastegraph.ingest.schemas import PlayIn
from tastegraph.migrations import ensure_migrated
from tastegraph.protocols.audioscrobbler import api as audioscrobbler
from tastegraph.protocols.lastfm import api as lastfm
from tastegraph.protocols.listenbrainz import api as listenbrainz
from tastegraph.runtime import Runtime
from tastegraph.stats.archiver import Archiver
from tastegraph.stats.folder import Folder
from tastegraph.web import errors
from tastegraph.web.api import (
    accounts,
    catalog,
    feed,
    groups,
    notifications,
    plays,
    progress,
    recs,
    shouts,
    social,
    stats,
)
from tastegraph.web.api import ads as ads_api
from tastegraph.web.api import audiences as audiences_api
from tastegraph.web.api import insights as insights_api
from tastegraph.web.api import rights as rights_api
from tastegraph.web.ui.install import install_ui


class PlayBatchIn(BaseModel):
    """Up to 1,000 plays; each is validated and reported on its own."""

    model_config = ConfigDict(extra="forbid")

    plays: list[PlayIn] = Field(max_length=1000)


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the web app. Refuses a database that is not migrated to this version."""
    runtime = runtime or Runtime.create(settings)
    ensure_migrated(runtime.db.engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        refresher = Refresher(runtime.refresh_audiences, settings.audience_refresh_seconds)
        refresher.start()
        _app.state.audience_refresher = refresher
        folder = Folder(runtime.db, settings.stats_fold_seconds)
        folder.start()
        _app.state.chart_folder = folder
        archiver = Archiver(runtime.db, settings.stats_archive_seconds)
        archiver.start()
        _app.state.chart_archiver = archiver
        keeper = PartitionKeeper(
            runtime.db,
            ahead=settings.partition_ahead_months,
            interval=settings.partition_check_seconds,
        )
        keeper.start()  # PostgreSQL: the play log's coming months, now and daily
        _app.state.partition_keeper = keeper
        runtime.recs.warm_up()  # load the trained recommendations before the first request
        yield
        keeper.stop()
        archiver.stop()
        folder.stop()
        refresher.stop()
        await runtime.ads.aclose()  # the ad counters' asyncio connections live on this loop
        runtime.close()

    app = FastAPI(
        title="tastegraph",
        version=tastegraph.__version__,
        summary="Scrobbling, charts, recommendations and communities for every kind of content.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    errors.install(app)
    ads_api.install(app)  # ad decisions and beacons first: the busiest routes
    app.include_router(accounts.router)
    app.include_router(plays.router)
    app.include_router(catalog.router)
    app.include_router(rights_api.router)
    app.include_router(progress.router)
    app.include_router(stats.router)
    app.include_router(recs.router)
    app.include_router(audiences_api.router)
    app.include_router(ads_api.router)
    app.include_router(insights_api.router)
    app.include_router(social.router)
    app.include_router(groups.router)
    app.include_router(shouts.router)
    app.include_router(feed.router)
    app.include_router(notifications.router)
    app.include_router(lastfm.router)
    app.include_router(listenbrainz.router)
    app.include_router(audioscrobbler.router)
    install_ui(app)  # the pages, /static and / (also the Audioscrobbler handshake)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    # Batch endpoints read their bodies by hand (to report per play); publish their schemas.
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    extra = PlayBatchIn.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in extra.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components["PlayBatchIn"] = extra
    app.openapi_schema = schema
    return schema
