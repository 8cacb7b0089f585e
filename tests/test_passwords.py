"""Password hashing: argon2id at the configured cost; changing the cost locks nobody out."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tastegraph.accounts.models import User
from tastegraph.accounts.secrets import Passwords
from tastegraph.config import Settings
from tastegraph.runtime import Runtime
from tastegraph.web.app import create_app


def test_the_default_cost_is_rfc_9106_low_memory() -> None:
    assert Passwords().hash("correct horse").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    fields = Settings.model_fields
    assert fields["password_hash_time_cost"].default == 3
    assert fields["password_hash_memory_kib"].default == 65536
    assert fields["password_hash_parallelism"].default == 4


def test_a_hash_verifies_whatever_the_current_cost() -> None:
    cheap, dear = Passwords(time_cost=1, memory_kib=64, parallelism=1), Passwords()
    assert dear.verify(cheap.hash("correct horse"), "correct horse")
    assert cheap.verify(dear.hash("correct horse"), "correct horse")
    assert not dear.verify(cheap.hash("correct horse"), "wrong horse")
    assert not cheap.verify("not a hash", "correct horse")
    assert not cheap.verify(None, "correct horse")


def test_raising_the_cost_keeps_old_passwords_working(
    client: TestClient, runtime: Runtime, settings: Settings
) -> None:
    registered = client.post(
        "/api/v1/auth/register", json={"name": "ana", "password": "correct horse"}
    )
    assert registered.status_code == 201, registered.text
    with runtime.db.unit_of_work() as session:
        old_hash = session.scalars(select(User.password_hash).where(User.name == "ana")).one()
    assert old_hash is not None
    assert ",t=1,p=1$" in old_hash

    dearer = settings.model_copy(update={"password_hash_time_cost": 2})
    later = Runtime.create(dearer)
    try:
        with TestClient(create_app(dearer, runtime=later)) as after:
            login = after.post(
                "/api/v1/auth/login", json={"name": "ana", "password": "correct horse"}
            )
            assert login.status_code == 200, login.text
            wrong = after.post("/api/v1/auth/login", json={"name": "ana", "password": "nope"})
            assert wrong.status_code == 401
            changed = after.patch(
                "/api/v1/me",
                json={"password": "battery staple"},
                headers={"Authorization": f"Bearer {login.json()['token']}"},
            )
            assert changed.status_code == 200, changed.text
        with later.db.unit_of_work() as session:
            new_hash = session.scalars(select(User.password_hash).where(User.name == "ana")).one()
        assert new_hash is not None
        assert ",t=2,p=1$" in new_hash
    finally:
        later.close()
