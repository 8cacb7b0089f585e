"""The server's folder: counts new plays into the chart rollups every second, in a thread.

Charts are exact whether or not it runs (they count unfolded plays from the log); it keeps
them fast. Several server processes may each run one: folds take turns (``rollups.fold``).
"""

from __future__ import annotations

import logging
import threading

from tastegraph.stats.rollups import fold
from tastegraph.storage.database import Database

_log = logging.getLogger(__name__)


class Folder:
    """Folds every ``interval`` seconds until stopped; a failed fold is logged and retried."""

    def __init__(self, database: Database, interval: float) -> None:
        self.database = database
        self.interval = interval
        self.folded = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None or self.interval <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="chart-folder", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.folded += fold(self.database)
            except Exception:  # the next tick retries
                _log.exception("folding plays into the chart rollups failed")

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
