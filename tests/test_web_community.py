"""The community and settings pages over HTTP: groups, shouts, live rooms, the feed,
notifications and every settings page — CSRF on their forms, privacy (what may not be seen is a
404 page), escaping of shouts, and the import, export and deletion paths."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tastegraph.accounts.errors import NotAuthenticated
from tastegraph.accounts.models import TokenKind
from tastegraph.protocols.lastfm.keys import ApiKeyService
from tastegraph.runtime import Runtime
from tests.conftest import Account, play, track
from tests.social_helpers import befriend, ok
from tests.web_ui_helpers import csrf_of, log_in, sign_up

XSS = '<script>alert("x")</script> <img src=x onerror=alert(1)>'
_POST_FORM = re.compile(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S)


def browser(client: TestClient, name: str, *, new: bool = True) -> TestClient:
    """A browser of its own (cookies) on the same app, signed up or logged in as ``name``."""
    other = TestClient(client.app)
    (sign_up if new else log_in)(other, name)
    return other


def post(web: TestClient, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """A form post with this browser's CSRF token (read from a page it may see)."""
    token = csrf_of(web, kw.pop("token_from", "/settings"))
    return web.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=False, **kw)


def main_of(page: Any) -> str:
    return str(page.text.split("<main", 1)[1])


def every_post_form_has_the_token(page: Any) -> None:
    forms = _POST_FORM.findall(page.text)
    assert forms
    for body in forms:
        assert 'name="csrf_token"' in body


def api_token(web: TestClient) -> str:
    created = post(web, "/settings/tokens", {"name": "tests"})
    assert created.status_code == 200
    found = re.search(r'id="new-token" class="secret">([^<]+)<', created.text)
    assert found
    return found.group(1)


# -- CSRF -------------------------------------------------------------------------------------


def test_community_forms_carry_and_need_the_token(client: TestClient) -> None:
    anna = browser(client, "anna")
    assert post(anna, "/groups", {"name": "Borgen fans", "privacy": "public"}).status_code == 303
    for path in [
        "/groups",
        "/groups/borgen-fans",
        "/groups/borgen-fans/manage",
        "/settings",
        "/settings/password",
        "/settings/privacy",
        "/settings/advertising",
        "/settings/tokens",
        "/settings/import",
        "/settings/delete",
        "/user/anna/shouts",
    ]:
        page = anna.get(path)
        assert page.status_code == 200, path
        every_post_form_has_the_token(page)
    # A token from another browser does not fit this one, on every kind of form.
    stolen = csrf_of(TestClient(client.app), "/login")
    for path, data in [
        ("/groups", {"name": "Forged", "privacy": "public"}),
        ("/groups/borgen-fans/shouts", {"body": "forged"}),
        ("/groups/borgen-fans/delete", {"confirm": "true"}),
        ("/settings/privacy", {"visibility": "private"}),
        (
            "/settings/password",
            {
                "current_password": "correct horse",
                "new_password": "forged password",
                "confirm_password": "forged password",
            },
        ),
        ("/settings/advertising", {"profiling": "true", "personalised_ads": "true"}),
        ("/settings/tokens", {"name": "forged"}),
        ("/settings/delete", {"password": "correct horse", "confirm": "true"}),
        ("/notifications/read", {}),
    ]:
        refused = anna.post(path, data={**data, "csrf_token": stolen}, follow_redirects=False)
        assert refused.status_code == 403, path
        assert "did not come from this site" in refused.text
    upload = anna.post(
        "/settings/import",
        data={"format": "csv", "csrf_token": stolen},
        files={"file": ("plays.csv", b"played_at,artist,title\n", "text/csv")},
    )
    assert upload.status_code == 403
    assert anna.get("/groups/borgen-fans").status_code == 200  # nothing was deleted
    assert "Forged" not in anna.get("/groups").text
    assert anna.get("/settings/tokens").text.count("Revoke forged") == 0


