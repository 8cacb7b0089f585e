from __future__ import annotations

import typer
import uvicorn

from tastegraph.cli.context import err, load_settings, runtime
from tastegraph.web.app import create_app


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
) -> None:
    """Serve the web app and the APIs."""
    settings = load_settings()
    with runtime(settings) as rt:
        app = create_app(settings, runtime=rt)
        err.print(f"tastegraph serving on http://{host}:{port}/ (API docs at /docs)")
        uvicorn.run(app, host=host, port=port, log_level="info")
