"""Wire the pages into the app: state, static files, routers with the CSRF check."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from tastegraph.web.ui.import_jobs import ImportJobs
from tastegraph.web.ui.page import check_csrf
from tastegraph.web.ui.rendering import STATIC_DIR, UiState
from tastegraph.web.ui.routes import ROUTERS


def install_ui(app: FastAPI) -> None:
    """Call once from ``create_app``, after the API and protocol routers (the pages' ``/``
    also answers the Audioscrobbler handshake)."""
    app.state.ui = UiState.build()
    app.state.import_jobs = ImportJobs()  # imports started from the settings page
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        # Every unsafe page request (POST ...) must carry the browser's csrf_token.
        app.include_router(router, dependencies=[Depends(check_csrf)])
