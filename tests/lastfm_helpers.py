"""Helpers for the Last.fm 2.0 tests: a pylast network aimed at the live server, registered
API keys, signing, and a few parsers for raw responses."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from typing import Any

import pylast
from fastapi.testclient import TestClient

from tastegraph.protocols.lastfm.keys import ApiKeyService
from tastegraph.protocols.lastfm.signature import signature
from tastegraph.runtime import Runtime

KEY = "0123456789abcdef0123456789abcdef"
"""An API key this server does not know (accepted unverified by default)."""


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


class PlainHTTPTransport(pylast.httpx.HTTPTransport):  # type: ignore[misc]
    """pylast always builds https:// URLs; the live server speaks plain HTTP."""

    def handle_request(self, request: Any) -> Any:
        request.url = request.url.copy_with(scheme="http")
        return super().handle_request(request)


def network(
    base_url: str,
    *,
    api_key: str,
    api_secret: str,
    username: str = "",
    password_hash: str = "",
    session_key: str = "",
) -> pylast._Network:
    """A pylast network for the server at ``base_url`` (``http://127.0.0.1:PORT``).

    Given a user name and password hash, pylast logs in with ``auth.getMobileSession`` at once.
    """
    host = base_url.removeprefix("http://")
    return pylast._Network(
        name="tastegraph",
        homepage=base_url,
        ws_server=(host, "/2.0/"),
        api_key=api_key,
        api_secret=api_secret,
        session_key=session_key,
        username=username,
        password_hash=password_hash,
        domain_names={pylast.DOMAIN_ENGLISH: host},
        urls={
            "album": "music/%(artist)s/%(album)s",
            "artist": "music/%(artist)s",
            "country": "place/%(country_name)s",
            "tag": "tag/%(name)s",
            "track": "music/%(artist)s/_/%(title)s",
            "user": "user/%(name)s",
        },
        proxy={"https://": PlainHTTPTransport()},
    )


def register_key(runtime: Runtime, name: str = "tests") -> tuple[str, str]:
    """A registered API key and its secret: requests made with it are signature-checked."""
    with runtime.db.unit_of_work(write=True) as session:
        key = ApiKeyService(session).create(name)
        return key.key, key.secret


def signed(params: dict[str, str], secret: str) -> dict[str, str]:
    return {**params, "api_sig": signature(params, secret)}


def lfm(text: str) -> ET.Element:
    """The root <lfm> element of an XML answer."""
    root = ET.fromstring(text)
    assert root.tag == "lfm", text
    return root


def error_code(text: str) -> int:
    root = lfm(text)
    assert root.get("status") == "failed", text
    error = root.find("error")
    assert error is not None, text
    assert (error.text or "").strip(), "pylast needs the error text"
    return int(error.get("code", "0"))


def session_key(client: TestClient, name: str = "alice", password: str = "correct horse") -> str:
    response = client.post(
        "/2.0/",
        data={
            "method": "auth.getMobileSession",
            "username": name,
            "password": password,
            "api_key": KEY,
            "format": "json",
        },
    )
    assert response.status_code == 200, response.text
    key: str = response.json()["session"]["key"]
    return key
