"""Typed settings, read from ``TASTEGRAPH_*`` environment variables.

This is the only module that reads the environment. Nothing here runs at import time: call
``Settings()`` (or ``load_settings()``) where a process starts, and pass the object down.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me"  # noqa: S105 - the sentinel that production refuses


class Mode(StrEnum):
    PRODUCTION = "production"
    DEV = "dev"
    DEMO = "demo"


class InsecureSettingsError(ValueError):
    """Raised when production settings keep a development default."""


class Settings(BaseSettings):
    """Every setting tastegraph reads. See docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="TASTEGRAPH_", extra="ignore")

    mode: Mode = Mode.PRODUCTION
    """production refuses development defaults; dev and demo accept them."""

    data_dir: Path = Path("data")
    """Where the embedded SQLite database and exports live."""

    database_url: str = ""
    """SQLAlchemy URL. Empty means ``sqlite:///<data_dir>/tastegraph.db``."""

    database_echo: bool = False

    database_replica_url: str = ""
    """A read replica (PostgreSQL): read-only units of work go there, writes to the primary.
    Empty: everything goes to ``database_url``."""

    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)
    database_pool_timeout: float = Field(default=30.0, gt=0)
    database_pool_recycle: int = Field(default=1800, ge=-1)
    database_pool_pre_ping: bool = True
    """PostgreSQL connection pool of each process (per engine: the replica has its own):
    connections kept open, extra ones opened under load, seconds to wait for one, seconds
    after which a connection is replaced (-1: never), and a liveness check on checkout."""

    database_prepared_statements: bool = True
    """Let psycopg prepare statements it runs often on the server. Turn off behind PgBouncer
    in transaction pooling mode older than 1.21 (a prepared statement lives in one server
    connection, and the next transaction may get another)."""

    partition_ahead_months: int = Field(default=3, ge=0, le=120)
    partition_check_seconds: float = Field(default=86_400.0, ge=0)
    """PostgreSQL: a server makes the play log's monthly partitions this many months ahead
    when it starts and every ``partition_check_seconds`` (0: never; run ``tastegraph db
    partitions`` from a job instead)."""

    secret_key: str = DEFAULT_SECRET_KEY
    """Signs web sessions. Must be changed outside dev and demo mode."""

    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65536, ge=64)
    password_hash_parallelism: int = Field(default=4, ge=1, le=8)
    """argon2id's cost for new password hashes (the defaults: RFC 9106's low-memory profile,
    about 0.1-0.2 s a hash on 2 cores). Existing hashes keep their own parameters."""

    sqlite_synchronous: str = "FULL"
    """SQLite ``synchronous`` pragma. FULL keeps acknowledged plays across power loss."""

    max_batch_plays: int = Field(default=1000, ge=1, le=10000)
    max_body_bytes: int = Field(default=10_240_000, ge=1024)
    future_skew_seconds: int = Field(default=3600, ge=0)
    """How far in the future a play's timestamp may lie (clock skew of clients)."""

    now_playing_max_seconds: int = Field(default=600, ge=1)
    """How long a now-playing entry lives when the item's duration is unknown."""

    session_token_days: int = Field(default=30, ge=1)

    public_url: str = ""
    """The server's address as clients reach it (https://scrobble.example.org). Used in the
    URLs the Audioscrobbler handshake hands out; empty means the address of the request."""

    lastfm_unknown_keys: Literal["accept", "reject"] = "accept"
    """Last.fm requests with an api_key this server did not register: ``accept`` them unverified
    (players ship their own keys) or ``reject`` them with error 10."""

    redis_url: str = ""
    """redis://host:6379/0 to share rate-limit counters between server processes; empty keeps
    them in the process."""

    rate_limit: int = Field(default=300, ge=1)
    rate_limit_window_seconds: int = Field(default=10, ge=1)
    """Requests each client (token, or address when anonymous) may make per window on the
    compatibility APIs."""

    shout_rate_limit: int = Field(default=20, ge=1)
    shout_rate_window_seconds: int = Field(default=60, ge=1)
    """Shouts, replies and posts each person may write per window (administrators are not
    limited); counted where the other rate limits are (Redis when ``redis_url`` is set)."""

    shout_max_links: int = Field(default=2, ge=0)
    """Links a shout may carry; more are refused as spam."""

    recs_reload_seconds: float = Field(default=5.0, ge=0)
    """How often a server looks for a newly trained recommendation version (a ``stat`` of the
    ``current`` pointer under ``<data_dir>/recs``); a new one is swapped in without restart."""

    recs_blas_threads: int = Field(default=1, ge=0)
    """BLAS threads a server scores recommendation requests with (requests already run in
    parallel); 0 leaves the library's default."""

    recs_keep_versions: int = Field(default=3, ge=1)
    """Trained versions kept on disk by ``tastegraph recs train``."""

    recs_station_recent_days: int = Field(default=30, ge=0)
    """Stations leave out what the user played in the last this many days."""

    recs_station_per_group: int = Field(default=2, ge=1)
    """Stations hold at most this many items of one artist, show, competition or outlet."""

    recs_local_share: dict[str, dict[str, float]] = Field(default_factory=dict)
    """Local-content quotas: country -> scope (domain, kind or ``mixed``) -> share, e.g.
    ``{"FR": {"music": 0.4}}``: at least 40 % of music recommended in France is local."""

    recs_local_languages: dict[str, list[str]] = Field(default_factory=dict)
    """Country -> languages whose content counts as local there, replacing the built-in list."""

    audience_refresh_seconds: float = Field(default=30.0, ge=0)
    """How often a server re-evaluates materialised audience segments (so a rule segment is at
    most a minute stale); 0 turns the background refresher off (tests, or when a separate
    ``tastegraph audiences refresh`` job runs)."""

    stats_fold_seconds: float = Field(default=1.0, ge=0)
    """How often a server folds new plays into the chart rollups. Charts count the plays not
    folded yet from the log, so they are exact either way; folding keeps them fast. 0 turns
    the server's folder off (when a separate ``tastegraph stats fold`` job runs)."""
    stats_archive_seconds: float = Field(default=600.0, ge=0)
    """How often a server brings the chart archive up to date (the charts of last week,
    month, quarter, half-year and year in every zone its people live in, computed ahead; see
    ``stats/archive.py``); its first run is one interval after the start. 0 turns it off
    (run ``tastegraph stats archive`` as a job instead)."""

    rights_required_domains: list[Literal["music", "tv", "film", "sports", "news"]] = Field(
        default_factory=list
    )
    """Domains whose items are unavailable until a grant says otherwise (e.g.
    ``["tv", "film"]``); elsewhere an item without grants above it is available everywhere."""

    rights_refresh_seconds: float = Field(default=5.0, ge=0)
    """How often a server checks whether rights changed in another process (one cheap query)
    and rebuilds its availability index; changes made through the same process apply at once.
    0 checks before every answer (tests)."""

    country_header: str = ""
    """A request header a trusted proxy or CDN sets to the viewer's country (CF-IPCountry,
    CloudFront-Viewer-Country); it decides availability before the account's country."""

    ads_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    """ISO 4217 currency of every advertising budget, bid and floor."""

    ads_index_refresh_seconds: float = Field(default=5.0, gt=0)
    """How often a server reloads active line items and placements into its decision index
    (changes made through the same server apply at once)."""

    ads_redis_prefix: str = Field(default="tastegraph:ads", min_length=1)
    """Prefix of the frequency-cap and budget counters in Redis (when ``redis_url`` is set)."""

    ads_token_ttl_seconds: int = Field(default=86_400, ge=60)
    """How long impression and click URLs of a decision stay valid."""

    ads_frequency_sample: int = Field(default=1, ge=1)
    """Reports' frequency distributions count one viewer in N (chosen by hash, the same in
    every cell and day): 1 keeps a delivery row per viewer (exact); raise it when that is too
    many rows. Reach does not depend on it (HyperLogLog sketches)."""

    spark_master: str = "local[2]"
    """Where Spark batch jobs (``tastegraph batch run ... --runner spark``) run: ``local[N]``
    in this process's JVM, or a cluster (``spark://host:7077``, ``yarn``, ``k8s://...``)."""

    spark_checkpoint_dir: str = ""
    """Spark's checkpoint directory (iterative jobs need one); empty means
    ``<data_dir>/spark/checkpoints``. On a cluster, a path every executor reaches (HDFS, S3)."""

    spark_driver_memory: str = "1g"
    """The Spark driver's heap (``spark.driver.memory``)."""

    spark_shuffle_partitions: int = Field(default=4, ge=1)
    """``spark.sql.shuffle.partitions``: small for one machine, raise it on a cluster."""

    spark_conf: dict[str, str] = Field(default_factory=dict)
    """Further Spark properties, as JSON (``{"spark.executor.memory": "4g"}``); they win over
    the settings above."""

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.mode is Mode.PRODUCTION and self.secret_key == DEFAULT_SECRET_KEY:
            raise InsecureSettingsError(
                "TASTEGRAPH_SECRET_KEY is still at its default. Set it to a long random value "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or set TASTEGRAPH_MODE=dev for local development."
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'tastegraph.db'}"

    @property
    def recs_dir(self) -> Path:
        """Where trained recommendation versions live."""
        return self.data_dir / "recs"

    @property
    def effective_spark_checkpoint_dir(self) -> str:
        if self.spark_checkpoint_dir:
            return self.spark_checkpoint_dir
        return str((self.data_dir / "spark" / "checkpoints").absolute())

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
