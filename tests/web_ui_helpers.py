"""Helpers for page tests over HTTP (TestClient): read the CSRF token, sign up, log in."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token the page at ``path`` gives this client (its cookies decide it)."""
    page = client.get(path)
    found = _CSRF.search(page.text)
    assert found, f"no csrf_token field on {path}"
    return found.group(1)


def sign_up(client: TestClient, name: str, password: str = "correct horse") -> None:
    response = client.post(
        "/signup",
        data={"name": name, "password": password, "csrf_token": csrf_of(client, "/signup")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/user/{name}"


def log_in(client: TestClient, name: str, password: str = "correct horse") -> None:
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
