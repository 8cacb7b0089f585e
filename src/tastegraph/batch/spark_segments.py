"""Rule segments materialised on Apache Spark from the Parquet export.

``audiences.compiler`` turns a rule into SQL over ``users``; this module turns the same tree
into a Spark condition over the export's accounts (``side_tables``' ``consent`` table) with the
same three-valued logic: a behaviour, interest or group node becomes a flag column (the users
it selects, left-joined; never null), an account node a condition on the account's columns
(null where the column is null, so ``not`` of "country is DE" leaves out users with no
country, as SQL does). Every rule type the compiler knows is covered:

* ``kind``, ``item``, ``creator``, ``tag``: the play log with the played item, its parent and
  its grandparent at hand, minus plays of sensitive items (the item or an ancestor carries a
  denylisted tag), up to "now" and from ``within_days`` before it; counted per user (plays,
  or distinct items) against ``min_plays``. Which items a rule matches is decided per item
  first (credits and tags are joined to the catalogue, not to every play);
* ``interest``: the taste profiles of ``audiences.profiles`` (eligible users' plays in the
  window, sensitive items left out) scored as ``audiences.interest`` does: over the published
  model's item embeddings when the rule names items the model knows (the item vectors are
  sent to Spark as a small table), else over tags (tf-idf, unit rows, the target columns'
  sum over the square root of their number);
* ``country``, ``language``, ``timezone``, ``age``, ``birth_year``: the account's fields;
* ``group``: members of public groups (the only ones a rule may name);
* ``and``, ``or``, ``not``.

Only eligible users (both TCF purposes and an adult, ``audiences.eligibility``) are ever
members. The job validates each active rule segment with ``AudienceService.validate_rule``
(unknown, merged or sensitive items, groups), evaluates it on Spark, and hands the member set
to ``AudienceService.apply_members``, the diff ``refresh_segment`` uses, so the member hooks
(the insights segment bitmaps) follow. A segment whose rule no longer validates is emptied
and deactivated by the service's own ``refresh``, as locally.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tastegraph.audiences.eligibility import ADULT_AGE
from tastegraph.audiences.errors import InvalidRule
from tastegraph.audiences.interest import ItemVectors
from tastegraph.audiences.models import Segment, SegmentKind
from tastegraph.audiences.rules import (
    AgeRule,
    AndRule,
    BirthYearRule,
    CountryRule,
    CreatorRule,
    GroupRule,
    InterestRule,
    ItemRule,
    KindRule,
    LanguageRule,
    NotRule,
    OrRule,
    Rule,
    TagRule,
    TimezoneRule,
)
from tastegraph.batch.errors import BatchError
from tastegraph.batch.side_tables import ensure_side_tables
from tastegraph.batch.spark_recs import read_table

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from tastegraph.batch.jobs import JobContext

BehaviourRule = KindRule | ItemRule | CreatorRule | TagRule


class UnsupportedRule(BatchError):
    code = "unsupported_rule"
    title = "A rule type the Spark runner cannot evaluate"


@dataclass
class SparkRules:
    """Evaluates rules over one export at one moment ``now``."""

    spark: SparkSession
    export: Path
    now: datetime
    sensitive_tag_ids: Sequence[int] = ()
    item_vectors: ItemVectors | None = None
    _frames: dict[str, DataFrame] = field(default_factory=dict)
    _cached: list[DataFrame] = field(default_factory=list)

    def _keep(self, frame: DataFrame) -> DataFrame:
        """``frame`` cached until ``close``."""
        self._cached.append(frame.cache())
        return frame

    def close(self) -> None:
        """Drop what this evaluator cached (the session may be shared)."""
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()

    # -- the tables -------------------------------------------------------------------------

    def _table(self, name: str) -> DataFrame:
        if name not in self._frames:
            self._frames[name] = read_table(self.spark, self.export, name)
        return self._frames[name]

    def accounts(self) -> DataFrame:
        """Every account (user_id) with the fields rules and eligibility read: the export's
        users outer-joined to the ad consents (``side_tables``)."""
        from pyspark.sql import functions as sf

        if "accounts" not in self._frames:
            users = self._table("users").select(
                sf.col("id").alias("user_id"),
                "country",
                "timezone",
                "locale",
                "birth_year",
                "consent_ad_profiling",
            )
            self._frames["accounts"] = users.join(self._table("consent"), "user_id", "left")
        return self._frames["accounts"]

    def eligible(self) -> DataFrame:
        """The eligible accounts (``audiences.eligibility.eligible_clause``)."""
        from pyspark.sql import functions as sf

        if "eligible" not in self._frames:
            year = self.now.year
            birth = sf.col("birth_year")
            adult = (birth <= sf.lit(year - ADULT_AGE - 1)) | (
                sf.coalesce(sf.col("declared_adult"), sf.lit(False))
                & (birth.isNull() | (birth == sf.lit(year - ADULT_AGE)))
            )
            condition = (
                (sf.col("consent_ad_profiling") == sf.lit(True))
                & sf.coalesce(sf.col("profiling"), sf.lit(True))
                & sf.coalesce(sf.col("personalised_ads"), sf.lit(True))
                & adult
            )
            # ``x IS TRUE`` in SQL: a null condition is not eligible.
            self._frames["eligible"] = self.accounts().where(sf.coalesce(condition, sf.lit(False)))
        return self._frames["eligible"]

    def items(self) -> DataFrame:
        """item_id, kind, p1 (parent), p2 (grandparent), sensitive: each played item with its
        ancestors (``compiler.PlayContext``) and whether any of them carries a denylisted tag."""
        from pyspark.sql import functions as sf

        if "items_ctx" not in self._frames:
            items = self._table("items").select("id", "kind", "parent_id")
            parents = items.select(sf.col("id").alias("p1"), sf.col("parent_id").alias("p2"))
            chain = items.join(parents, sf.col("parent_id") == sf.col("p1"), "left").select(
                sf.col("id").alias("item_id"), "kind", "p1", "p2"
            )
            sensitive = self._items_with_tags(tag_ids=list(self.sensitive_tag_ids))
            self._frames["items_ctx"] = self._keep(self._mark(chain, sensitive, "sensitive"))
        return self._frames["items_ctx"]

    def _items_with_tags(
        self, *, tag_ids: Sequence[int] | None = None, keys: Sequence[str] | None = None
    ) -> DataFrame:
        from pyspark.sql import functions as sf

        item_tags = self._table("item_tags")
        if keys is not None:
            tags = (
                self._table("tags")
                .where(sf.col("key").isin(list(keys)))
                .select(sf.col("id").alias("tag_id"))
            )
            item_tags = item_tags.join(tags, "tag_id", "left_semi")
        else:
            item_tags = item_tags.where(sf.col("tag_id").isin(list(tag_ids or [])))
        return item_tags.select("item_id").distinct()

    @staticmethod
    def _mark(chain: DataFrame, marked: DataFrame, name: str) -> DataFrame:
        """``chain`` with a boolean ``name``: the item, its parent or grandparent is in
        ``marked`` (item_id)."""
        from pyspark.sql import functions as sf

        hits = None
        out = chain
        for n, column in enumerate(("item_id", "p1", "p2")):
            flag = f"_{name}{n}"
            out = out.join(
                marked.select(sf.col("item_id").alias(f"_m{n}")).withColumn(flag, sf.lit(True)),
                sf.col(column) == sf.col(f"_m{n}"),
                "left",
            ).drop(f"_m{n}")
            term = sf.coalesce(sf.col(flag), sf.lit(False))
            hits = term if hits is None else hits | term
        assert hits is not None
        return out.withColumn(name, hits).drop(*(f"_{name}{n}" for n in range(3)))

    # -- rules ------------------------------------------------------------------------------

    def members(self, rule: Rule) -> DataFrame:
        """user_id of the eligible users the rule selects."""
        from pyspark.sql import functions as sf

        flags: list[DataFrame] = []
        condition = self._condition(rule, flags)
        frame = self.eligible()
        for n, users in enumerate(flags):
            frame = frame.join(
                users.select("user_id").distinct().withColumn(f"_f{n}", sf.lit(True)),
                "user_id",
                "left",
            )
        return frame.where(condition).select("user_id")

    def member_ids(self, rule: Rule) -> list[int]:
        table = self.members(rule).toArrow()
        return sorted(int(u) for u in table.column("user_id").to_pylist())

    def _flag(self, users: DataFrame, flags: list[DataFrame]) -> Column:
        from pyspark.sql import functions as sf

        flags.append(users)
        return sf.coalesce(sf.col(f"_f{len(flags) - 1}"), sf.lit(False))

    def _condition(self, rule: Rule, flags: list[DataFrame]) -> Column:  # noqa: PLR0911
        from functools import reduce

        from pyspark.sql import functions as sf

        if isinstance(rule, AndRule):
            parts = [self._condition(r, flags) for r in rule.rules]
            return reduce(lambda a, b: a & b, parts)
        if isinstance(rule, OrRule):
            parts = [self._condition(r, flags) for r in rule.rules]
            return reduce(lambda a, b: a | b, parts)
        if isinstance(rule, NotRule):
            return ~self._condition(rule.rule, flags)
        if isinstance(rule, KindRule | ItemRule | CreatorRule | TagRule):
            return self._flag(self.behaviour(rule), flags)
        if isinstance(rule, InterestRule):
            return self._flag(self.interest(rule), flags)
        if isinstance(rule, GroupRule):
            members = self._table("group_members").where(sf.col("group_id").isin(list(rule.groups)))
            return self._flag(members.select("user_id"), flags)
        if isinstance(rule, CountryRule | LanguageRule | TimezoneRule | AgeRule | BirthYearRule):
            return self._account(rule)
        raise UnsupportedRule(f"The Spark runner cannot evaluate a {type(rule).__name__}")

    def _account(
        self, rule: CountryRule | LanguageRule | TimezoneRule | AgeRule | BirthYearRule
    ) -> Column:
        from functools import reduce

        from pyspark.sql import functions as sf

        if isinstance(rule, CountryRule):
            return sf.col("country").isin(list(rule.countries))
        if isinstance(rule, LanguageRule):
            locale = sf.col("locale")
            parts = [(locale == code) | locale.like(f"{code}-%") for code in rule.languages]
            return reduce(lambda a, b: a | b, parts)
        if isinstance(rule, TimezoneRule):
            return sf.col("timezone").isin(list(rule.timezones))
        year = self.now.year
        low, high = (
            (year - rule.min, None if rule.max is None else year - rule.max)
            if isinstance(rule, AgeRule)
            else (rule.to_year, rule.from_year)
        )
        birth = sf.col("birth_year")
        condition = birth.isNotNull()
        if low is not None:
            condition = condition & (birth <= sf.lit(low))
        if high is not None:
            condition = condition & (birth >= sf.lit(high))
        return condition

    def matched_items(self, rule: BehaviourRule) -> DataFrame:
        """The catalogue's items (with context) a behaviour rule counts plays of."""
        from pyspark.sql import functions as sf

        items = self.items().where(~sf.col("sensitive"))
        if rule.kinds:
            items = items.where(sf.col("kind").isin([k.value for k in rule.kinds]))
        if isinstance(rule, KindRule):
            return items
        if isinstance(rule, ItemRule):
            wanted = list(rule.items)
            return items.where(
                sf.col("item_id").isin(wanted)
                | sf.col("p1").isin(wanted)
                | sf.col("p2").isin(wanted)
            )
        if isinstance(rule, CreatorRule):
            creators = list(rule.creators)
            credited = (
                self._table("item_credits")
                .where(sf.col("credited_id").isin(creators))
                .select("item_id")
                .distinct()
            )
            # The compiler looks for credits on the played item and its parent only.
            return self._creator_items(items, credited, creators)
        tagged = self._items_with_tags(keys=list(rule.tags))
        return self._mark(items, tagged, "_tagged").where(sf.col("_tagged")).drop("_tagged")

    @staticmethod
    def _creator_items(items: DataFrame, credited: DataFrame, creators: list[int]) -> DataFrame:
        from pyspark.sql import functions as sf

        c0 = credited.select(sf.col("item_id").alias("_c0")).withColumn("_h0", sf.lit(True))
        c1 = credited.select(sf.col("item_id").alias("_c1")).withColumn("_h1", sf.lit(True))
        joined = items.join(c0, sf.col("item_id") == sf.col("_c0"), "left").join(
            c1, sf.col("p1") == sf.col("_c1"), "left"
        )
        hit = (
            sf.col("p1").isin(creators)
            | sf.col("p2").isin(creators)
            | sf.coalesce(sf.col("_h0"), sf.lit(False))
            | sf.coalesce(sf.col("_h1"), sf.lit(False))
        )
        return joined.where(hit).drop("_c0", "_h0", "_c1", "_h1")

    def behaviour(self, rule: BehaviourRule) -> DataFrame:
        """user_id of the users whose matching plays reach ``min_plays``."""
        from pyspark.sql import functions as sf

        plays = self._table("plays").select("user_id", "item_id", "played_at")
        plays = plays.where(sf.col("played_at") <= sf.lit(self.now))
        if rule.within_days is not None:
            since = self.now - timedelta(days=rule.within_days)
            plays = plays.where(sf.col("played_at") >= sf.lit(since))
        matched = plays.join(self.matched_items(rule).select("item_id"), "item_id", "left_semi")
        if rule.distinct_items:
            counted = matched.groupBy("user_id").agg(sf.countDistinct("item_id").alias("_n"))
            return counted.where(sf.col("_n") >= rule.min_plays).select("user_id")
        if rule.min_plays > 1:
            counted = matched.groupBy("user_id").agg(sf.count(sf.lit(1)).alias("_n"))
            return counted.where(sf.col("_n") >= rule.min_plays).select("user_id")
        return matched.select("user_id").distinct()

    # -- interest ---------------------------------------------------------------------------

    def profile(self, within_days: int) -> DataFrame:
        """user_id, item_id, c: eligible users' plays per item in the window, sensitive items
        left out (``audiences.profiles.load_profiles``)."""
        from pyspark.sql import functions as sf

        since = self.now - timedelta(days=within_days)
        plays = (
            self._table("plays")
            .select("user_id", "item_id", "played_at")
            .where(
                (sf.col("played_at") >= sf.lit(since)) & (sf.col("played_at") <= sf.lit(self.now))
            )
            .join(self.eligible().select("user_id"), "user_id", "left_semi")
        )
        counts = plays.groupBy("user_id", "item_id").agg(sf.count(sf.lit(1)).alias("c"))
        sensitive = self.items().where(sf.col("sensitive")).select("item_id")
        return counts.join(sensitive, "item_id", "left_anti")

    def interest(self, rule: InterestRule) -> DataFrame:
        """user_id of the users whose taste scores at least ``min_similarity``."""
        profile = self._keep(self.profile(rule.within_days))
        if self.item_vectors is not None and rule.items:
            scored = self._embedding_users(rule, profile)
            if scored is not None:
                return scored
        return self._tag_users(rule, profile)

    def _embedding_users(self, rule: InterestRule, profile: DataFrame) -> DataFrame | None:
        from pyspark.sql import functions as sf

        assert self.item_vectors is not None
        item_ids = [
            int(i) for i in profile.select("item_id").distinct().toArrow().column(0).to_pylist()
        ]
        known = self.item_vectors.vectors(item_ids)
        targets = self.item_vectors.vectors(list(rule.items))
        if not known or not targets:
            return None
        dims = len(next(iter(targets.values())))
        target = [sum(float(v[d]) for v in targets.values()) / len(targets) for d in range(dims)]
        norm = math.sqrt(sum(x * x for x in target))
        if norm == 0:
            return None
        unit = [x / norm for x in target]
        rows = [(int(i), [float(x) for x in vector]) for i, vector in known.items()]
        vectors = self.spark.createDataFrame(rows, "item_id long, v array<double>")
        weighted = profile.join(vectors, "item_id").select(
            "user_id", sf.posexplode("v").alias("d", "x"), sf.log1p(sf.col("c")).alias("w")
        )
        per_dim = weighted.groupBy("user_id", "d").agg(sf.sum(sf.col("w") * sf.col("x")).alias("s"))
        targets_frame = self.spark.createDataFrame(
            [(d, x) for d, x in enumerate(unit)], "d int, t double"
        )
        scores = (
            per_dim.join(targets_frame, "d")
            .groupBy("user_id")
            .agg(
                sf.sum(sf.col("s") * sf.col("t")).alias("dot"),
                sf.sqrt(sf.sum(sf.col("s") * sf.col("s"))).alias("norm"),
            )
            .where(sf.col("norm") > 0)
        )
        return scores.where(sf.col("dot") / sf.col("norm") >= sf.lit(rule.min_similarity)).select(
            "user_id"
        )

    def _tag_users(self, rule: InterestRule, profile: DataFrame) -> DataFrame:
        from pyspark.sql import functions as sf

        sensitive = set(self.sensitive_tag_ids)
        targets: set[int] = set()
        if rule.tags:
            keyed = self._table("tags").where(sf.col("key").isin(list(rule.tags))).select("id")
            targets |= {int(t) for t in keyed.toArrow().column(0).to_pylist()}
        if rule.items:
            chain = self.items().where(sf.col("item_id").isin(list(rule.items)))
            related: set[int] = set(rule.items)
            for row in chain.select("p1", "p2").collect():
                related |= {int(v) for v in (row["p1"], row["p2"]) if v is not None}
            tagged = self._table("item_tags").where(sf.col("item_id").isin(sorted(related)))
            targets |= {int(t) for t in tagged.select("tag_id").toArrow().column(0).to_pylist()}
        targets -= sensitive
        if not targets:
            return self._nobody()
        # Each item with the distinct tags of itself, its parent and its grandparent.
        chain = self.items().where(~sf.col("sensitive")).select("item_id", "p1", "p2")
        item_tags = self._table("item_tags")
        tag_sets = (
            chain.select("item_id", sf.explode(sf.array("item_id", "p1", "p2")).alias("related"))
            .where(sf.col("related").isNotNull())
            .join(item_tags.select(sf.col("item_id").alias("related"), "tag_id"), "related")
            .select("item_id", "tag_id")
            .distinct()
        )
        users = profile.select("user_id").distinct().count()
        user_tags = self._keep(
            profile.join(tag_sets, "item_id")
            .groupBy("user_id", "tag_id")
            .agg(sf.sum("c").alias("n"))
        )
        wanted = sf.col("tag_id").isin(sorted(targets))
        columns = user_tags.where(wanted).select("tag_id").distinct().count()
        if columns == 0:
            return self._nobody()
        frequency = user_tags.groupBy("tag_id").agg(sf.count(sf.lit(1)).alias("df"))
        weights = user_tags.join(frequency, "tag_id").withColumn(
            "x",
            sf.log1p(sf.col("n"))
            * (
                sf.log((sf.lit(1.0) + sf.lit(float(max(users, 1)))) / (sf.lit(1.0) + sf.col("df")))
                + 1.0
            ),
        )
        scores = weights.groupBy("user_id").agg(
            sf.sqrt(sf.sum(sf.col("x") * sf.col("x"))).alias("norm"),
            sf.sum(sf.when(wanted, sf.col("x")).otherwise(0.0)).alias("hit"),
        )
        score = sf.col("hit") / sf.col("norm") / sf.lit(math.sqrt(columns))
        return scores.where((sf.col("norm") > 0) & (score >= sf.lit(rule.min_similarity))).select(
            "user_id"
        )

    def _nobody(self) -> DataFrame:
        return self.spark.createDataFrame([], "user_id long")


