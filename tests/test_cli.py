"""The command line as an operator meets it: help, settings, accounts, migrations, errors.

Key flows run ``python -m tastegraph`` in a child process; the many small error cases use the
CliRunner in this process. Every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tastegraph import migrations
from tests.cli_helpers import (
    assert_clean_exit,
    cli_env,
    dev_env,
    empty_database,
    free_port,
    invoke,
    run_cli,
)
from tests.conftest import play, track

COMMANDS = [
    [],
    ["serve"],
    ["demo"],
    ["import"],
    ["export"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["users"],
    ["users", "create"],
]


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of each backend that no migration has touched."""
    with empty_database(database_url, tmp_path) as url:
        yield url


# -- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "tastegraph")
def test_help_of_every_command(command: list[str]) -> None:
    # No settings at all: help must not need a database or a secret key.
    result = invoke([*command, "--help"], {})
    assert_clean_exit(result, 0)
    assert "Usage" in result.stdout


def test_help_in_a_real_process() -> None:
    result = run_cli("--help", env=cli_env(None))
    assert_clean_exit(result, 0)
    for command in ("serve", "demo", "import", "export", "db", "users"):
        assert command in result.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "tastegraph"
    assert script.exists() or shutil.which("tastegraph"), "the tastegraph script is missing"


def test_no_arguments_shows_help() -> None:
    result = invoke([], {})
    assert "Usage" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", [["serve"], ["demo"]])
@pytest.mark.parametrize("port", ["0", "65536", "99999", "http"])
def test_a_port_out_of_range_is_a_usage_error(command: list[str], port: str) -> None:
    # 99999 would otherwise bind to 99999 % 65536 while announcing 99999.
    result = invoke([*command, "--port", port], {"TASTEGRAPH_MODE": "dev"})
    assert result.exit_code == 2
    assert "--port" in result.stderr


# -- settings ---------------------------------------------------------------------------------


def test_production_refuses_the_default_secret_key(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'x.db'}")
    del env["TASTEGRAPH_MODE"]  # production is the default
    result = run_cli("db", "current", env=env)
    message = assert_clean_exit(result, 2)
    assert "TASTEGRAPH_SECRET_KEY" in message
    assert "TASTEGRAPH_MODE=dev" in message
    assert "pydantic" not in message  # the operator's words, not the library's
    assert not (tmp_path / "x.db").exists(), "nothing may run with an insecure configuration"


@pytest.mark.parametrize(
    "command", [["serve"], ["users", "create", "operator1", "--password", "p" * 8]]
)
def test_production_refusal_covers_every_command(tmp_path: Path, command: list[str]) -> None:
    result = invoke(command, {"TASTEGRAPH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert "TASTEGRAPH_SECRET_KEY" in assert_clean_exit(result, 2)


def test_production_with_a_secret_key_starts(tmp_path: Path) -> None:
    env = {
        "TASTEGRAPH_MODE": "production",
        "TASTEGRAPH_SECRET_KEY": "a-long-and-random-secret-key-for-tests",
        "TASTEGRAPH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    result = invoke(["db", "current"], env)
    assert_clean_exit(result, 0)
    assert "database: empty" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TASTEGRAPH_MODE", "staging"), ("TASTEGRAPH_MAX_BATCH_PLAYS", "0")],
)
def test_invalid_setting_is_named(tmp_path: Path, variable: str, value: str) -> None:
    env = {**dev_env(f"sqlite:///{tmp_path / 'x.db'}"), variable: value}
    result = invoke(["db", "current"], env)
    assert variable in assert_clean_exit(result, 2)


@pytest.mark.parametrize(
    "url", ["nonsense", "mysteriousdb://host/db"], ids=["unparseable", "unknown-dialect"]
)
def test_invalid_database_url_is_named(url: str) -> None:
    result = invoke(["db", "current"], {"TASTEGRAPH_MODE": "dev", "TASTEGRAPH_DATABASE_URL": url})
    assert "TASTEGRAPH_DATABASE_URL" in assert_clean_exit(result, 2)


def test_unreachable_database_is_a_message() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{port}/tastegraph"
    result = invoke(["db", "current"], dev_env(url))
    message = assert_clean_exit(result, 1)
    assert "Database error" in message
    assert f"127.0.0.1:{port}" in message
    assert "hunter2" not in message, "the password must not be printed"


# -- migrations -------------------------------------------------------------------------------


def test_serve_refuses_an_unmigrated_database(empty_database_url: str) -> None:
    env = cli_env(empty_database_url)
    refused = run_cli("serve", "--port", str(free_port()), env=env, timeout=30)
    message = assert_clean_exit(refused, 1)
    assert "tastegraph db upgrade" in message
    assert "not migrated" in message

    # The other commands that need the schema refuse the same way, before touching anything.
    for command in (["users", "create", "alice", "--password", "correct horse"],):
        result = invoke(command, dev_env(empty_database_url))
        assert "tastegraph db upgrade" in assert_clean_exit(result, 1)

    assert "database: empty" in invoke(["db", "current"], dev_env(empty_database_url)).stdout
    upgraded = invoke(["db", "upgrade"], dev_env(empty_database_url))
    assert_clean_exit(upgraded, 0)
    head = migrations.head_revision()
    assert f"database at revision {head}" in upgraded.stdout
    current = invoke(["db", "current"], dev_env(empty_database_url))
    assert f"database: {head}" in current.stdout
    # Upgrading again is harmless.
    assert_clean_exit(invoke(["db", "upgrade"], dev_env(empty_database_url)), 0)


# -- users ------------------------------------------------------------------------------------


def test_users_create_prints_a_working_token(database_url: str, client: TestClient) -> None:
    result = run_cli(
        "users",
        "create",
        "Zoë",
        "--password",
        "correct horse",
        "--country",
        "at",
        "--email",
        "zoe@example.org",
        "--json",
        env=cli_env(database_url),
    )
    assert_clean_exit(result, 0)
    created = json.loads(result.stdout)
    assert created["name"] == "Zoë"
    assert created["country"] == "AT"
    assert created["timezone"] == "Europe/Vienna"  # the country's zone by default
    assert created["admin"] is False
    headers = {"Authorization": f"Bearer {created['token']}"}

    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["name"] == "Zoë"
    assert me.json()["email"] == "zoe@example.org"
    submitted = client.post(
        "/api/v1/plays", json=play(1_714_587_300, track("Halo", "Beyoncé")), headers=headers
    )
    assert submitted.status_code == 201, submitted.text
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401

    # The password works too.
    login = client.post("/api/v1/auth/login", json={"name": "zoë", "password": "correct horse"})
    assert login.status_code == 200, login.text


def test_users_create_plain_output_and_admin(database_url: str, client: TestClient) -> None:
    result = invoke(
        ["users", "create", "root.ops", "--password", "correct horse", "--admin"],
        dev_env(database_url),
    )
    assert_clean_exit(result, 0)
    assert result.stdout.startswith("created root.ops (UTC); API token: ")
    token = result.stdout.rsplit(" ", 1)[1].strip()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["is_admin"] is True


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--country", "XX"], "country"),
        (["--timezone", "Mars/Olympus_Mons"], "timezone"),
        (["--timezone", "Europe/Berlin/../../etc"], "timezone"),
        (["--email", "not-an-address"], "email"),
        (["--locale", "!!"], "locale"),
    ],
)
def test_users_create_rejects_bad_fields(tmp_path: Path, args: list[str], field: str) -> None:
    # Input is checked before the database is opened: these need no backend.
    database = tmp_path / "never-created.db"
    result = invoke(
        ["users", "create", "alice", "--password", "correct horse", *args],
        dev_env(f"sqlite:///{database}"),
    )
    message = assert_clean_exit(result, 2)
    assert f"Invalid user: {field}:" in message
    assert result.stdout == ""
    assert not database.exists()


