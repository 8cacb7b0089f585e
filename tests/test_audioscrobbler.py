"""Audioscrobbler 1.2 / 1.2.1 over a real socket, byte for byte the way mpdscribble talks.

mpdscribble (src/Scrobbler.cxx, src/Form.hxx) sends a GET handshake with
``hs=true&p=1.2&c=mdc&v=<version>&u=&t=&a=``, then POSTs form bodies built by hand: brackets
written literally, values percent-encoded by curl, ``r[i]=`` always and a second ``r[i]=L``
for a loved track. It reads replies line by line (a line ends at ``\\n``) and treats any HTTP
status of 400 or more as a transport error, so every reply here must be 200.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tastegraph.accounts.models import ApiToken, TokenKind
from tastegraph.ingest.models import Play
from tastegraph.protocols.audioscrobbler import sessions
from tastegraph.protocols.lastfm.keys import ApiKeyService, new_hex32
from tastegraph.ratelimit import MemoryRateLimiter
from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track

USER_AGENT = "mpdscribble/0.24"


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def escape(value: str) -> str:
    """curl_easy_escape: everything but unreserved characters, UTF-8 bytes as %XX."""
    return quote(value, safe="-._~")


class Wire:
    """A client that writes requests byte for byte, as curl does for mpdscribble."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def send(self, request: bytes) -> tuple[int, str, bytes]:
        with socket.create_connection((self.host, self.port), timeout=10) as sock:
            sock.sendall(request)
            response = http.client.HTTPResponse(sock)
            response.begin()
            body = response.read()
            return response.status, response.getheader("content-type", ""), body

    def _head(self, method: str, target: str) -> bytes:
        return (
            f"{method} {target} HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\n"
            f"User-Agent: {USER_AGENT}\r\n"
            "Accept: */*\r\n"
        ).encode()

    def get(self, target: str) -> bytes:
        status, content_type, body = self.send(self._head("GET", target) + b"\r\n")
        assert status == 200, body
        assert content_type == "text/plain; charset=utf-8"
        return body

    def post(self, url: str, body: str) -> bytes:
        target = urlsplit(url).path
        data = body.encode("ascii")
        request = (
            self._head("POST", target)
            + f"Content-Length: {len(data)}\r\n".encode()
            + b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
            + data
        )
        status, content_type, reply = self.send(request)
        assert status == 200, reply
        assert content_type == "text/plain; charset=utf-8"
        return reply


def handshake_target(
    user: str, password: str, *, path: str = "/", t: int | None = None, p: str = "1.2"
) -> str:
    stamp = str(int(time.time()) if t is None else t)
    auth = md5(md5(password) + stamp)
    return f"{path}?hs=true&p={p}&c=mdc&v=0.24&u={escape(user)}&t={stamp}&a={auth}"


def shake(wire: Wire, account: Account, **kwargs: Any) -> tuple[str, str, str]:
    reply = wire.get(handshake_target(account.name, account.token, **kwargs))
    lines = reply.decode().split("\n")
    assert len(lines) == 5, reply
    assert lines[0] == "OK"
    assert lines[4] == ""  # the last line ends with a newline too
    session_id, np_url, submit_url = lines[1:4]
    assert len(session_id) == 32
    assert all(c in "0123456789abcdef" for c in session_id)
    return session_id, np_url, submit_url


def song(index: int, artist: str, title: str, when: int, **fields: str) -> str:
    """One track as mpdscribble appends it (Scrobbler::Submit)."""
    values = {
        "a": artist,
        "t": title,
        "l": fields.get("l", "240"),
        "i": str(when),
        "o": fields.get("o", "P"),
        "r": "",
        "b": fields.get("b", ""),
        "n": fields.get("n", ""),
        "m": fields.get("m", ""),
    }
    body = "".join(f"&{key}[{index}]={escape(value)}" for key, value in values.items())
    if fields.get("love"):
        body += f"&r[{index}]=L"
    return body