# -- the job ------------------------------------------------------------------------------------


@dataclass
class SegmentsReport:
    segments: int = 0
    added: int = 0
    removed: int = 0
    failed: list[int] = field(default_factory=list)
    members: dict[int, int] = field(default_factory=dict)
    evaluate_seconds: float = 0.0
    write_seconds: float = 0.0


def refresh_on_spark(
    spark: SparkSession, export: Path, runtime: Any, *, segment_ids: Sequence[int] | None = None
) -> SegmentsReport:
    """Evaluate every active rule segment (or those named) on Spark and write the members
    back through ``AudienceService.apply_members``."""
    from sqlalchemy import select

    ensure_side_tables(runtime.db, export)
    report = SegmentsReport()
    rules: dict[int, Rule] = {}
    invalid: list[int] = []
    with runtime.db.unit_of_work() as session:
        audiences = runtime.services(session).audiences
        query = (
            select(Segment)
            .where(Segment.active.is_(True), Segment.kind == SegmentKind.RULE)
            .order_by(Segment.id)
        )
        if segment_ids is not None:
            query = query.where(Segment.id.in_(list(segment_ids)))
        for segment in session.scalars(query):
            try:
                rules[segment.id] = audiences.validate_rule(segment.rule)
            except InvalidRule:
                invalid.append(segment.id)
        evaluator = SparkRules(
            spark,
            export,
            now=audiences.clock(),
            sensitive_tag_ids=list(audiences.sensitive_tag_ids()),
            item_vectors=audiences.item_vectors,
        )
    started = time.perf_counter()
    try:
        members = {segment_id: evaluator.member_ids(rule) for segment_id, rule in rules.items()}
    finally:
        evaluator.close()
    report.evaluate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with runtime.db.unit_of_work(write=True) as session:
        audiences = runtime.services(session).audiences
        for segment_id, users in members.items():
            segment = session.get(Segment, segment_id)
            if segment is None or not segment.active:
                continue  # deleted or switched off while Spark ran
            added, removed = audiences.apply_members(segment, users)
            report.segments += 1
            report.added += added
            report.removed += removed
            report.members[segment_id] = len(users)
        if invalid:
            # The service empties and deactivates them, as a local refresh does.
            failed = audiences.refresh(segment_ids=invalid)
            report.failed = list(failed.failed)
    report.write_seconds = time.perf_counter() - started
    return report


