"""A job a server runs every few seconds in a thread of its own, from its lifespan: the chart
folder and archiver, the audience refresher. The first run comes one interval after the
start; a failed run is logged and the next one retries; ``stop`` waits for a run in progress.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

_log = logging.getLogger(__name__)


class Periodic:
    """Calls ``job`` every ``interval`` seconds until stopped (0 or less: never)."""

    def __init__(
        self,
        job: Callable[[], object],
        interval: float,
        *,
        name: str,
        failure: str,
        stop_timeout: float = 30.0,
    ) -> None:
        self.job = job
        self.interval = interval
        self.name = name
        self.failure = failure
        self.stop_timeout = stop_timeout
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None or self.interval <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.job()
                self.runs += 1
            except Exception:  # a bad tick must not end the loop; the next one retries
                _log.exception(self.failure)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.stop_timeout)
            self._thread = None
