"""The page infrastructure over HTTP: sessions, CSRF, security headers, locales, privacy."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, play, track
from tests.web_ui_helpers import csrf_of, log_in, sign_up


def _cookie_header(response: Any, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[0]


def test_signup_opens_a_session_in_a_safe_cookie(client: TestClient) -> None:
    token = csrf_of(client, "/signup")
    response = client.post(
        "/signup",
        data={"name": "joana", "password": "saudade123", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = _cookie_header(response, "tg_session").lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # dev mode serves plain http
    profile = client.get("/user/joana")
    assert profile.status_code == 200
    assert "Log out" in profile.text
    # The web session does not open the API: its secret is not an API token.
    secret = client.cookies["tg_session"].rpartition(".")[0]
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_signup_refuses_bad_names_and_taken_ones(client: TestClient) -> None:
    token = csrf_of(client, "/signup")
    bad = client.post("/signup", data={"name": "x", "password": "long enough", "csrf_token": token})
    assert bad.status_code == 422
    assert "User names are 2 to 32" in bad.text
    sign_up(client, "taken")
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    again = client.post(
        "/signup",
        data={"name": "TAKEN", "password": "long enough", "csrf_token": csrf_of(client, "/signup")},
    )
    assert again.status_code == 422
    assert "That user name is taken" in again.text


def test_form_posts_without_the_csrf_token_are_refused(client: TestClient) -> None:
    csrf_of(client)  # the browser has its anonymous cookie
    for path, data in [
        ("/login", {"name": "a", "password": "b"}),
        ("/signup", {"name": "someone", "password": "long enough"}),
        ("/settings/language", {"locale": "fr"}),
        ("/logout", {}),
    ]:
        refused = client.post(path, data=data)
        assert refused.status_code == 403, path
        assert "text/html" in refused.headers["content-type"]
        assert "did not come from this site" in refused.text
        forged = client.post(path, data={**data, "csrf_token": "0" * 64})
        assert forged.status_code == 403, path
    # A token from another browser does not fit this one.
    other = TestClient(client.app)
    stolen = csrf_of(other)
    assert (
        client.post("/settings/language", data={"locale": "fr", "csrf_token": stolen}).status_code
        == 403
    )


def test_every_page_post_route_is_csrf_checked(client: TestClient) -> None:
    """Every unsafe page route refuses a form without the token (a router included without
    the check, or a new POST route, would fail here)."""
    from fastapi.routing import APIRoute

    from tastegraph.web.ui.routes import ROUTERS

    csrf_of(client)
    unsafe = [
        (method, re.sub(r"\{[^}]+\}", "1", route.path))
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods - {"GET", "HEAD"}
    ]
    assert ("POST", "/logout") in unsafe
    for method, path in unsafe:
        refused = client.request(method, path, data={"anything": "x"})
        assert refused.status_code == 403, (method, path)


def test_pages_send_security_headers(client: TestClient, alice: Account) -> None:
    for path in ["/", "/login", "/signup", "/user/alice", "/user/nobody"]:
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "<script>" not in response.text
        assert " style=" not in response.text


def test_logout_ends_the_session_for_good(client: TestClient) -> None:
    sign_up(client, "leaver")
    stolen = client.cookies["tg_session"]
    response = client.post(
        "/logout", data={"csrf_token": csrf_of(client, "/")}, follow_redirects=False
    )
    assert response.status_code == 303
    assert 'tg_session=""' in _cookie_header(response, "tg_session")
    replay = TestClient(client.app, cookies={"tg_session": stolen})
    assert "Log out" not in replay.get("/").text
    assert replay.get("/settings", follow_redirects=False).headers["location"] == (
        "/login?next=%2Fsettings"
    )


def test_a_password_change_ends_web_sessions(client: TestClient) -> None:
    sign_up(client, "changer")
    assert "Log out" in client.get("/").text
    token = client.post(
        "/api/v1/auth/login", json={"name": "changer", "password": "correct horse"}
    ).json()["token"]
    changed = client.patch(
        "/api/v1/me",
        json={"password": "battery staple"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200, changed.text
    assert "Log out" not in client.get("/").text
    log_in(client, "changer", "battery staple")
    assert "Log out" in client.get("/").text


def test_wrong_password_is_refused_on_the_page(client: TestClient, alice: Account) -> None:
    response = client.post(
        "/login", data={"name": "alice", "password": "nope", "csrf_token": csrf_of(client)}
    )
    assert response.status_code == 401
    assert "Wrong user name or password." in response.text


def test_locale_from_accept_language_cookie_and_setting(client: TestClient) -> None:
    def lang(page: Any) -> str:
        found = re.search(r'<html lang="([^"]+)"', page.text)
        assert found
        return found.group(1)

    assert lang(client.get("/")) == "en"
    assert lang(client.get("/", headers={"Accept-Language": "ja,en;q=0.5"})) == "ja"
    assert lang(client.get("/", headers={"Accept-Language": "xx, pt-BR;q=0.9, de;q=0.8"})) == "pt"
    # An anonymous choice is kept in a cookie and beats the browser's languages.
    chosen = client.post(
        "/settings/language",
        data={"locale": "de", "next": "/login", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert chosen.headers["location"] == "/login"
    german = client.get("/login", headers={"Accept-Language": "fr"})
    assert lang(german) == "de"
    assert "Benutzername" in german.text
    # Signed in, the account's setting decides, and the switcher saves to it.
    sign_up(client, "polyglot")
    client.post(
        "/settings/language", data={"locale": "fr", "next": "/", "csrf_token": csrf_of(client, "/")}
    )
    french = client.get("/")
    assert lang(french) == "fr"
    assert "Se déconnecter" in french.text
    assert "personnes" in french.text or "personne" in french.text
    # An offsite "next" is not followed.
    offsite = client.post(
        "/settings/language",
        data={"locale": "es", "next": "//evil.example/", "csrf_token": csrf_of(client, "/")},
        follow_redirects=False,
    )
    assert offsite.headers["location"] == "/"


def test_numbers_and_dates_follow_the_locale(client: TestClient, alice: Account) -> None:
    client.post(
        "/api/v1/plays", json=play(1714587300, track("Halo", "Beyoncé")), headers=alice.headers
    )
    page = client.get("/user/alice?period=overall", headers={"Accept-Language": "de"})
    assert page.status_code == 200
    assert "Mitglied seit" in page.text
    assert "Beyoncé" in page.text
    assert "Halo" in page.text
    assert "Hör-Uhr" in page.text  # the listening clock's title
    assert "<svg" in page.text


def test_profile_privacy_matches_the_api(client: TestClient, register: Any) -> None:
    owner = register("hidden", password="correct horse")
    client.patch("/api/v1/me", json={"visibility": "private"}, headers=owner.headers)
    anonymous = client.get("/user/hidden")
    assert anonymous.status_code == 404
    assert "text/html" in anonymous.headers["content-type"]
    assert "Page not found" in anonymous.text
    assert "hidden" not in anonymous.text.split("<main", 1)[1]
    log_in(client, "hidden")
    assert client.get("/user/hidden").status_code == 200


def test_hidden_recent_activity_is_not_shown(client: TestClient, register: Any) -> None:
    owner = register("quiet")
    client.post(
        "/api/v1/plays",
        json=play(1714587300, track("Secret Song", "Nobody")),
        headers=owner.headers,
    )
    client.patch("/api/v1/me", json={"hide_recent_activity": True}, headers=owner.headers)
    page = client.get("/user/quiet?period=overall")
    assert page.status_code == 200
    assert "keeps recent activity private" in page.text
    recent = page.text.split('id="recent-heading"', 1)[1]
    assert "Secret Song" not in recent


def test_front_page_keeps_the_audioscrobbler_handshake(client: TestClient) -> None:
    answer = client.get("/?hs=true&p=1.2&c=tst&v=1.0&u=nobody&t=1&a=x")
    assert answer.text.splitlines()[0] in {"BADAUTH", "BADTIME", "FAILED Unknown user"} or (
        answer.text.startswith(("BAD", "FAILED"))
    )
    assert client.get("/healthz").json() == {"status": "ok"}


def test_unknown_period_and_user_are_html_404s(client: TestClient, alice: Account) -> None:
    assert client.get("/user/alice?period=forever").status_code == 404
    missing = client.get("/user/ghost")
    assert missing.status_code == 404
    assert "<html lang=" in missing.text


def test_text_is_escaped(client: TestClient, register: Any) -> None:
    owner = register("escaper")
    client.post(
        "/api/v1/plays",
        json=play(1714587300, track("<script>alert(1)</script>", "<b>Bold</b>")),
        headers=owner.headers,
    )
    page = client.get("/user/escaper?period=overall")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<b>Bold</b>" not in page.text
