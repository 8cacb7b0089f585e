from __future__ import annotations

from typing import Annotated

import typer

from tastegraph.cli.context import err, load_settings, runtime


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8000,
) -> None:
    """Serve the web app and the APIs. Refuses a database that `db upgrade` has not migrated."""
    from tastegraph.web import server
    from tastegraph.web.app import create_app

    settings = load_settings()
    with runtime(settings) as rt:
        app = create_app(settings, runtime=rt)
        err.print(f"tastegraph serving on http://{host}:{port}/ (API docs at /docs)")
        server.run(app, host=host, port=port, log_level="info")
