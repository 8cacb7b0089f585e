"""The composition root: what one process holds, and how services are wired per unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.accounts.secrets import Passwords
from tastegraph.accounts.services import AccountService
from tastegraph.ads.counters import make_counters
from tastegraph.ads.decision import AdEngine
from tastegraph.ads.services import AdService, works_for_an_advertiser
from tastegraph.ads.tokens import TokenSigner
from tastegraph.audiences.interest import RecsItemVectors
from tastegraph.audiences.services import AudienceService, RefreshReport
from tastegraph.catalog.availability import Availability
from tastegraph.catalog.kinds import Domain
from tastegraph.catalog.resolver import ResolutionCache
from tastegraph.catalog.services import CatalogService
from tastegraph.config import Settings
from tastegraph.ingest.presence import PresenceService
from tastegraph.ingest.progress import ProgressService, move_playbacks_on_merge
from tastegraph.ingest.services import IngestLimits, IngestService, move_plays_on_merge
from tastegraph.insights import segment_bits
from tastegraph.insights.services import InsightsService
from tastegraph.ratelimit import RateLimiter, make_rate_limiter
from tastegraph.recs.artifacts import ArtifactStore
from tastegraph.recs.errors import RecsError
from tastegraph.recs.local_share import LocalSharePolicy
from tastegraph.recs.services import RecsService
from tastegraph.recs.serving import RecsHolder
from tastegraph.social.counts import PlayCounts, count_plays_on_merge
from tastegraph.social.events import EventService
from tastegraph.social.feed import FeedService
from tastegraph.social.groups import GroupService
from tastegraph.social.notifications import NotificationService
from tastegraph.social.services import Neighbours, SocialService
from tastegraph.social.shouts import ShoutService, move_shouts_on_merge
from tastegraph.stats.rollups import Rollups
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
    recs: RecsService
    audiences: AudienceService
    notifications: NotificationService
    groups: GroupService
    shouts: ShoutService
    feed: FeedService
    events: EventService
    ads: AdService
    insights: InsightsService


@dataclass
class Runtime:
    """Everything a process (server, job, CLI command) holds for its lifetime."""

    settings: Settings
    db: Database
    rate_limiter: RateLimiter
    resolution_cache: ResolutionCache = field(default_factory=ResolutionCache)
    clock: Callable[[], datetime] = utcnow
    """What time it is for ingest, progress and presence; tests set a controllable one."""
    recs: RecsHolder = field(init=False)
    """The trained recommendation version this process answers from (loaded lazily, swapped
    when a new one is published)."""
    local_share: LocalSharePolicy = field(init=False)
    audience_managers: Callable[[User], bool] = works_for_an_advertiser
    """Who may create and read segments besides administrators (the ads area's advertisers)."""
    ads: AdEngine = field(init=False)
    """The ad decision index, the cap and budget counters and the beacon signer."""
    shout_limiter: RateLimiter = field(init=False)
    """Shouts per person per window (``Settings.shout_rate_limit``)."""
    availability: Availability = field(init=False)
    """Territorial rights compiled for fast "available here, now?" answers (catalog area)."""
    passwords: Passwords = field(init=False)

    def __post_init__(self) -> None:
        self.passwords = Passwords(
            time_cost=self.settings.password_hash_time_cost,
            memory_kib=self.settings.password_hash_memory_kib,
            parallelism=self.settings.password_hash_parallelism,
        )
        self.availability = Availability(
            self.db,
            refresh_seconds=self.settings.rights_refresh_seconds,
            required_domains=[Domain(d) for d in self.settings.rights_required_domains],
            clock=lambda: self.clock(),  # noqa: PLW0108 - tests swap self.clock later
        )
        self.shout_limiter = make_rate_limiter(
            self.settings.redis_url,
            self.settings.shout_rate_limit,
            self.settings.shout_rate_window_seconds,
        )
        store = ArtifactStore(self.settings.recs_dir, keep=self.settings.recs_keep_versions)
        self.recs = RecsHolder(
            store,
            check_seconds=self.settings.recs_reload_seconds,
            blas_threads=self.settings.recs_blas_threads,
        )
        self.local_share = LocalSharePolicy.from_settings(
            self.settings.recs_local_share, self.settings.recs_local_languages
        )
        self.ads = AdEngine(
            db=self.db,
            counters=make_counters(self.settings.redis_url, self.settings.ads_redis_prefix),
            signer=TokenSigner(self.settings.secret_key),
            clock=lambda: self.clock(),  # noqa: PLW0108 - tests swap self.clock later
            refresh_seconds=self.settings.ads_index_refresh_seconds,
            frequency_sample=self.settings.ads_frequency_sample,
            audience_lookup=lambda session, user: AudienceService(
                session, clock=self.clock
            ).segments_of(user.id),
            availability=self.availability,
        )

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        limiter = make_rate_limiter(
            settings.redis_url, settings.rate_limit, settings.rate_limit_window_seconds
        )
        return cls(settings=settings, db=Database(settings), rate_limiter=limiter)

    def services(self, session: Session) -> Services:
        rollups = Rollups(session)
        catalog = CatalogService(
            session,
            self.resolution_cache,
            restructure_hooks=(rollups.restructuring,),
            availability=self.availability,
            merge_hooks=(
                count_plays_on_merge,  # before the plays move: it counts the doubles they drop
                move_plays_on_merge,
                move_playbacks_on_merge,
                move_shouts_on_merge,
            ),
        )
        limits = IngestLimits(
            future_skew=timedelta(seconds=self.settings.future_skew_seconds),
            now_playing_max=timedelta(seconds=self.settings.now_playing_max_seconds),
        )
        ingest = IngestService(
            session,
            catalog,
            limits=limits,
            clock=self.clock,
            watchers=(rollups, PlayCounts()),
        )
        notifications = NotificationService(session, clock=self.clock)
        social = SocialService(session, notifications=notifications, clock=self.clock)
        groups = GroupService(
            session, social, notifications, clock=self.clock, availability=self.availability
        )
        shouts = ShoutService(
            session,
            social,
            groups,
            notifications,
            limiter=self.shout_limiter,
            max_links=self.settings.shout_max_links,
            clock=self.clock,
        )
        recs = RecsService(
            session,
            self.recs,
            social,
            policy=self.local_share,
            recent_days=self.settings.recs_station_recent_days,
            per_group=self.settings.recs_station_per_group,
            clock=self.clock,
            availability=self.availability,
        )
        services = Services(
            session=session,
            accounts=AccountService(
                session, country_hooks=(rollups.country_changed,), passwords=self.passwords
            ),
            catalog=catalog,
            ingest=ingest,
            social=social,
            stats=StatsService(session),
            progress=ProgressService(session, ingest, catalog, clock=self.clock),
            presence=PresenceService(session, clock=self.clock),
            recs=recs,
            audiences=AudienceService(
                session,
                clock=self.clock,
                can_manage=self.audience_managers,
                item_vectors=RecsItemVectors(self.recs),
                provider=self.settings.public_url or "tastegraph",
                member_hooks=(segment_bits.rebuild,),
            ),
            notifications=notifications,
            groups=groups,
            shouts=shouts,
            feed=FeedService(session, social, shouts, clock=self.clock),
            events=EventService(session, clock=self.clock),
            ads=AdService(session, currency=self.settings.ads_currency),
            insights=InsightsService(
                session,
                catalog=catalog,
                stats=StatsService(session),
                recs=recs,
                availability=self.availability,
                policy=self.local_share,
                local_languages=self.settings.recs_local_languages,
                currency=self.settings.ads_currency,
                clock=self.clock,
            ),
        )
        social.neighbours = _taste_neighbours(services.recs)
        return services

    def refresh_audiences(self, *, older_than: float | None = None) -> RefreshReport:
        """One refresh of the materialised segments, in its own transaction (the CLI job and
        the server's background refresher)."""
        with self.db.unit_of_work(write=True) as session:
            return self.services(session).audiences.refresh(older_than=older_than)

    def close(self) -> None:
        self.ads.close()
        self.availability.close()
        self.db.dispose()


def _taste_neighbours(recs: RecsService) -> Neighbours:
    """Friend suggestions from the recommender's taste neighbours, once a model is trained."""

    def neighbours(user: User, limit: int) -> list[tuple[int, float]]:
        try:
            found = recs.neighbours(user, user, limit=limit)
        except RecsError:
            return []
        return [(entry.user.id, entry.score) for entry in found.entries]

    return neighbours
