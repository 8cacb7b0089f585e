"""What every answer under /1/ shares: ListenBrainz's error shape (routing errors and crashes
included), CORS, validate-token, and rate limits on both limiter backends."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.accounts.secrets import hash_token
from tastegraph.config import Settings
from tastegraph.ratelimit import RateState
from tastegraph.runtime import Runtime
from tastegraph.web.app import create_app
from tests.conftest import Account
from tests.listenbrainz_helpers import assert_lb_error, lb_headers, listen, now, submit

REDIS_URL = os.environ.get("TASTEGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = os.environ.get("TASTEGRAPH_TEST_REQUIRE_REDIS") == "1"
DAY = 86_400


def test_unknown_paths_and_methods(client: TestClient) -> None:
    assert_lb_error(client.get("/1/no-such-thing"), 404, "not found")
    assert_lb_error(client.get("/1/"), 404)
    assert_lb_error(client.post("/1/user/alice/listens"), 405, "not allowed")
    assert_lb_error(client.get("/1/submit-listens"), 405)
    assert_lb_error(client.delete("/1/validate-token"), 405)
    # Outside /1/ the platform's own errors stay as they were.
    native = client.get("/api/v1/no-such-thing")
    assert native.headers["content-type"] == "application/problem+json"


def test_cors_preflight_and_headers(client: TestClient, alice: Account) -> None:
    for path in ("/1/submit-listens", "/1/user/alice/listens", "/1/anything/at/all"):
        response = client.options(
            path,
            headers={
                "Origin": "https://web-scrobbler.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == "*"
        assert "POST" in response.headers["access-control-allow-methods"]
        assert "Authorization" in response.headers["access-control-allow-headers"]
        assert response.headers["access-control-max-age"] == "21600"
    answers = [
        client.get("/1/user/alice/listens"),
        submit(client, None, "single", [listen(at=now())]),
        client.get("/1/stats/user/alice/artists"),  # 204
        client.get("/1/nowhere"),
    ]
    for response in answers:
        assert response.headers["access-control-allow-origin"] == "*", response.url
        exposed = response.headers["access-control-expose-headers"]
        for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset-In"):
            assert name in exposed
            assert response.headers[name].isdigit()


def test_validate_token(client: TestClient, alice: Account) -> None:
    valid = {"code": 200, "message": "Token valid.", "valid": True, "user_name": "alice"}
    invalid = {"code": 200, "message": "Token invalid.", "valid": False}
    for scheme in ("Token", "token", "Bearer"):
        response = client.get("/1/validate-token", headers=lb_headers(alice, scheme))
        assert response.json() == valid
    assert client.get("/1/validate-token", params={"token": alice.token}).json() == valid
    wrong = client.get("/1/validate-token", headers={"Authorization": "Token nope"})
    assert (wrong.status_code, wrong.json()) == (200, invalid)
    assert client.get("/1/validate-token", params={"token": "nope"}).json() == invalid
    body = assert_lb_error(client.get("/1/validate-token"), 400)
    assert body["error"] == "You need to provide an Authorization token."
    # A log-in session works too; a revoked token does not.
    login = client.post("/api/v1/auth/login", json={"name": "alice", "password": "correct horse"})
    session = login.json()["token"]
    assert client.get("/1/validate-token", params={"token": session}).json() == valid
    tokens = client.get("/api/v1/me/tokens", headers=alice.headers).json()
    mine = next(t for t in tokens if alice.token.startswith(t["prefix"]))
    revoked = client.delete(f"/api/v1/me/tokens/{mine['id']}", headers=alice.headers)
    assert revoked.status_code == 204
    assert client.get("/1/validate-token", headers=lb_headers(alice)).json() == invalid


def test_crashes_answer_in_the_listenbrainz_shape(
    client: TestClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tastegraph.protocols.listenbrainz import listens

    def explode(*_args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(listens, "listen_count", explode)
    body = assert_lb_error(client.get("/1/user/alice/listen-count"), 500)
    assert "boom" not in body["error"]  # no internals leak


@contextmanager
def _limited(settings: Settings, **update: Any) -> Iterator[tuple[TestClient, Runtime]]:
    """A fresh app whose settings allow three requests a day per caller."""
    limited = settings.model_copy(
        update={"rate_limit": 3, "rate_limit_window_seconds": DAY, **update}
    )
    runtime = Runtime.create(limited)
    try:
        with TestClient(create_app(limited, runtime=runtime)) as client:
            yield client, runtime
    finally:
        runtime.close()


def _clear_of_window_end() -> None:
    """Fixed windows end at midnight UTC; a test running across one would see its counts
    reset, so it starts after the boundary when it is close."""
    left = DAY - int(time.time()) % DAY
    if left < 30:
        time.sleep(left + 1)


def _exercise_limits(client: TestClient, account: Account) -> None:
    _clear_of_window_end()
    first = client.get("/1/user/alice/listen-count", headers=lb_headers(account))
    assert first.headers["X-RateLimit-Limit"] == "3"
    assert first.headers["X-RateLimit-Remaining"] == "2"
    reset = int(first.headers["X-RateLimit-Reset"])
    assert reset % DAY == 0
    assert 0 < int(first.headers["X-RateLimit-Reset-In"]) <= DAY
    for remaining in ("1", "0"):
        response = client.get("/1/user/alice/listen-count", headers=lb_headers(account))
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Remaining"] == remaining
    over = client.get("/1/user/alice/listen-count", headers=lb_headers(account))
    body = assert_lb_error(over, 429, "exceeded your rate limit")
    assert body["code"] == 429
    assert over.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(over.headers["Retry-After"]) <= DAY
    # Writes are limited too, and nothing is stored past the limit.
    refused = submit(client, account, "single", [listen(at=now() - 5)])
    assert refused.status_code == 429


def test_rate_limit_in_memory(settings: Settings, alice: Account, register: Any) -> None:
    bob = register("bob")
    with _limited(settings) as (client, _runtime):
        _exercise_limits(client, alice)
        # Another token has its own count.
        assert client.get("/1/user/alice/listens", headers=lb_headers(bob)).status_code == 200
        # Anonymous callers are counted by address; a made-up token counts as anonymous,
        # so inventing tokens buys nothing.
        for _ in range(3):
            assert client.get("/1/user/alice/listen-count").status_code == 200
        forged = client.get("/1/user/alice/listen-count", headers={"Authorization": "Token x"})
        assert_lb_error(forged, 429)


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable at {REDIS_URL} ({exc})"
        if REQUIRE_REDIS:
            pytest.fail(message + " and TASTEGRAPH_TEST_REQUIRE_REDIS=1")
        pytest.skip(message)


def test_rate_limit_in_redis(settings: Settings, alice: Account) -> None:
    _redis_or_skip()
    import redis

    from tastegraph.ratelimit import RedisRateLimiter

    with _limited(settings, redis_url=REDIS_URL) as (client, runtime):
        assert isinstance(runtime.rate_limiter, RedisRateLimiter)
        _exercise_limits(client, alice)
        # The count lives in Redis, under the token's hash (never the token itself).
        window_start = (int(time.time()) // DAY) * DAY
        key = f"tastegraph:rate:listenbrainz:token:{hash_token(alice.token)[:32]}:{window_start}"
        store = redis.Redis.from_url(REDIS_URL)
        assert int(store.get(key) or 0) >= 4
        assert not store.keys(f"*{alice.token}*")
        store.delete(key)


class _Broken:
    def hit(self, key: str) -> RateState:
        raise ConnectionError("the counter is down")


def test_a_broken_limiter_lets_requests_through(
    client: TestClient, alice: Account, runtime: Runtime
) -> None:
    runtime.rate_limiter = _Broken()
    response = submit(client, alice, "single", [listen(at=now() - 5)])
    assert response.status_code == 200, response.text
    assert "x-ratelimit-remaining" not in response.headers
    assert response.headers["access-control-allow-origin"] == "*"