def _session_kind_fits(runtime: Runtime) -> bool:
    """Whether api_tokens.kind can hold "audioscrobbler_session" (22 characters).

    Migration 0001 made the column VARCHAR(16); SQLite ignores the length, PostgreSQL refuses
    the session row until a migration widens it. Until then those tests skip with the reason.
    """
    if runtime.db.dialect == "sqlite":
        return True
    columns = sa.inspect(runtime.db.engine).get_columns("api_tokens")
    kind = next(c for c in columns if c["name"] == "kind")
    length = getattr(kind["type"], "length", None)
    return length is None or length >= len(TokenKind.AUDIOSCROBBLER_SESSION.value)


@pytest.fixture
def wire(live_server: str, runtime: Runtime) -> Wire:
    if not _session_kind_fits(runtime):
        pytest.skip(
            "api_tokens.kind is VARCHAR(16) on this database: Audioscrobbler sessions "
            "('audioscrobbler_session') need the column widened by a migration"
        )
    return Wire(live_server)


def _plays(client: TestClient, account: Account) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/users/{account.name}/plays", headers=account.headers)
    assert response.status_code == 200, response.text
    plays: list[dict[str, Any]] = response.json()["plays"]
    return plays


def _count(runtime: Runtime) -> int:
    with runtime.db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Play)) or 0


# -- the mpdscribble conversation ------------------------------------------------------------


def test_mpdscribble_session_end_to_end(
    wire: Wire, live_server: str, client: TestClient, alice: Account
) -> None:
    reply = wire.get(handshake_target(alice.name, alice.token))
    session_id = reply.split(b"\n")[1].decode()
    assert (
        reply
        == (
            f"OK\n{session_id}\n{live_server}/scrobbler/np_1.2\n"
            f"{live_server}/scrobbler/protocol_1.2\n"
        ).encode()
    )
    np_url, submit_url = f"{live_server}/scrobbler/np_1.2", f"{live_server}/scrobbler/protocol_1.2"

    # Now playing: all seven fields, empty ones included (Scrobbler::SendNowPlaying).
    body = f"s={session_id}&a=Beyonc%C3%A9&t=Halo&b=I%20Am...%20Sasha%20Fierce&l=261&n=3%2F12&m="
    assert wire.post(np_url, body) == b"OK\n"
    now = client.get("/api/v1/users/alice/now-playing", headers=alice.headers).json()
    assert now["item"]["title"] == "Halo"
    assert now["item"]["context"] == "Beyoncé"
    assert now["source"] == "audioscrobbler:mdc"

    started = int(time.time()) - 300
    body = (
        f"s={session_id}"
        + song(0, "Beyoncé", "Halo", started, b="I Am... Sasha Fierce", n="3", love="yes")
        + song(1, "Massive Attack", "Teardrop", started - 400, l="331", b="Mezzanine")
    )
    assert "&r[0]=&" in body
    assert "&m[0]=&r[0]=L&" in body  # the loved track's second rating comes last
    assert wire.post(submit_url, body) == b"OK\n"

    plays = _plays(client, alice)
    assert [(p["item"]["title"], p["item"]["context"]) for p in plays] == [
        ("Halo", "Beyoncé"),
        ("Teardrop", "Massive Attack"),
    ]
    assert {p["source"] for p in plays} == {"audioscrobbler:mdc"}
    assert plays[0]["played_at"].startswith(datetime.fromtimestamp(started, UTC).isoformat()[:19])
    item = client.get(plays[1]["item"]["url"]).json()
    assert item["duration_seconds"] == 331
    assert item["parent"]["title"] == "Mezzanine"
    loved = client.get("/api/v1/users/alice/feedback").json()["feedback"]
    assert [f["item"]["title"] for f in loved] == ["Halo"]
    # Playing what was announced ends the now-playing entry.
    gone = client.get("/api/v1/users/alice/now-playing", headers=alice.headers)
    assert gone.status_code == 204


def test_percent_encoded_brackets_and_resubmission(
    wire: Wire, client: TestClient, alice: Account, runtime: Runtime
) -> None:
    session_id, _, submit_url = shake(wire, alice)
    when = int(time.time()) - 1000
    body = f"s={session_id}" + song(0, "Radiohead", "Reckoner", when, love="yes").replace(
        "[0]", "%5B0%5D"
    )
    assert "a%5B0%5D=Radiohead" in body
    assert wire.post(submit_url, body) == b"OK\n"
    # A client that did not get our reply sends the batch again: still OK, stored once.
    assert wire.post(submit_url, body) == b"OK\n"
    assert _count(runtime) == 1
    loved = client.get("/api/v1/users/alice/feedback").json()["feedback"]
    assert [f["item"]["title"] for f in loved] == ["Reckoner"]


