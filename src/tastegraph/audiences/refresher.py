"""The background refresher: re-evaluates materialised segments every few seconds in a thread.

The server starts one in its lifespan (``TASTEGRAPH_AUDIENCE_REFRESH_SECONDS``, 30 by default,
0 = off), so a rule segment is at most about a minute stale. Several server processes may each
run one: a refresh is a diff inside one transaction, so running it twice changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

_log = logging.getLogger(__name__)


class Refresher:
    """Calls ``job`` every ``interval`` seconds until stopped; failures are logged, not fatal."""

    def __init__(self, job: Callable[[], object], interval: float) -> None:
        self.job = job
        self.interval = interval
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None or self.interval <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="audience-refresher", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.job()
                self.runs += 1
            except Exception:  # a bad tick must not end the loop; the next one retries
                _log.exception("audience refresh failed")

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
