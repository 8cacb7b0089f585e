"""Accounts through the HTTP API: registration, log-in, tokens, settings, privacy."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code)
    return body


def test_register_defaults_and_privacy(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json={"name": "Joana", "password": "saudade123", "country": "br", "locale": "pt_br"},
    )
    assert response.status_code == 201, response.text
    user = response.json()["user"]
    assert user["country"] == "BR"
    assert user["locale"] == "pt-BR"
    assert user["timezone"] == "America/Sao_Paulo"
    assert user["consent_ad_profiling"] is False  # profiling stays off until the user opts in
    assert user["visibility"] == "public"
    assert response.json()["token"].startswith("tg_")


def test_names_are_unique_regardless_of_case(client: TestClient, register: Any) -> None:
    register("Alice")
    response = client.post("/api/v1/auth/register", json={"name": "aLICE", "password": "whatever1"})
    _problem(response, 409, "name_taken")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country", "XX"),
        ("timezone", "Mars/Olympus_Mons"),
        ("locale", "not a locale"),
        ("name", "a"),
        ("name", "me"),
        ("name", "bad name!"),
        ("password", "short"),
        ("email", "not-an-email"),
    ],
)
def test_register_rejects_bad_fields(client: TestClient, field: str, value: str) -> None:
    body = {"name": "valid_name", "password": "long enough", field: value}
    problem = _problem(client.post("/api/v1/auth/register", json=body), 422, "validation_failed")
    assert any(err["field"] == field for err in problem["errors"])


def test_unknown_fields_are_refused(client: TestClient) -> None:
    body = {"name": "valid_name", "password": "long enough", "role": "admin"}
    problem = _problem(client.post("/api/v1/auth/register", json=body), 422, "validation_failed")
    assert problem["errors"][0]["field"] == "role"


def test_malformed_json_is_a_400_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register",
        content=b'{"name": "x",',
        headers={"content-type": "application/json"},
    )
    _problem(response, 400, "malformed_json")


def test_login_gives_an_expiring_session_token(client: TestClient, alice: Account) -> None:
    bad = client.post("/api/v1/auth/login", json={"name": "alice", "password": "wrong"})
    _problem(bad, 401, "invalid_credentials")
    good = client.post("/api/v1/auth/login", json={"name": "ALICE", "password": "correct horse"})
    assert good.status_code == 200, good.text
    session = good.json()
    assert session["kind"] == "session"
    assert session["expires_at"] is not None
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
    assert me.json()["name"] == "alice"


def test_tokens_are_shown_once_listed_and_revoked(client: TestClient, alice: Account) -> None:
    created = client.post("/api/v1/me/tokens", json={"name": "my mpd"}, headers=alice.headers)
    assert created.status_code == 201
    secret = created.json()["token"]
    listed = client.get("/api/v1/me/tokens", headers=alice.headers).json()
    assert {t["name"] for t in listed} >= {"my mpd"}
    assert all("token" not in t for t in listed)  # the secret is never shown again
    assert any(secret.startswith(t["prefix"]) for t in listed)
    token_id = created.json()["id"]
    other = {"Authorization": f"Token {secret}"}  # Airsonic-style header also works
    assert client.get("/api/v1/me", headers=other).status_code == 200
    assert client.delete(f"/api/v1/me/tokens/{token_id}", headers=alice.headers).status_code == 204
    _problem(client.get("/api/v1/me", headers=other), 401, "not_authenticated")
    again = client.delete(f"/api/v1/me/tokens/{token_id}", headers=alice.headers)
    _problem(again, 404, "token_not_found")


def test_tokens_are_stored_hashed(client: TestClient, alice: Account, runtime: Any) -> None:
    from sqlalchemy import select

    from tastegraph.accounts.models import ApiToken

    with runtime.db.unit_of_work() as session:
        hashes = session.scalars(select(ApiToken.token_hash)).all()
    assert alice.token not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_no_token_or_bad_token(client: TestClient) -> None:
    response = _problem(client.get("/api/v1/me"), 401, "not_authenticated")
    assert "Bearer" in response["detail"]
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer tg_nope"})
    _problem(bad, 401, "not_authenticated")


def test_settings_and_consent(client: TestClient, alice: Account) -> None:
    response = client.patch(
        "/api/v1/me",
        json={"timezone": "Asia/Tokyo", "visibility": "friends", "consent_ad_profiling": True},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Asia/Tokyo"
    assert body["consent_ad_profiling"] is True
    assert body["consent_updated_at"] is not None
    bad = client.patch("/api/v1/me", json={"timezone": None}, headers=alice.headers)
    _problem(bad, 422, "invalid_account_data")


def test_password_change(client: TestClient, alice: Account) -> None:
    client.patch("/api/v1/me", json={"password": "new password!"}, headers=alice.headers)
    old = client.post("/api/v1/auth/login", json={"name": "alice", "password": "correct horse"})
    assert old.status_code == 401
    new = client.post("/api/v1/auth/login", json={"name": "alice", "password": "new password!"})
    assert new.status_code == 200


def test_profile_visibility(client: TestClient, register: Any, runtime: Any) -> None:
    owner = register("owner")
    friend = register("friend")
    stranger = register("stranger")
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        a = svc.accounts.get_by_name("owner")
        b = svc.accounts.get_by_name("friend")
        svc.social.befriend([(a.id, b.id)])

    def status(viewer: Account | None) -> int:
        headers = viewer.headers if viewer else {}
        return client.get("/api/v1/users/owner", headers=headers).status_code

    assert [status(v) for v in (None, stranger, friend, owner)] == [200, 200, 200, 200]
    client.patch("/api/v1/me", json={"visibility": "friends"}, headers=owner.headers)
    assert [status(v) for v in (None, stranger, friend, owner)] == [404, 404, 200, 200]
    client.patch("/api/v1/me", json={"visibility": "private"}, headers=owner.headers)
    assert [status(v) for v in (None, stranger, friend, owner)] == [404, 404, 404, 200]
    hidden = client.get("/api/v1/users/owner/plays", headers=stranger.headers)
    _problem(hidden, 404, "user_not_found")


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    _problem(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/plays/batch" in spec["paths"]
    body = spec["paths"]["/api/v1/plays/batch"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("PlayBatchIn")
    assert "PlayIn" in spec["components"]["schemas"]
    assert "TrackRef" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200