def test_handshake_paths_and_public_url(
    wire: Wire, live_server: str, alice: Account, runtime: Runtime
) -> None:
    for path in ("/", "/scrobbler/", "/scrobbler"):
        _, np_url, submit_url = shake(wire, alice, path=path)
        assert np_url == f"{live_server}/scrobbler/np_1.2"
        assert submit_url == f"{live_server}/scrobbler/protocol_1.2"
    _, np_url, _ = shake(wire, alice, p="1.2.1")
    assert np_url.startswith(live_server)
    runtime.settings.public_url = "https://scrobble.example.org/"
    _, np_url, submit_url = shake(wire, alice)
    assert np_url == "https://scrobble.example.org/scrobbler/np_1.2"
    assert submit_url == "https://scrobble.example.org/scrobbler/protocol_1.2"


def test_non_ascii_names_round_trip(wire: Wire, client: TestClient, register: Any) -> None:
    fan = register("Björk_fan")
    session_id, np_url, submit_url = shake(wire, fan)
    when = int(time.time()) - 600
    body = (
        f"s={session_id}"
        + song(0, "Sigur Rós", "Hoppípolla", when, b="Takk…")
        + song(1, "坂本龍一", "戦場のメリークリスマス", when - 300)
        + song(2, "Мумий Тролль", "Владивосток 2000", when - 600)
    )
    assert wire.post(np_url, f"s={session_id}&a=Bj%C3%B6rk&t=J%C3%B3ga&b=&l=&n=&m=") == b"OK\n"
    assert wire.post(submit_url, body) == b"OK\n"
    titles = {(p["item"]["context"], p["item"]["title"]) for p in _plays(client, fan)}
    assert titles == {
        ("Sigur Rós", "Hoppípolla"),
        ("坂本龍一", "戦場のメリークリスマス"),
        ("Мумий Тролль", "Владивосток 2000"),
    }


# -- refusals ----------------------------------------------------------------------------------


def test_bad_auth(wire: Wire, client: TestClient, alice: Account) -> None:
    stamp = int(time.time())
    wrong = f"/?hs=true&p=1.2&c=mdc&v=0.24&u=alice&t={stamp}&a={md5('nope')}"
    assert wire.get(wrong) == b"BADAUTH\n"
    unknown = handshake_target("nobody", alice.token)
    assert wire.get(unknown) == b"BADAUTH\n"
    # The account password is not the scrobble password: only API tokens are.
    assert wire.get(handshake_target("alice", "correct horse")) == b"BADAUTH\n"
    assert wire.get(f"/?hs=true&p=1.2&c=mdc&v=0.24&u=alice&t={stamp}") == b"BADAUTH\n"
    # The user name is case-insensitive, as everywhere.
    assert wire.get(handshake_target("ALICE", alice.token)).startswith(b"OK\n")


def test_revoked_token_no_longer_shakes_hands(
    wire: Wire, client: TestClient, alice: Account
) -> None:
    created = client.post("/api/v1/me/tokens", json={"name": "mpd"}, headers=alice.headers).json()
    player = Account(name="alice", token=created["token"])
    shake(wire, player)
    response = client.delete(f"/api/v1/me/tokens/{created['id']}", headers=alice.headers)
    assert response.status_code == 204
    assert wire.get(handshake_target("alice", player.token)) == b"BADAUTH\n"
    shake(wire, alice)  # the other token still works


def test_bad_time(wire: Wire, alice: Account) -> None:
    now = int(time.time())
    assert wire.get(handshake_target("alice", alice.token, t=now - 301 - 5)) == b"BADTIME\n"
    assert wire.get(handshake_target("alice", alice.token, t=now + 400)) == b"BADTIME\n"
    shake(wire, alice, t=now - 200)  # within the five minutes
    stamp = "yesterday"
    target = f"/?hs=true&p=1.2&c=mdc&v=0.24&u=alice&t={stamp}&a={md5(md5(alice.token) + stamp)}"
    assert wire.get(target) == b"BADTIME\n"


