"""Running the app under uvicorn, the way `tastegraph serve` and `tastegraph demo` do."""

from __future__ import annotations

import gc

from fastapi import FastAPI


def run(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> None:
    import uvicorn

    # Everything built so far (the app, imported modules, caches) lives as long as the server.
    # Freezing it keeps the garbage collector from walking it on every full collection, which
    # otherwise costs tens of milliseconds in the middle of request handling.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level=log_level)
