"""Helpers shared by the ListenBrainz tests: listens, submissions and reading the play log."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tastegraph.ingest.models import IncognitoPlay, Play
from tastegraph.runtime import Runtime
from tests.conftest import Account

MBID = "9825d6fc-5b05-4c1b-9c7a-0e8c8c9a6a11"
OTHER_MBID = "db92a151-1ac2-438b-bc43-b82e149ddd50"


def now() -> int:
    return int(time.time())


def lb_headers(account: Account, scheme: str = "Token") -> dict[str, str]:
    return {"Authorization": f"{scheme} {account.token}"}


def listen(
    track: str = "Never Gonna Give You Up",
    artist: str = "Rick Astley",
    *,
    at: int | None = None,
    release: str | None = None,
    **info: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"artist_name": artist, "track_name": track}
    if release is not None:
        metadata["release_name"] = release
    if info:
        metadata["additional_info"] = info
    out: dict[str, Any] = {"track_metadata": metadata}
    if at is not None:
        out["listened_at"] = at
    return out


def submit(
    client: TestClient,
    account: Account | None,
    listen_type: str,
    payload: list[Any],
    **params: Any,
) -> httpx.Response:
    """POST as liblistenbrainz does: a JSON text body and no Content-Type."""
    headers = lb_headers(account) if account else {}
    body = json.dumps({"listen_type": listen_type, "payload": payload})
    return client.post("/1/submit-listens", content=body, headers=headers, params=params)


def post_raw(
    client: TestClient, account: Account | None, path: str, body: bytes | str | Any
) -> httpx.Response:
    content = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(path, content=content, headers=lb_headers(account) if account else {})


def play_count(runtime: Runtime, model: type[Play] | type[IncognitoPlay] = Play) -> int:
    with runtime.db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def assert_lb_error(
    response: httpx.Response, status: int, fragment: str = "", *, case: object = ""
) -> dict[str, Any]:
    """ListenBrainz's error shape, with the rate-limit and CORS headers every answer carries.
    ``case`` names the case in a failure message (for tests that loop over a table)."""
    assert response.status_code == status, (case, response.text)
    body: dict[str, Any] = response.json()
    assert body["code"] == status, case
    assert isinstance(body["error"], str), case
    assert fragment.lower() in body["error"].lower(), (case, body["error"])
    assert response.headers["access-control-allow-origin"] == "*"
    assert "x-ratelimit-remaining" in response.headers
    return body