def test_pages_carry_the_security_headers(client: TestClient) -> None:
    anna = browser(client, "anna")
    for path in ["/groups", "/live", "/feed", "/notifications", "/settings/tokens"]:
        page = anna.get(path)
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "<script>" not in page.text
        assert " style=" not in page.text
        assert " onclick=" not in page.text


# -- groups and shouts ------------------------------------------------------------------------


def test_group_flow_with_escaped_shouts_replies_reactions_and_reports(client: TestClient) -> None:
    anna = browser(client, "anna")
    created = post(
        anna,
        "/groups",
        {"name": "Borgen <fans>", "description": XSS, "privacy": "public", "item_id": ""},
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/groups/borgen-fans"
    posted = post(anna, "/groups/borgen-fans/shouts", {"body": XSS + " https://example.org/a"})
    assert posted.status_code == 303
    page = anna.get("/groups/borgen-fans")
    assert page.status_code == 200
    body = main_of(page)
    assert "<script>" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body
    assert "Borgen &lt;fans&gt;" in body
    assert '<a href="https://example.org/a" rel="nofollow ugc noopener">' in body
    shout_id = int(re.findall(r'id="shout-(\d+)"', body)[0])

    bob = browser(client, "bob")
    # Not a member yet: no shouting, but reading a public group is fine.
    refused = post(bob, "/groups/borgen-fans/shouts", {"body": "hi"})
    assert refused.status_code == 403
    assert post(bob, "/groups/borgen-fans/join").status_code == 303
    assert "You are a member" in bob.get("/groups/borgen-fans").text
    reply = post(
        bob, "/groups/borgen-fans/shouts", {"body": "@anna tak!", "parent_id": str(shout_id)}
    )
    assert reply.status_code == 303
    assert reply.headers["location"].endswith(f"#shout-{shout_id}")
    liked = post(bob, f"/shouts/{shout_id}/react", {"code": "+like", "next": "/groups/borgen-fans"})
    assert liked.status_code == 303
    assert 'value="-like" aria-pressed="true"' in bob.get("/groups/borgen-fans").text
    reported = post(bob, f"/shouts/{shout_id}/report", {"reason": "spam", "next": "/groups"})
    assert reported.status_code == 200
    assert "moderators" in reported.text
    # Anna hears of the reply and the mention once, in the header and on the list.
    header = anna.get("/groups").text
    assert re.search(r'class="count">1<', header)
    notes = anna.get("/notifications")
    assert "bob</a> replied to your shout" in notes.text
    assert post(anna, "/notifications/read", {"up_to": ""}).status_code == 303
    assert 'class="count"' not in anna.get("/groups").text

    # The owner works the moderation queue; removing takes the thread out of view.
    queue = anna.get("/moderation")
    assert queue.status_code == 200
    assert "reported a shout by" in queue.text
    report_id = re.findall(r'action="/moderation/reports/(\d+)"', queue.text)[0]
    assert post(anna, f"/moderation/reports/{report_id}", {"action": "remove"}).status_code == 303
    assert f'id="shout-{shout_id}"' not in anna.get("/groups/borgen-fans").text
    assert bob.get("/moderation").status_code == 403  # bob moderates nothing


def test_topics_members_roles_and_leaving(client: TestClient) -> None:
    anna = browser(client, "anna")
    post(anna, "/groups", {"name": "Night owls", "privacy": "public"})
    topic = post(anna, "/groups/night-owls/topics", {"title": "Best of 2024", "body": "Go!"})
    assert topic.status_code == 303
    topic_url = topic.headers["location"]
    assert re.fullmatch(r"/groups/night-owls/topics/\d+", topic_url)
    assert "Go!" in anna.get(topic_url).text
    bob = browser(client, "bob")
    post(bob, "/groups/night-owls/join")
    assert post(bob, topic_url + "/posts", {"body": "Halo"}).status_code == 303
    assert "Halo" in anna.get(topic_url).text
    # A topic is read under its own group only.
    post(anna, "/groups", {"name": "Other group", "privacy": "public"})
    wrong = topic_url.replace("night-owls", "other-group")
    assert anna.get(wrong).status_code == 404
    members = anna.get("/groups/night-owls/members")
    assert "Change role" in members.text
    promoted = post(anna, "/groups/night-owls/members/bob/role", {"role": "owner"})
    assert promoted.status_code == 303
    assert post(anna, "/groups/night-owls/leave").status_code == 303
    assert "Join the group" in anna.get("/groups/night-owls").text
    # The last owner cannot leave.
    assert post(bob, "/groups/night-owls/leave").status_code == 409


def test_private_and_invite_only_groups_show_strangers_nothing_inside(
    client: TestClient,
) -> None:
    anna = browser(client, "anna")
    post(anna, "/groups", {"name": "Inner circle", "privacy": "private"})
    post(anna, "/groups/inner-circle/shouts", {"body": "members-only secret"})
    post(anna, "/groups/inner-circle/topics", {"title": "Hidden topic", "body": "hush"})
    post(anna, "/groups", {"name": "Secret society", "privacy": "invite_only"})

    carol = browser(client, "carol")
    about = carol.get("/groups/inner-circle")
    assert about.status_code == 200
    assert "members-only secret" not in about.text
    assert "Hidden topic" not in about.text
    assert "Only members see" in about.text
    assert carol.get("/groups/inner-circle/members").status_code == 404
    topic_id = re.findall(r"/topics/(\d+)", anna.get("/groups/inner-circle").text)[0]
    assert carol.get(f"/groups/inner-circle/topics/{topic_id}").status_code == 404
    assert carol.get("/groups/secret-society").status_code == 404
    assert "Secret society" not in carol.get("/groups").text
    assert "Secret society" in anna.get("/groups").text
    # Asking to join, then being let in.
    assert post(carol, "/groups/inner-circle/join").status_code == 303
    assert "You asked to join" in carol.get("/groups/inner-circle").text
    assert "carol" in anna.get("/groups/inner-circle/manage").text
    assert post(anna, "/groups/inner-circle/requests/carol/approve").status_code == 303
    assert "members-only secret" in carol.get("/groups/inner-circle").text
    # An invitation makes the invite-only group visible to the invitee.
    assert post(anna, "/groups/secret-society/invitations", {"name": "carol"}).status_code == 303
    invited = carol.get("/groups/secret-society")
    assert invited.status_code == 200
    assert "Accept the invitation" in invited.text
    assert carol.get("/groups/secret-society/manage").status_code == 403


def test_group_directory_filters_by_what_groups_are_about(
    client: TestClient, register: Any
) -> None:
    anna = browser(client, "anna")
    account = register("feeder")
    ids = ok(
        client.post(
            "/api/v1/plays/batch",
            json={
                "plays": [
                    play(1714587300, {"kind": "episode", "show": "Borgen", "episode": 1}),
                    play(1714587400, track("Halo", "Beyoncé")),
                ]
            },
            headers=account.headers,
        )
    )["results"]
    episode = ok(client.get(f"/api/v1/items/{ids[0]['item_id']}"))
    show_id = episode["parent"]["id"]
    while (parent := ok(client.get(f"/api/v1/items/{show_id}"))["parent"]) is not None:
        show_id = parent["id"]  # the season's show
    form = anna.get("/groups/-/new?q=Borgen")
    assert f'value="{show_id}"' in form.text
    post(anna, "/groups", {"name": "Borgen watchers", "privacy": "public", "item_id": show_id})
    post(anna, "/groups", {"name": "Just talk", "privacy": "public"})
    tv = anna.get("/groups?about=tv").text
    assert "Borgen watchers" in tv
    assert "Just talk" not in tv
    themes = anna.get("/groups?about=theme").text
    assert "Just talk" in themes
    assert "Borgen watchers" not in themes
    assert "Borgen watchers" in anna.get("/groups?q=borgen").text
    assert anna.get("/groups?about=nonsense").status_code == 404
    taken = post(anna, "/groups", {"name": "Borgen Watchers", "privacy": "public"})
    assert taken.status_code == 409
    assert "There is a group with that name already" in taken.text


# -- walls, live rooms, feed ------------------------------------------------------------------


def test_live_room_counts_polls_and_hides_blocked_people(client: TestClient, register: Any) -> None:
    anna = browser(client, "anna")
    bob = register("bob", country="DE")
    match = {
        "kind": "match",
        "competition": "Bundesliga",
        "home": "FC Bayern",
        "away": "BVB",
        "starts_at": (datetime.now(UTC) - timedelta(minutes=20)).isoformat(),
    }
    item_id = ok(client.put("/api/v1/now-playing", json={"item": match}, headers=bob.headers))[
        "item"
    ]["id"]
    listing = anna.get("/live")
    assert f'href="/live/{item_id}"' in listing.text
    room = anna.get(f"/live/{item_id}")
    assert room.status_code == 200
    assert "1 person watching now" in room.text
    assert "Germany: 1" in room.text
    latest = int(re.search(r'data-latest="(\d+)"', room.text).group(1))  # type: ignore[union-attr]
    ok(
        client.post(
            f"/api/v1/items/{item_id}/shouts", json={"body": "GOAL " + XSS}, headers=bob.headers
        ),
        201,
    )
    update = anna.get(f"/live/{item_id}/updates", params={"since": latest}).json()
    assert update["count"] == 1
    assert "GOAL &lt;script&gt;" in update["messages"]
    assert "<script>" not in update["messages"]
    assert "1 person watching now" in update["audience"]
    # Posting from the room (as its script does) answers 201 and shows up in the next poll.
    sent = post(
        anna,
        f"/live/{item_id}/shouts",
        {"body": "what a game"},
        headers={"X-Requested-With": "fetch"},
    )
    assert sent.status_code == 201
    again = anna.get(f"/live/{item_id}/updates", params={"since": update["latest"]}).json()
    assert again["count"] == 1
    assert "what a game" in again["messages"]
    # Someone anna blocks says nothing in her room.
    ok(client.put("/api/v1/me/blocks/anna", headers=bob.headers), 204)
    assert "GOAL" not in anna.get(f"/live/{item_id}").text
    assert anna.get("/live/999999").status_code == 404


def test_wall_and_feed(client: TestClient, register: Any, admin: Account) -> None:
    anna = browser(client, "anna")
    bob = register("bob")
    anna_api = Account("anna", api_token(anna))
    befriend(client, anna_api, bob)
    ok(
        client.post(
            "/api/v1/plays/batch",
            json={
                "plays": [
                    play(int(time.time()) - 600 + i, track(f"Song {i}", "Beyoncé"))
                    for i in range(3)
                ]
            },
            headers=bob.headers,
        )
    )
    feed = anna.get("/feed")
    assert feed.status_code == 200
    assert "listened to 3 tracks by Beyoncé" in feed.text
    # Titles in the reader's language, on the feed and in the home page's activity.
    artists = ok(client.get("/api/v1/items", params={"q": "Beyoncé", "kind": "artist"}))
    ok(
        client.put(
            f"/api/v1/catalog/items/{artists['items'][0]['id']}/translations/ja",
            json={"title": "ビヨンセ"},
            headers=admin.headers,
        )
    )
    assert post(anna, "/settings/language", {"locale": "ja"}).status_code == 303
    assert "ビヨンセ" in main_of(anna.get("/feed"))
    assert "ビヨンセ" in main_of(anna.get("/"))
    assert post(anna, "/settings/language", {"locale": "en"}).status_code == 303
    assert post(anna, "/user/bob/shouts", {"body": "hello " + XSS}).status_code == 303
    wall = anna.get("/user/bob/shouts")
    assert "hello &lt;script&gt;" in wall.text
    assert TestClient(client.app).get("/feed", follow_redirects=False).status_code == 303


# -- settings ---------------------------------------------------------------------------------


def test_privacy_settings_hide_the_profile_from_strangers(client: TestClient) -> None:
    anna = browser(client, "anna")
    stranger = TestClient(client.app)
    assert stranger.get("/user/anna").status_code == 200
    saved = post(anna, "/settings/privacy", {"visibility": "private", "incognito": "true"})
    assert saved.headers["location"] == "/settings/privacy?saved=1"
    assert (
        'value="private" aria-describedby="visibility-private" checked'
        in anna.get("/settings/privacy").text
    )
    for path in ["/user/anna", "/user/anna/shouts"]:
        hidden = stranger.get(path)
        assert hidden.status_code == 404, path
        assert "anna" not in main_of(hidden)
    assert anna.get("/user/anna").status_code == 200
    me = ok(client.get("/api/v1/me", headers={"Authorization": f"Bearer {api_token(anna)}"}))
    assert (me["visibility"], me["incognito"], me["hide_recent_activity"]) == (
        "private",
        True,
        False,
    )


def test_profile_settings_and_language(client: TestClient) -> None:
    anna = browser(client, "anna")
    bad = post(anna, "/settings/profile", {"timezone": "Mars/Olympus", "locale": "en"})
    assert bad.status_code == 422
    assert "Choose a country, a time zone and a language" in bad.text
    good = post(
        anna,
        "/settings/profile",
        {"display_name": "Anna <B>", "country": "PT", "timezone": "Europe/Lisbon", "locale": "pt"},
    )
    assert good.status_code == 303
    page = anna.get("/settings")
    assert '<html lang="pt"' in page.text
    assert "Anna &lt;B&gt;" in page.text
    assert '<option value="PT" selected>Portugal</option>' in page.text


def test_advertising_consent_is_explained_and_opting_out_is_immediate(
    client: TestClient,
) -> None:
    anna = browser(client, "anna")
    page = anna.get("/settings/advertising")
    assert "Purpose 3" in page.text
    assert "Purpose 4" in page.text
    assert "You are shown no personalised ads" in page.text
    post(
        anna,
        "/settings/advertising",
        {"profiling": "true", "personalised_ads": "true", "declared_adult": "true"},
    )
    bearer = {"Authorization": f"Bearer {api_token(anna)}"}
    consent = ok(client.get("/api/v1/users/anna/consent", headers=bearer))
    assert consent["targetable"] is True
    assert "You may be shown personalised ads." in anna.get("/settings/advertising").text
    post(anna, "/settings/advertising", {"personalised_ads": "true", "declared_adult": "true"})
    consent = ok(client.get("/api/v1/users/anna/consent", headers=bearer))
    assert (consent["profiling"], consent["targetable"]) == (False, False)
    audit = ok(client.get("/api/v1/users/anna/consent/audit", headers=bearer))
    assert [e["source"] for e in audit] == ["settings", "settings"]


def test_tokens_are_shown_once_work_and_revoke(client: TestClient) -> None:
    anna = browser(client, "anna")
    created = post(anna, "/settings/tokens", {"name": "mpdscribble at home"})
    secret = re.search(r'id="new-token" class="secret">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    assert f"password = {secret}" in created.text  # the mpdscribble section carries it
    assert "http://testserver/2.0/" in created.text
    assert "http://testserver/1/" in created.text
    assert "http://testserver/?hs=true" in created.text
    listed = anna.get("/settings/tokens")
    assert secret not in listed.text  # shown once only
    assert "mpdscribble at home" in listed.text
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token_id = re.findall(r'action="/settings/tokens/(\d+)/revoke"', listed.text)[0]
    assert post(anna, f"/settings/tokens/{token_id}/revoke").status_code == 303
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    bob = browser(client, "bob")
    assert post(bob, f"/settings/tokens/{token_id}/revoke").status_code == 404


def test_connected_apps_are_listed_and_disconnect(client: TestClient, runtime: Runtime) -> None:
    anna = browser(client, "anna")
    with runtime.db.unit_of_work(write=True) as session:
        svc = runtime.services(session)
        user = svc.accounts.get_by_name("anna")
        key = ApiKeyService(session).create("Pano Scrobbler")
        svc.accounts.create_token(user, key.key, kind=TokenKind.LASTFM_SESSION, secret="a" * 32)
        svc.accounts.create_token(user, "f" * 32, kind=TokenKind.LASTFM_SESSION, secret="b" * 32)

    def apps() -> str:
        page = anna.get("/settings/tokens").text
        personal = page.split('id="tokens-heading"')[1].split("</section>")[0]
        assert "Pano Scrobbler" not in personal  # apps are listed apart from tokens
        return str(page.split('id="apps-heading"')[1].split("</section>")[0])

    listed = apps()
    assert "Pano Scrobbler" in listed
    assert "An app with the key ffffffff…" in listed
    ids = re.findall(r'action="/settings/tokens/(\d+)/revoke"', listed)
    assert len(ids) == 2
    assert post(anna, f"/settings/tokens/{ids[0]}/revoke").status_code == 303
    assert "Pano Scrobbler" not in apps()
    with runtime.db.unit_of_work() as session:
        accounts = runtime.services(session).accounts
        with pytest.raises(NotAuthenticated):
            accounts.authenticate_token("a" * 32, kinds=(TokenKind.LASTFM_SESSION,))
        other = accounts.authenticate_token("b" * 32, kinds=(TokenKind.LASTFM_SESSION,))
        assert other.name == "anna"


def _wait_for_import(web: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        state: dict[str, Any] = web.get(location + "/progress").json()
        if state["state"] != "running":
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.2)


def test_import_runs_as_a_job_with_progress_and_report(client: TestClient) -> None:
    anna = browser(client, "anna")
    rows = "".join(
        f"2024-05-0{1 + i % 5}T20:0{i % 10}:00+02:00,Artist {i % 3},Song {i}\n" for i in range(40)
    )
    data = ("played_at,artist,title\n" + rows + "not a time,Bad,Row\n").encode()
    started = post(
        anna,
        "/settings/import",
        {"format": "auto"},
        files={"file": ("my plays.csv", data, "text/csv")},
    )
    assert started.status_code == 303
    location = started.headers["location"]
    assert re.fullmatch(r"/settings/import/[\w-]+", location)
    state = _wait_for_import(anna, location)
    assert (state["state"], state["read"], state["accepted"], state["rejected"]) == (
        "done",
        41,
        40,
        1,
    )
    report = anna.get(location)
    assert "The import is complete." in report.text
    assert "line 42" in report.text  # the rejected row, with its line
    assert "my plays.csv" in report.text
    # The same file again: every good row is a duplicate.
    again = post(
        anna,
        "/settings/import",
        {"format": "csv"},
        files={"file": ("my plays.csv", data, "text/csv")},
    )
    state = _wait_for_import(anna, again.headers["location"])
    assert (state["accepted"], state["duplicate"], state["rejected"]) == (0, 40, 1)
    # Someone else's job is as missing as one that never was.
    bob = browser(client, "bob")
    assert bob.get(location).status_code == 404
    unreadable = post(
        anna,
        "/settings/import",
        {"format": "csv"},
        files={"file": ("x.csv", b"artist,title\nA,B\n", "text/csv")},
    )
    state = _wait_for_import(anna, unreadable.headers["location"])
    assert state["state"] == "failed"
    assert "This file cannot be imported" in anna.get(unreadable.headers["location"]).text


def test_export_downloads_the_users_data(client: TestClient) -> None:
    anna = browser(client, "anna")
    token = api_token(anna)
    client.post(
        "/api/v1/plays",
        json=play(1714587300, track("Halo", "Beyoncé")),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert "Everything, as JSON lines" in anna.get("/settings/export").text
    download = anna.get("/settings/export/download", params={"format": "jsonl"})
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert "tastegraph-anna-" in download.headers["content-disposition"]
    assert '"Halo"' in download.text
    assert token not in download.text
    csv = anna.get("/settings/export/download", params={"format": "csv"})
    assert csv.text.startswith("record,")
    assert anna.get("/settings/export/download", params={"format": "xml"}).status_code == 404
    stranger = TestClient(client.app)
    assert stranger.get("/settings/export/download", follow_redirects=False).status_code == 303


def test_password_change_keeps_this_browser_and_ends_the_other_sessions(
    client: TestClient,
) -> None:
    anna = browser(client, "anna")
    elsewhere = browser(client, "anna", new=False)
    scrobbler = api_token(anna)
    api_login = ok(
        client.post("/api/v1/auth/login", json={"name": "anna", "password": "correct horse"})
    )["token"]
    form = anna.get("/settings/password")
    every_post_form_has_the_token(form)
    assert 'autocomplete="current-password"' in form.text
    assert form.text.count('autocomplete="new-password"') == 2
    attempts = [
        ("wrong horse", "battery staple", "battery staple", "That is not your current password."),
        (
            "correct horse",
            "battery staple",
            "battery stapler",
            "The new password and its confirmation differ.",
        ),
        ("correct horse", "short", "short", "Choose a password of at least 8 characters."),
    ]
    for current, new, confirm, message in attempts:
        refused = post(
            anna,
            "/settings/password",
            {"current_password": current, "new_password": new, "confirm_password": confirm},
            token_from="/settings/password",
        )
        assert refused.status_code == 422, message
        assert f'<p class="error" role="alert">{message}</p>' in refused.text
    assert elsewhere.get("/settings", follow_redirects=False).status_code == 200  # unchanged

    changed = post(
        anna,
        "/settings/password",
        {
            "current_password": "correct horse",
            "new_password": "battery staple",
            "confirm_password": "battery staple",
        },
    )
    assert changed.status_code == 303
    assert changed.headers["location"] == "/settings/password?saved=1"
    assert "Your password is changed." in anna.get(changed.headers["location"]).text
    # This browser stays signed in (its cookie follows the new hash); the other one is out,
    # and so is the API log-in; the player's personal token still scrobbles.
    assert anna.get("/settings", follow_redirects=False).status_code == 200
    assert elsewhere.get("/settings", follow_redirects=False).status_code == 303
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {api_login}"}).status_code
        == 401
    )
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {scrobbler}"}).status_code
        == 200
    )
    old = client.post("/api/v1/auth/login", json={"name": "anna", "password": "correct horse"})
    assert old.status_code == 401
    log_in(TestClient(client.app), "anna", "battery staple")
    assert post(anna, "/settings/language", {"locale": "fr"}).status_code == 303
    assert "Mot de passe actuel" in anna.get("/settings/password").text


def test_account_deletion_needs_the_password_and_erases(client: TestClient) -> None:
    anna = browser(client, "anna")
    token = api_token(anna)
    wrong = post(
        anna,
        "/settings/delete",
        {"password": "not it", "confirm": "true"},
        token_from="/settings/delete",
    )
    assert wrong.status_code == 422
    assert "That is not your password." in wrong.text
    unconfirmed = post(anna, "/settings/delete", {"password": "correct horse"})
    assert unconfirmed.status_code == 422
    gone = post(anna, "/settings/delete", {"password": "correct horse", "confirm": "true"})
    assert gone.status_code == 200
    assert "Your account is deleted" in gone.text
    assert "Log out" not in gone.text
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/user/anna").status_code == 404
    assert anna.get("/settings", follow_redirects=False).status_code == 303
    # The goodbye page's forms work for the now signed-out browser.
    token_field = re.search(r'name="csrf_token" value="([^"]+)"', gone.text).group(1)  # type: ignore[union-attr]
    switched = anna.post(
        "/settings/language",
        data={"locale": "fr", "next": "/", "csrf_token": token_field},
        follow_redirects=False,
    )
    assert switched.status_code == 303


def test_notifications_page_answers_friend_requests(client: TestClient, register: Any) -> None:
    anna = browser(client, "anna")
    bob = register("bob")
    ok(client.post("/api/v1/me/friend-requests", json={"name": "anna"}, headers=bob.headers), 201)
    page = anna.get("/notifications")
    assert "bob</a> wants to be your friend" in page.text
    assert post(anna, "/notifications/friends/bob/accept").status_code == 303
    friends = ok(client.get("/api/v1/me/friends", headers=bob.headers))
    assert [f["name"] for f in friends["people"]] == ["anna"]
    assert "wants to be your friend" not in anna.get("/notifications").text
    assert anna.get("/notifications?unread=true").status_code == 200
