"""The real thing, when it is installed: MPD plays a tagged file, mpdscribble scrobbles it here.

Optional: it runs only where the ``mpd`` and ``mpdscribble`` binaries exist (Debian packages
of those names) and skips with the reason elsewhere; CI installs no system packages. The
raw-socket tests in test_audioscrobbler.py replay the same conversation byte for byte.
It plays for real, so it takes about twenty seconds: mpdscribble only submits a song that
played for more than half its length (at least 30 s long), timed by its own clock.
"""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.test_audioscrobbler import _session_kind_fits

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("mpd") is None or shutil.which("mpdscribble") is None,
        reason="needs the mpd and mpdscribble binaries (Debian packages mpd, mpdscribble)",
    ),
]

SONG_SECONDS = 31


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tagged_wav(path: Path, *, artist: str, title: str, album: str) -> None:
    """Silence, 8 kHz mono 8-bit, with a RIFF INFO chunk that libsndfile reads as tags."""
    rate, frames = 8000, 8000 * SONG_SECONDS

    def chunk(name: bytes, data: bytes) -> bytes:
        pad = b"\0" if len(data) % 2 else b""
        return name + struct.pack("<I", len(data)) + data + pad

    def text(value: str) -> bytes:
        return value.encode() + b"\0"

    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    info = b"INFO" + chunk(b"IART", text(artist)) + chunk(b"INAM", text(title))
    info += chunk(b"IPRD", text(album))
    body = b"WAVE" + chunk(b"fmt ", fmt) + chunk(b"LIST", info) + chunk(b"data", b"\x80" * frames)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


class Mpd:
    """Just enough of MPD's text protocol to update, queue and play."""

    def __init__(self, port: int) -> None:
        self.port = port

    def command(self, *lines: str) -> str:
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            stream = sock.makefile("rwb")
            assert stream.readline().startswith(b"OK MPD")
            reply = ""
            for line in lines:
                stream.write(line.encode() + b"\n")
                stream.flush()
                while True:
                    got = stream.readline().decode()
                    assert not got.startswith("ACK"), got
                    if got == "OK\n":
                        break
                    reply += got
            return reply


def _wait(predicate: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_mpd_and_mpdscribble_scrobble_here(
    live_server: str,
    runtime: Any,
    client: TestClient,
    alice: Account,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    if not _session_kind_fits(runtime):
        pytest.skip("api_tokens.kind is VARCHAR(16): Audioscrobbler sessions need a migration")
    music = tmp_path / "music"
    music.mkdir()
    (tmp_path / "playlists").mkdir()
    _tagged_wav(music / "song.wav", artist="Sigur Rós", title="Hoppípolla", album="Takk…")
    mpd_port = _free_port()
    (tmp_path / "mpd.conf").write_text(
        f'music_directory "{music}"\n'
        f'playlist_directory "{tmp_path / "playlists"}"\n'
        f'db_file "{tmp_path / "database"}"\n'
        f'log_file "{tmp_path / "mpd.log"}"\n'
        'bind_to_address "127.0.0.1"\n'
        f'port "{mpd_port}"\n'
        'audio_output {\n type "null"\n name "silence"\n mixer_type "none"\n}\n'
    )
    processes.append(
        subprocess.Popen(
            ["mpd", "--no-daemon", str(tmp_path / "mpd.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    mpd = Mpd(mpd_port)

    def mpd_up() -> bool:
        try:
            mpd.command("ping")
        except OSError:
            return False
        return True

    _wait(mpd_up, 15, "mpd to listen")
    mpd.command("update")
    _wait(lambda: "song.wav" in mpd.command("listall"), 15, "mpd to index the song")

    (tmp_path / "mpdscribble.conf").write_text(
        f"host = 127.0.0.1\nport = {mpd_port}\nverbose = 2\nlog = {tmp_path / 'scribble.log'}\n"
        f"\n[tastegraph]\nurl = {live_server}/\nusername = {alice.name}\n"
        f"password = {alice.token}\njournal = {tmp_path / 'journal'}\n"
    )
    processes.append(
        subprocess.Popen(
            ["mpdscribble", "--no-daemon", "--conf", str(tmp_path / "mpdscribble.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    log = tmp_path / "scribble.log"
    _wait(lambda: log.exists() and "handshake successful" in log.read_text(), 20, "the handshake")

    mpd.command("add song.wav", "play")

    def now_playing() -> Any:
        response = client.get(f"/api/v1/users/{alice.name}/now-playing")
        return response.json() if response.status_code == 200 else None

    now = _wait(now_playing, 15, "now playing")
    assert (now["item"]["title"], now["item"]["context"]) == ("Hoppípolla", "Sigur Rós")
    assert now["source"] == "audioscrobbler:mdc"
    assert now["item"]["url"]

    time.sleep(SONG_SECONDS / 2 + 2)  # past half the song, by mpdscribble's own clock
    mpd.command("stop")

    def plays() -> Any:
        return client.get(f"/api/v1/users/{alice.name}/plays").json()["plays"]

    stored = _wait(plays, 20, "the submission")
    assert [(p["item"]["title"], p["item"]["context"]) for p in stored] == [
        ("Hoppípolla", "Sigur Rós")
    ]
    assert stored[0]["source"] == "audioscrobbler:mdc"
    item = client.get(stored[0]["item"]["url"]).json()
    assert item["duration_seconds"] == SONG_SECONDS
    assert item["parent"]["title"] == "Takk…"
    text = log.read_text()
    assert "[tastegraph] OK" in text
    assert "rejected" not in text
