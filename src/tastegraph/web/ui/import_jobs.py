"""Imports started from the settings page: each runs in a thread of the server process, through
the same code as ``tastegraph import`` (``portability.importing``: validation and
``IngestService.record`` in batches of 1,000, each its own transaction), while the browser
polls its progress.

Jobs live in the memory of the process that runs them (``app.state.import_jobs``), for
``KEEP_SECONDS`` after they end; a server restart forgets them (the batches stored stay
stored, and running the import again counts them as duplicates). Behind several server
processes, the job page must reach the process that started the job (sticky sessions).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from tastegraph.portability.formats.base import Reading, UnreadableFile
from tastegraph.portability.importing import Report, run_import
from tastegraph.runtime import Runtime

_log = logging.getLogger(__name__)

KEEP_SECONDS = 6 * 3600
"""How long a finished job's report stays readable."""
SOURCE = "import"
"""The client recorded on imported plays that name none (as the command line does)."""


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass
class ImportJob:
    id: str
    user_id: int
    user_name: str
    filename: str
    fmt: str
    path: Path
    timezone: str
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    state: JobState = JobState.RUNNING
    error: str | None = None
    """Why the file cannot be imported (the reader's words), when it failed."""
    report: Report = field(default_factory=Report)
    reading: Reading | None = None

    @property
    def percent(self) -> int | None:
        """How far the reading got, 0-100; None while unknown."""
        if self.state is not JobState.RUNNING:
            return 100
        reading = self.reading
        if reading is None or not reading.total:
            return None
        return min(99, int(100 * reading.position() / reading.total))


class ImportJobs:
    """The import jobs of one server process."""

    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()

    def start(
        self,
        runtime: Runtime,
        *,
        user_id: int,
        user_name: str,
        timezone: str,
        path: Path,
        filename: str,
        fmt: str,
    ) -> ImportJob:
        job = ImportJob(
            id=secrets.token_urlsafe(12),
            user_id=user_id,
            user_name=user_name,
            filename=filename,
            fmt=fmt,
            path=path,
            timezone=timezone,
        )
        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job
        thread = threading.Thread(
            target=self._run, args=(runtime, job), name=f"import-{job.id}", daemon=True
        )
        thread.start()
        return job

    def get(self, job_id: str, user_id: int) -> ImportJob | None:
        """The job, if it is this user's (anyone else's is as missing)."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.user_id == user_id else None

    def of_user(self, user_id: int) -> list[ImportJob]:
        """The user's jobs, newest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.user_id == user_id]
        return sorted(jobs, key=lambda j: j.started_at, reverse=True)

    def running_for(self, user_id: int) -> ImportJob | None:
        return next((j for j in self.of_user(user_id) if j.state is JobState.RUNNING), None)

    def _forget_old(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for job_id in [
            j.id for j in self._jobs.values() if j.ended_at is not None and j.ended_at < cutoff
        ]:
            del self._jobs[job_id]

    @staticmethod
    def _run(runtime: Runtime, job: ImportJob) -> None:
        reading = Reading(job.timezone)
        job.reading = reading
        try:
            run_import(
                runtime,
                user=job.user_name,
                path=job.path,
                fmt=job.fmt,
                reading=reading,
                source=SOURCE,
                result=job.report,
            )
            # No fold here: the server's chart folder counts the new plays within a second.
            job.state = JobState.DONE
        except UnreadableFile as exc:
            job.error = str(exc)
            job.state = JobState.FAILED
        except Exception as exc:  # the job must end, and say so, whatever went wrong
            _log.exception("import %s of %s failed", job.id, job.user_name)
            job.error = type(exc).__name__
            job.report.interrupted = True
            job.state = JobState.FAILED
        finally:
            job.ended_at = time.time()
            job.path.unlink(missing_ok=True)
