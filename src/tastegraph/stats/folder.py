"""The server's folder: counts new plays into the chart rollups every second, in a thread.

Charts are exact whether or not it runs (they count unfolded plays from the log); it keeps
them fast. Several server processes may each run one: folds take turns (``rollups.fold``).
"""

from __future__ import annotations

from tastegraph.periodic import Periodic
from tastegraph.stats.rollups import fold
from tastegraph.storage.database import Database


class Folder(Periodic):
    """Folds every ``interval`` seconds until stopped; ``folded`` counts the plays folded."""

    def __init__(self, database: Database, interval: float) -> None:
        super().__init__(
            self._fold,
            interval,
            name="chart-folder",
            failure="folding plays into the chart rollups failed",
            stop_timeout=60.0,
        )
        self.database = database
        self.folded = 0

    def _fold(self) -> None:
        self.folded += fold(self.database)
