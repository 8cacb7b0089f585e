"""The Last.fm auth flows over raw HTTP: desktop (token + approval page), web callback,
mobile session with a password or an authToken."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tastegraph.protocols.models import LastfmAuthToken
from tastegraph.runtime import Runtime
from tests.conftest import Account
from tests.lastfm_helpers import error_code, lfm, md5, register_key, signed


def _token(client: TestClient, key: str, secret: str) -> str:
    response = client.post(
        "/2.0/", data=signed({"method": "auth.getToken", "api_key": key}, secret)
    )
    assert response.status_code == 200, response.text
    token = lfm(response.text).findtext("token")
    assert token is not None
    assert len(token) == 32
    return token


def _get_session(client: TestClient, key: str, secret: str, token: str, **extra: str) -> Any:
    params = signed({"method": "auth.getSession", "api_key": key, "token": token}, secret)
    return client.get("/2.0/", params={**params, **extra})


def _approve(client: TestClient, **form: str) -> Any:
    return client.post("/api/auth/", data={"decision": "allow", **form}, follow_redirects=False)


@pytest.fixture
def key(runtime: Runtime) -> tuple[str, str]:
    return register_key(runtime, "Strawberry")


def test_desktop_flow(client: TestClient, alice: Account, key: tuple[str, str]) -> None:
    api_key, secret = key
    token = _token(client, api_key, secret)
    early = _get_session(client, api_key, secret, token)
    assert early.status_code == 403
    assert error_code(early.text) == 14
    page = client.get("/api/auth/", params={"api_key": api_key, "token": token})
    assert page.status_code == 200
    assert "Strawberry" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert f'value="{token}"' in page.text
    wrong = _approve(client, api_key=api_key, token=token, name="alice", password="guess")
    assert wrong.status_code == 401
    assert "Wrong user name or password" in wrong.text
    assert error_code(_get_session(client, api_key, secret, token).text) == 14
    ok = _approve(client, api_key=api_key, token=token, name="ALICE", password="correct horse")
    assert ok.status_code == 200
    assert "may now use the account" in ok.text
    session = _get_session(client, api_key, secret, token, format="json")
    assert session.status_code == 200, session.text
    body = session.json()["session"]
    assert body["name"] == "alice"
    assert len(body["key"]) == 32
    assert body["subscriber"] == 0
    # The session key works, and the token is spent.
    info = client.get(
        "/2.0/", params={"method": "user.getInfo", "api_key": api_key, "sk": body["key"]}
    )
    assert lfm(info.text).findtext("user/name") == "alice"
    again = _get_session(client, api_key, secret, token)
    assert again.status_code == 403
    assert error_code(again.text) == 4
    used_page = client.get("/api/auth/", params={"api_key": api_key, "token": token})
    assert used_page.status_code == 400


def test_a_personal_token_approves_too(
    client: TestClient, alice: Account, key: tuple[str, str]
) -> None:
    api_key, secret = key
    token = _token(client, api_key, secret)
    assert (
        _approve(
            client, api_key=api_key, token=token, name="alice", password=alice.token
        ).status_code
        == 200
    )
    assert _get_session(client, api_key, secret, token).status_code == 200


def test_denied_token_stays_unapproved(
    client: TestClient, alice: Account, key: tuple[str, str]
) -> None:
    api_key, secret = key
    token = _token(client, api_key, secret)
    denied = client.post(
        "/api/auth/",
        data={"api_key": api_key, "token": token, "name": "alice", "decision": "deny"},
    )
    assert denied.status_code == 200
    assert "did not allow" in denied.text
    assert error_code(_get_session(client, api_key, secret, token).text) == 14


def test_expired_unknown_and_foreign_tokens(
    client: TestClient, runtime: Runtime, alice: Account, key: tuple[str, str]
) -> None:
    api_key, secret = key
    token = _token(client, api_key, secret)
    assert (
        _approve(
            client, api_key=api_key, token=token, name="alice", password="correct horse"
        ).status_code
        == 200
    )
    other_key, other_secret = register_key(runtime, "another app")
    # A token belongs to the key it was issued to.
    assert error_code(_get_session(client, other_key, other_secret, token).text) == 4
    with runtime.db.unit_of_work(write=True) as session:
        row = session.get(LastfmAuthToken, token)
        assert row is not None
        row.expires_at = row.created_at - timedelta(seconds=1)
    expired = _get_session(client, api_key, secret, token)
    assert expired.status_code == 403
    assert error_code(expired.text) == 15
    assert error_code(_get_session(client, api_key, secret, "a" * 32).text) == 4
    missing = client.get(
        "/2.0/", params=signed({"method": "auth.getSession", "api_key": api_key}, secret)
    )
    assert error_code(missing.text) == 6
    expired_page = client.get("/api/auth/", params={"api_key": api_key, "token": token})
    assert expired_page.status_code == 400


def test_web_callback_flow(client: TestClient, alice: Account, key: tuple[str, str]) -> None:
    api_key, secret = key
    cb = "http://localhost:23456/auth?state=x%20y"
    page = client.get("/api/auth/", params={"api_key": api_key, "cb": cb})
    assert page.status_code == 200
    assert "Strawberry" in page.text
    redirect = _approve(client, api_key=api_key, cb=cb, name="alice", password="correct horse")
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "localhost:23456", "/auth")
    query = parse_qs(location.query)
    assert query["state"] == ["x y"]
    token = query["token"][0]
    # Strawberry then calls auth.getSession as a GET with format=json.
    session = _get_session(client, api_key, secret, token, format="json")
    assert session.json()["session"]["name"] == "alice"


def test_web_callback_refuses_script_urls(client: TestClient, alice: Account) -> None:
    for cb in ("javascript:alert(1)", "data:text/html,hi", "http:///nohost"):
        page = client.get("/api/auth/", params={"api_key": "k", "cb": cb})
        assert page.status_code == 400, cb
        posted = _approve(client, api_key="k", cb=cb, name="alice", password="correct horse")
        assert posted.status_code == 400, cb
    assert client.get("/api/auth/", params={"api_key": "k"}).status_code == 400


def test_mobile_session_variants(client: TestClient, alice: Account) -> None:
    def mobile(**params: str) -> Any:
        return client.post(
            "/2.0/", data={"method": "auth.getMobileSession", "api_key": "k", **params}
        )

    assert mobile(username="alice", password="correct horse").status_code == 200
    assert mobile(username="Alice", password=alice.token).status_code == 200
    # authToken = md5(username + md5(password)), the password being a personal token;
    # the name as typed or lower-cased.
    assert mobile(username="Alice", authToken=md5("Alice" + md5(alice.token))).status_code == 200
    assert mobile(username="Alice", authToken=md5("alice" + md5(alice.token))).status_code == 200
    assert (
        mobile(username="alice", authToken=md5("alice" + md5(alice.token)).upper()).status_code
        == 200
    )
    # The account password cannot be proved by md5: the server never keeps md5 of it.
    failed = mobile(username="alice", authToken=md5("alice" + md5("correct horse")))
    assert failed.status_code == 403
    assert error_code(failed.text) == 4
    assert error_code(mobile(username="alice", password="wrong").text) == 4
    assert error_code(mobile(username="nobody", password="x").text) == 4
    assert error_code(mobile(username="alice").text) == 6
    assert error_code(mobile(password="correct horse").text) == 6
    # Passwords do not travel in URLs.
    as_get = client.get(
        "/2.0/",
        params={"method": "auth.getMobileSession", "username": "alice", "password": "x"},
    )
    assert error_code(as_get.text) == 6


def test_auth_methods_ignore_a_stale_session_key(
    client: TestClient, alice: Account, key: tuple[str, str]
) -> None:
    # pylast sends its sk with every call, auth.getToken included.
    api_key, secret = key
    params = signed({"method": "auth.getToken", "api_key": api_key, "sk": "0" * 32}, secret)
    assert client.post("/2.0/", data=params).status_code == 200
