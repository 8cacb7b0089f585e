"""The composition root: what one process holds, and how services are wired per unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from tastegraph.accounts.services import AccountService
from tastegraph.catalog.resolver import ResolutionCache
from tastegraph.catalog.services import CatalogService
from tastegraph.config import Settings
from tastegraph.ingest.services import IngestLimits, IngestService, move_plays_on_merge
from tastegraph.ratelimit import RateLimiter, make_rate_limiter
from tastegraph.social.services import SocialService
from tastegraph.stats.services import StatsService
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


@dataclass
class Runtime:
    """Everything a process (server, job, CLI command) holds for its lifetime."""

    settings: Settings
    db: Database
    rate_limiter: RateLimiter
    resolution_cache: ResolutionCache = field(default_factory=ResolutionCache)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        limiter = make_rate_limiter(
            settings.redis_url, settings.rate_limit, settings.rate_limit_window_seconds
        )
        return cls(settings=settings, db=Database(settings), rate_limiter=limiter)

    def services(self, session: Session) -> Services:
        catalog = CatalogService(session, self.resolution_cache, merge_hooks=(move_plays_on_merge,))
        limits = IngestLimits(
            future_skew=timedelta(seconds=self.settings.future_skew_seconds),
            now_playing_max=timedelta(seconds=self.settings.now_playing_max_seconds),
        )
        return Services(
            session=session,
            accounts=AccountService(session),
            catalog=catalog,
            ingest=IngestService(session, catalog, limits=limits),
            social=SocialService(session),
            stats=StatsService(session),
        )

    def close(self) -> None:
        self.db.dispose()
