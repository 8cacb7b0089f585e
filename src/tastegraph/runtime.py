"""The composition root: what one process holds, and how services are wired per unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tastegraph.accounts.services import AccountService
from tastegraph.catalog.resolver import ResolutionCache
from tastegraph.catalog.services import CatalogService
from tastegraph.config import Settings
from tastegraph.ingest.presence import PresenceService
from tastegraph.ingest.progress import ProgressService, move_playbacks_on_merge
from tastegraph.ingest.services import IngestLimits, IngestService, move_plays_on_merge
from tastegraph.ratelimit import RateLimiter, make_rate_limiter
from tastegraph.social.services import SocialService
from tastegraph.stats.services import StatsService
from tastegraph.storage.base import utcnow
from tastegraph.storage.database import Database


@dataclass
class Services:
    """The services of one unit of work, sharing its session."""

    session: Session
    accounts: AccountService
    catalog: CatalogService
    ingest: IngestService
    social: SocialService
    stats: StatsService
    progress: ProgressService
    presence: PresenceService


@dataclass
class Runtime:
    """Everything a process (server, job, CLI command) holds for its lifetime."""

    settings: Settings
    db: Database
    rate_limiter: RateLimiter
    resolution_cache: ResolutionCache = field(default_factory=ResolutionCache)
    clock: Callable[[], datetime] = utcnow
    """What time it is for ingest, progress and presence; tests set a controllable one."""

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        limiter = make_rate_limiter(
            settings.redis_url, settings.rate_limit, settings.rate_limit_window_seconds
        )
        return cls(settings=settings, db=Database(settings), rate_limiter=limiter)

    def services(self, session: Session) -> Services:
        catalog = CatalogService(
            session,
            self.resolution_cache,
            merge_hooks=(move_plays_on_merge, move_playbacks_on_merge),
        )
        limits = IngestLimits(
            future_skew=timedelta(seconds=self.settings.future_skew_seconds),
            now_playing_max=timedelta(seconds=self.settings.now_playing_max_seconds),
        )
        ingest = IngestService(session, catalog, limits=limits, clock=self.clock)
        return Services(
            session=session,
            accounts=AccountService(session),
            catalog=catalog,
            ingest=ingest,
            social=SocialService(session),
            stats=StatsService(session),
            progress=ProgressService(session, ingest, catalog, clock=self.clock),
            presence=PresenceService(session, clock=self.clock),
        )

    def close(self) -> None:
        self.db.dispose()