def test_unsupported_version_and_banned_client(
    wire: Wire, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = wire.get(handshake_target("alice", alice.token, p="1.1"))
    assert reply == b"FAILED Unsupported protocol version '1.1'\n"
    assert wire.get("/scrobbler/?p=1.2&u=alice") == b"FAILED Not a handshake: send hs=true\n"
    monkeypatch.setitem(sessions.BANNED_CLIENTS, "mdc", frozenset({"0.24"}))
    assert wire.get(handshake_target("alice", alice.token)) == b"BANNED\n"
    monkeypatch.setitem(sessions.BANNED_CLIENTS, "mdc", frozenset({"0.22"}))
    shake(wire, alice)


def test_bad_session(wire: Wire, live_server: str, alice: Account, runtime: Runtime) -> None:
    np_url, submit_url = f"{live_server}/scrobbler/np_1.2", f"{live_server}/scrobbler/protocol_1.2"
    when = int(time.time()) - 600
    fake = "0123456789abcdef0123456789abcdef"
    assert wire.post(np_url, f"s={fake}&a=A&t=T&b=&l=&n=&m=") == b"BADSESSION\n"
    assert wire.post(submit_url, f"s={fake}" + song(0, "A", "T", when)) == b"BADSESSION\n"
    assert wire.post(submit_url, song(0, "A", "T", when)[1:]) == b"BADSESSION\n"  # no s
    # An API token is not a session, nor the other way round.
    assert wire.post(np_url, f"s={alice.token}&a=A&t=T") == b"BADSESSION\n"

    session_id, _, _ = shake(wire, alice)
    assert wire.post(np_url, f"s={session_id}&a=A&t=T&b=&l=&n=&m=") == b"OK\n"
    with runtime.db.unit_of_work(write=True) as db:
        db.execute(
            update(ApiToken)
            .where(ApiToken.kind == TokenKind.AUDIOSCROBBLER_SESSION)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert wire.post(np_url, f"s={session_id}&a=A&t=T&b=&l=&n=&m=") == b"BADSESSION\n"
    assert wire.post(submit_url, f"s={session_id}" + song(0, "A", "T", when)) == b"BADSESSION\n"
    fresh, _, _ = shake(wire, alice)  # the client shakes hands again and carries on
    assert wire.post(submit_url, f"s={fresh}" + song(0, "A", "T", when)) == b"OK\n"
    with runtime.db.unit_of_work() as db:
        live = db.execute(
            select(ApiToken).where(
                ApiToken.kind == TokenKind.AUDIOSCROBBLER_SESSION,
                ApiToken.expires_at > datetime.now(UTC),
            )
        ).scalar_one()
        assert live.expires_at is not None
        lifetime = live.expires_at - live.created_at
    assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(hours=24, seconds=1)


def test_sessions_are_stored_hashed_with_the_client_id(
    wire: Wire, alice: Account, runtime: Runtime
) -> None:
    session_id, _, _ = shake(wire, alice)
    with runtime.db.unit_of_work() as db:
        row = db.execute(
            select(ApiToken).where(ApiToken.kind == TokenKind.AUDIOSCROBBLER_SESSION)
        ).scalar_one()
        assert row.name == "mdc"
        assert row.token_hash != session_id
        assert row.legacy_md5 is None  # a session is no scrobble password


# -- what is stored ------------------------------------------------------------------------


def test_same_play_through_the_native_api_is_one_play(
    wire: Wire, client: TestClient, alice: Account, runtime: Runtime
) -> None:
    when = int(time.time()) - 900
    first = client.post(
        "/api/v1/plays", json=play(when, track("Halo", "Beyoncé")), headers=alice.headers
    )
    assert first.status_code == 201
    session_id, _, submit_url = shake(wire, alice)
    body = f"s={session_id}" + song(0, "BEYONCÉ", "halo", when)
    assert wire.post(submit_url, body) == b"OK\n"
    assert _count(runtime) == 1
    # And the other way round: the native API reports the Audioscrobbler play as a duplicate.
    other = when - 600
    assert wire.post(submit_url, f"s={session_id}" + song(0, "Adele", "Hello", other)) == b"OK\n"
    again = client.post(
        "/api/v1/plays", json=play(other, track("Hello", "Adele")), headers=alice.headers
    )
    assert again.json()["status"] == "duplicate"
    assert _count(runtime) == 2


def test_partly_bad_submission_keeps_the_good_tracks(
    wire: Wire, client: TestClient, alice: Account, runtime: Runtime
) -> None:
    session_id, _, submit_url = shake(wire, alice)
    now = int(time.time())
    body = (
        f"s={session_id}"
        + song(0, "Good", "One", now - 1000)
        + song(1, "", "No artist", now - 900)
        + song(2, "Bad", "Time", now - 800).replace(f"i[2]={now - 800}", "i[2]=yesterday")
        + song(3, "Too", "Old", 1_000_000_000)
        + song(4, "Far", "Future", now + 86_400)
        + song(5, "Good", "Two", now - 700, m="not-a-uuid", n="x", l="-5", b="\u0007bell")
        + song(6, "Skipped", "Track", now - 600, o="L1b48a").replace("r[6]=&", "r[6]=S&")
        + song(7, "Good", "Three", now - 500, b="%ff")  # album text of broken bytes: dropped
        + song(8, "Con\u0000trol", "Char", now - 400)
    )
    assert wire.post(submit_url, body) == b"OK\n"
    titles = sorted(p["item"]["title"] for p in _plays(client, alice))
    assert titles == ["One", "Three", "Two"]


def test_mbid_and_raw_fields_are_kept(
    wire: Wire, client: TestClient, alice: Account, runtime: Runtime
) -> None:
    session_id, _, submit_url = shake(wire, alice)
    mbid = "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"
    body = f"s={session_id}" + song(0, "Björk", "Jóga", int(time.time()) - 400, m=mbid)
    assert wire.post(submit_url, body) == b"OK\n"
    found = client.get(f"/api/v1/items/by-external-id/musicbrainz/{mbid}")
    assert found.status_code == 200, found.text
    assert found.json()["title"] == "Jóga"
    with runtime.db.unit_of_work() as db:
        raw = db.scalar(select(Play.raw_payload))
    assert raw is not None
    assert '"a":"Björk"' in raw
    assert '"o":"P"' in raw


def test_ban_is_a_hate_and_no_listen(
    wire: Wire, client: TestClient, alice: Account, runtime: Runtime
) -> None:
    session_id, _, submit_url = shake(wire, alice)
    body = f"s={session_id}" + song(0, "Nickelback", "Photograph", int(time.time()) - 300)
    assert wire.post(submit_url, body.replace("r[0]=&", "r[0]=B&")) == b"OK\n"
    assert _count(runtime) == 0
    hated = client.get("/api/v1/users/alice/feedback?sentiment=hate", headers=alice.headers).json()[
        "feedback"
    ]
    assert [f["item"]["title"] for f in hated] == ["Photograph"]


def test_unusable_requests_fail_with_200(wire: Wire, live_server: str, alice: Account) -> None:
    session_id, np_url, submit_url = shake(wire, alice)
    now = int(time.time())
    assert wire.post(np_url, f"s={session_id}&a=&t=Title&b=&l=&n=&m=") == (
        b"FAILED Now-playing needs an artist (a) and a track title (t)\n"
    )
    assert wire.post(submit_url, f"s={session_id}") == b"FAILED No tracks submitted\n"
    broken = f"s={session_id}" + song(0, "", "", now)
    assert wire.post(submit_url, broken) == (
        b"FAILED None of the submitted tracks has an artist, a title and a time\n"
    )
    old = f"s={session_id}" + song(0, "Too", "Old", 1_000_000_000)
    assert wire.post(submit_url, old).startswith(b"FAILED No submitted track could be stored: ")
    many = f"s={session_id}" + "".join(song(i, "A", f"T{i}", now - i * 300) for i in range(51))
    assert wire.post(submit_url, many) == b"FAILED At most 50 tracks per submission\n"
    fifty = f"s={session_id}" + "".join(song(i, "A", f"T{i}", now - i * 300) for i in range(50))
    assert wire.post(submit_url, fifty) == b"OK\n"


def test_server_failure_is_failed_with_200(
    wire: Wire, alice: Account, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    session_id, np_url, submit_url = shake(wire, alice)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr("tastegraph.ingest.services.IngestService.record", broken)
    monkeypatch.setattr("tastegraph.ingest.services.IngestService.set_now_playing", broken)
    body = f"s={session_id}" + song(0, "A", "T", int(time.time()) - 300)
    assert wire.post(submit_url, body) == b"FAILED Internal error, try again later\n"
    assert wire.post(np_url, f"s={session_id}&a=A&t=T") == (
        b"FAILED Internal error, try again later\n"
    )
    monkeypatch.setattr("tastegraph.protocols.audioscrobbler.api.shake_hands", broken)
    assert wire.get(handshake_target("alice", alice.token)) == (
        b"FAILED Internal error, try again later\n"
    )
    assert "the disk is on fire" in caplog.text


def test_oversized_body_fails_with_200(wire: Wire, alice: Account, live_server: str) -> None:
    session_id, _, submit_url = shake(wire, alice)
    body = f"s={session_id}&a[0]=" + "x" * (1 << 20)
    assert wire.post(submit_url, body) == b"FAILED Request body too large\n"


# -- the web-services handshake (1.2.1) ------------------------------------------------------


def _lastfm_session(runtime: Runtime, name: str, api_key: str) -> str:
    with runtime.db.unit_of_work(write=True) as db:
        svc = runtime.services(db)
        user = svc.accounts.get_by_name(name)
        _, secret = svc.accounts.create_token(
            user, api_key, kind=TokenKind.LASTFM_SESSION, secret=new_hex32()
        )
    return secret


def test_web_services_handshake(
    wire: Wire, alice: Account, register: Any, runtime: Runtime
) -> None:
    stamp = str(int(time.time()))
    unknown_key, unknown_secret = new_hex32(), new_hex32()
    sk = _lastfm_session(runtime, "alice", unknown_key)

    def target(user: str, key: str, secret: str, session_key: str) -> str:
        auth = md5(secret + stamp)
        return (
            f"/?hs=true&p=1.2.1&c=tst&v=1.0&u={user}&t={stamp}&a={auth}"
            f"&api_key={key}&sk={session_key}"
        )

    # A key this server never registered: its secret cannot be checked; the session key counts.
    assert wire.get(target("alice", unknown_key, unknown_secret, sk)).startswith(b"OK\n")
    assert wire.get(target("alice", unknown_key, unknown_secret, new_hex32())) == b"BADAUTH\n"
    register("bob")
    assert wire.get(target("bob", unknown_key, unknown_secret, sk)) == b"BADAUTH\n"
    assert wire.get(target("alice", "", unknown_secret, sk)) == b"BADAUTH\n"

    with runtime.db.unit_of_work(write=True) as db:
        key = ApiKeyService(db).create("my player")
        registered_key, registered_secret = key.key, key.secret
    assert wire.get(target("alice", registered_key, registered_secret, sk)).startswith(b"OK\n")
    assert wire.get(target("alice", registered_key, unknown_secret, sk)) == b"BADAUTH\n"

    runtime.settings.lastfm_unknown_keys = "reject"
    assert wire.get(target("alice", unknown_key, unknown_secret, sk)) == b"BADAUTH\n"
    assert wire.get(target("alice", registered_key, registered_secret, sk)).startswith(b"OK\n")


def test_rate_limit_is_failed_with_200(
    wire: Wire, alice: Account, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id, np_url, _ = shake(wire, alice)
    limiter = MemoryRateLimiter(limit=2, window=3600)
    monkeypatch.setattr(runtime, "rate_limiter", limiter)
    for _ in range(2):
        assert wire.post(np_url, f"s={session_id}&a=A&t=T") == b"OK\n"
    limited = b"FAILED Too many requests, try again later\n"
    assert wire.post(np_url, f"s={session_id}&a=A&t=T") == limited
    shake(wire, alice)  # counted apart: per user for handshakes, per session afterwards
    shake(wire, alice)
    assert wire.get(handshake_target("alice", alice.token)) == limited