def _segment_ids(context: JobContext) -> list[int] | None:
    raw = context.options.get("segments", "")
    return [int(s) for s in raw.split(",") if s.strip()] or None


def run_spark(context: JobContext) -> str:
    """``tastegraph batch run segments --runner spark``."""
    report = refresh_on_spark(
        context.spark(), context.export(), context.runtime, segment_ids=_segment_ids(context)
    )
    failed = f", {len(report.failed)} deactivated (rule no longer valid)" if report.failed else ""
    return (
        f"{report.segments} segments materialised on Spark: +{report.added} -{report.removed} "
        f"members{failed} (evaluate {report.evaluate_seconds:.1f} s, "
        f"write {report.write_seconds:.1f} s)"
    )


def run_local(context: JobContext) -> str:
    """``tastegraph batch run segments --runner local``: the database refresh."""
    runtime = context.runtime
    ids = _segment_ids(context)
    with runtime.db.unit_of_work(write=True) as session:
        report = runtime.services(session).audiences.refresh(segment_ids=ids)
    failed = f", {len(report.failed)} deactivated (rule no longer valid)" if report.failed else ""
    return (
        f"{report.segments} segments refreshed: +{report.added} -{report.removed} members"
        f"{failed} ({report.seconds:.1f} s)"
    )