@pytest.mark.parametrize(
    ("name", "password", "expected"),
    [
        ("alice", "short", "password: String should have at least 8 characters"),
        ("a", "correct horse", "name: "),
        ("admin", "correct horse", "is reserved"),
        ("[bold]x[/bold]", "correct horse", "name: "),
    ],
)
def test_users_create_rejects_bad_names_and_passwords(
    tmp_path: Path, name: str, password: str, expected: str
) -> None:
    database = tmp_path / "never-created.db"
    result = invoke(
        ["users", "create", name, "--password", password], dev_env(f"sqlite:///{database}")
    )
    assert expected in assert_clean_exit(result, 2)
    assert not database.exists()


def test_users_create_refuses_a_taken_name_in_any_case(database_url: str) -> None:
    env = dev_env(database_url)
    assert_clean_exit(invoke(["users", "create", "alice", "--password", "correct horse"], env), 0)
    for name in ("Alice", "ALICE", "alice"):
        again = invoke(["users", "create", name, "--password", "another password"], env)
        message = assert_clean_exit(again, 1)
        assert "taken" in message
        assert name in message
        assert again.stdout == ""


def test_missing_password_is_a_usage_error(database_url: str) -> None:
    result = invoke(["users", "create", "alice"], dev_env(database_url))
    assert result.exit_code == 2
    assert "--password" in result.stderr


# -- export and import errors ------------------------------------------------------------------


def test_export_and_import_name_an_unknown_user(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "plays.csv"
    source.write_text("played_at,artist,title\n2024-05-01 20:15,Beyoncé,Halo\n", encoding="utf-8")
    env = dev_env(database_url)
    for command in (
        ["export", "--user", "nobody"],
        ["import", str(source), "--user", "nobody"],
        # Text that looks like console markup is printed as it is, never interpreted.
        ["export", "--user", "[/bold]nobody[red]"],
    ):
        result = invoke(command, env)
        message = assert_clean_exit(result, 1)
        assert "There is no user called" in message
        assert command[command.index("--user") + 1] in message


def test_export_refuses_an_unknown_format_and_an_unwritable_file(
    database_url: str, tmp_path: Path
) -> None:
    env = dev_env(database_url)
    assert_clean_exit(invoke(["users", "create", "alice", "--password", "correct horse"], env), 0)
    bad = invoke(["export", "--user", "alice", "--format", "xml"], env)
    assert "xml" in assert_clean_exit(bad, 2)
    target = tmp_path / "missing-directory" / "alice.jsonl"
    unwritable = invoke(["export", "--user", "alice", "--output", str(target)], env)
    assert "Cannot write the export" in assert_clean_exit(unwritable, 1)
    assert not target.parent.exists()


def test_import_refuses_a_missing_file_and_an_unknown_format(
    database_url: str, tmp_path: Path
) -> None:
    env = dev_env(database_url)
    missing = invoke(["import", str(tmp_path / "nope.csv"), "--user", "alice"], env)
    assert missing.exit_code == 2
    assert "nope.csv" in missing.stderr
    source = tmp_path / "plays.txt"
    source.write_text("played_at,artist,title\n", encoding="utf-8")
    assert_clean_exit(invoke(["users", "create", "alice", "--password", "correct horse"], env), 0)
    bad = invoke(["import", str(source), "--user", "alice", "--format", "xlsx"], env)
    assert "xlsx" in assert_clean_exit(bad, 2)
