"""Audiences: consent, segments and what the ads area asks of them.

The ads area calls only two things, both cheap and safe to call on every decision:

* ``AudienceService.is_targetable(user_id)``: may this user get personalised ads at all
  (both TCF purposes given, an adult, not erased)? When False, serve contextual ads only.
* ``AudienceService.segments_of(user_id)``: the ids of the active segments the user is in that
  have at least ``k_floor`` (100) consenting members; empty when the user is not targetable.

Everything else (consent changes, rules, refreshes, lookalikes, clusters, export) is for the
audience API, the CLI and the background refresher. Like every service it works inside the
caller's unit of work and never commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from tastegraph.accounts.models import User
from tastegraph.audiences import taxonomy
from tastegraph.audiences.compiler import CompileContext, GroupResolver, compile_rule
from tastegraph.audiences.eligibility import eligible_clause, eligible_users, is_adult
from tastegraph.audiences.errors import (
    InvalidLookalike,
    InvalidRule,
    RuleUnavailable,
    SegmentForbidden,
    SegmentNotFound,
)
from tastegraph.audiences.interest import ItemVectors, evaluate_interest
from tastegraph.audiences.models import (
    AdConsent,
    ConsentEvent,
    Segment,
    SegmentKind,
    SegmentMember,
)
from tastegraph.audiences.profiles import sensitive_tag_ids
from tastegraph.audiences.rules import (
    AgeRule,
    CreatorRule,
    GroupRule,
    InterestRule,
    ItemRule,
    Rule,
    dump_rule,
    parse_rule,
    positive_nodes,
    walk,
)
from tastegraph.catalog.matching import identity
from tastegraph.catalog.models import Item, ItemTag, Tag
from tastegraph.storage.base import utcnow
from tastegraph.storage.dialect import insert_or_ignore

K_ANONYMITY_FLOOR = 100
"""A segment with fewer consenting members is never targeted and its size shows as "< 100"."""

AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, None),
)

ManagePermission = Callable[[User], bool]
"""Whether a user may create and read segments (an administrator, or an advertiser's user)."""
MemberHook = Callable[[Session, Sequence[int]], None]
"""Called with the ids of the segments whose members changed, in the same transaction (after
the change): what keeps data derived from memberships exact (``insights/segment_bits.py``)."""


def admins_only(user: User) -> bool:
    return user.is_admin


@dataclass(frozen=True)
class ConsentState:
    profiling: bool
    personalised_ads: bool
    declared_adult: bool
    updated_at: datetime | None
    source: str | None
    targetable: bool
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, bool]:
        return {
            "profiling": self.profiling,
            "personalised_ads": self.personalised_ads,
            "declared_adult": self.declared_adult,
        }


@dataclass(frozen=True)
class SizeEstimate:
    count: int
    floor: int

    @property
    def targetable(self) -> bool:
        return self.count >= self.floor

    @property
    def display(self) -> int | str:
        """The size an advertiser may see: exact at or above the floor, else "< floor"."""
        return self.count if self.targetable else f"< {self.floor}"


@dataclass
class RefreshReport:
    segments: int = 0
    added: int = 0
    removed: int = 0
    seconds: float = 0.0
    failed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Breakdown:
    by_country: list[tuple[str, int | str]]
    by_age_band: list[tuple[str, int | str]]


class AudienceService:
    """Consent, segments and memberships, inside the caller's unit of work. Never commits."""

    def __init__(
        self,
        session: Session,
        *,
        clock: Callable[[], datetime] = utcnow,
        k_floor: int = K_ANONYMITY_FLOOR,
        can_manage: ManagePermission = admins_only,
        item_vectors: ItemVectors | None = None,
        provider: str = "tastegraph",
        member_hooks: Sequence[MemberHook] = (),
    ) -> None:
        self.session = session
        self.member_hooks = tuple(member_hooks)
        self.clock = clock
        self.k_floor = k_floor
        self.can_manage = can_manage
        self.item_vectors = item_vectors
        self.provider = provider
        self._sensitive: list[int] | None = None

    # -- what the ads area asks ------------------------------------------------------------

    def is_targetable(self, user_id: int) -> bool:
        """May this user get personalised (profile-based) ads? False: contextual ads only."""
        found = self.session.scalar(
            select(User.id)
            .outerjoin(AdConsent, AdConsent.user_id == User.id)
            .where(User.id == user_id, eligible_clause(self.clock().year))
        )
        return found is not None

    def segments_of(self, user_id: int) -> frozenset[int]:
        """The targetable segments this user is in: active, at or above the k-anonymity floor,
        and only while the user is a consenting adult (else empty)."""
        rows = self.session.scalars(
            select(SegmentMember.segment_id)
            .join(Segment, Segment.id == SegmentMember.segment_id)
            .join(User, User.id == SegmentMember.user_id)
            .outerjoin(AdConsent, AdConsent.user_id == User.id)
            .where(
                SegmentMember.user_id == user_id,
                Segment.active.is_(True),
                Segment.member_count >= self.k_floor,
                eligible_clause(self.clock().year),
            )
        )
        return frozenset(rows)

    def targetable_segments(self) -> list[Segment]:
        """Every segment that may be targeted now (active, at or above the floor)."""
        return list(
            self.session.scalars(
                select(Segment)
                .where(Segment.active.is_(True), Segment.member_count >= self.k_floor)
                .order_by(Segment.id)
            )
        )

    def segment(self, segment_id: int) -> Segment:
        found = self.session.get(Segment, segment_id)
        if found is None:
            raise SegmentNotFound(f"There is no segment {segment_id}.")
        return found

    # -- consent ----------------------------------------------------------------------------

    def consent(self, user: User) -> ConsentState:
        row = self.session.get(AdConsent, user.id)
        # Without a row, the account's flag stands for both purposes (accounts made before).
        given = user.consent_ad_profiling
        profiling = row.profiling if row else given
        personalised = row.personalised_ads if row else given
        declared = bool(row and row.declared_adult)
        reasons: list[str] = []
        if profiling and personalised and not given:
            reasons.append("advertising consent is withdrawn in the account settings")
        if not profiling:
            reasons.append("no consent to building an advertising profile (TCF purpose 3)")
        if not personalised:
            reasons.append("no consent to personalised ads (TCF purpose 4)")
        if not is_adult(user.birth_year, declared, self.clock().year):
            if user.birth_year is None:
                reasons.append("age unknown: declare that you are 18 or older")
            elif user.birth_year > self.clock().year - 18:
                reasons.append("under 18: never profiled for advertising")
            else:
                reasons.append("may be under 18 by birth year: declare that you are 18 or older")
        return ConsentState(
            profiling=profiling,
            personalised_ads=personalised,
            declared_adult=declared,
            updated_at=row.updated_at if row else None,
            source=row.source if row else None,
            targetable=not reasons,
            reasons=tuple(reasons),
        )

    def set_consent(
        self,
        user: User,
        *,
        profiling: bool,
        personalised_ads: bool,
        declared_adult: bool | None = None,
        actor: str = "self",
        source: str = "api",
    ) -> ConsentState:
        """Record the user's choices. Withdrawing either purpose takes the user out of every
        segment in this same transaction; giving both re-evaluates their rule segments now."""
        before = self.consent(user)
        now = self.clock()
        row = self.session.get(AdConsent, user.id)
        if row is None:
            row = AdConsent(user_id=user.id, declared_adult=False)
            self.session.add(row)
        row.profiling = profiling
        row.personalised_ads = personalised_ads
        if declared_adult is not None:
            row.declared_adult = declared_adult
        row.source = source
        row.updated_at = now
        combined = profiling and personalised_ads
        if user.consent_ad_profiling != combined:
            user.consent_updated_at = now
        user.consent_ad_profiling = combined
        self.session.flush()
        after = self.consent(user)
        if after.as_dict() != before.as_dict():
            self.session.add(
                ConsentEvent(
                    user_id=user.id,
                    at=now,
                    actor=actor,
                    source=source,
                    old=before.as_dict(),
                    new=after.as_dict(),
                )
            )
        if not after.targetable:
            self.forget_memberships(user.id)
        elif not before.targetable:
            self.reevaluate_users([user.id])
        self.session.flush()
        return after

    def account_changed(self, user: User) -> None:
        """Call after a user's birth year or country changes: a user who is no longer eligible
        leaves every segment at once; others are re-evaluated."""
        self.session.flush()
        if self.is_targetable(user.id):
            self.reevaluate_users([user.id])
        else:
            self.forget_memberships(user.id)

    def consent_log(self, user: User) -> list[ConsentEvent]:
        return list(
            self.session.scalars(
                select(ConsentEvent)
                .where(ConsentEvent.user_id == user.id)
                .order_by(ConsentEvent.at, ConsentEvent.id)
            )
        )

    def forget_memberships(self, user_id: int) -> int:
        """Take a user out of every segment (rule, lookalike and cluster) now."""
        left = (
            list(
                self.session.scalars(
                    select(SegmentMember.segment_id).where(SegmentMember.user_id == user_id)
                )
            )
            if self.member_hooks
            else []
        )
        self.session.execute(
            update(Segment)
            .where(
                Segment.id.in_(
                    select(SegmentMember.segment_id).where(SegmentMember.user_id == user_id)
                )
            )
            .values(member_count=Segment.member_count - 1)
            .execution_options(synchronize_session=False)
        )
        result = self.session.execute(
            delete(SegmentMember)
            .where(SegmentMember.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
        self._members_changed(left)
        self.session.expire_all()
        return int(getattr(result, "rowcount", 0) or 0)

    def erase_user(self, user: User, *, actor: str = "self") -> None:
        """Art. 17 erasure: the account and everything hanging off it (plays, incognito plays,
        feedback, tags, tokens, friendships, consent records, memberships) go, by the
        database's ``ON DELETE CASCADE``. One audit event without a user remains to show that
        an erasure happened and when."""
        user_id = user.id
        self.forget_memberships(user_id)
        self.session.expunge(user) if user in self.session else None
        self.session.execute(
            delete(User).where(User.id == user_id).execution_options(synchronize_session=False)
        )
        self.session.add(
            ConsentEvent(
                user_id=None,
                at=self.clock(),
                actor=actor if actor in {"self", "admin", "operator"} else "system",
                source="erasure",
                old={"account": "present"},
                new={"account": "erased"},
            )
        )
        self.session.flush()

    # -- rules --------------------------------------------------------------------------------

    def validate_rule(self, document: Any, *, at: str = "$") -> Rule:
        """Parse a rule and check what needs the database: items exist and are not sensitive,
        groups are public, the interest model is there. Raises ``InvalidRule`` with paths."""
        rule = parse_rule(document, at=at)
        errors: list[dict[str, str]] = []
        item_refs: list[tuple[int, str]] = []
        for node, path, _depth in walk(rule, at):
            if isinstance(node, ItemRule):
                item_refs += [(i, f"{path}.items[{n}]") for n, i in enumerate(node.items)]
            elif isinstance(node, CreatorRule):
                item_refs += [(i, f"{path}.creators[{n}]") for n, i in enumerate(node.creators)]
            elif isinstance(node, InterestRule):
                item_refs += [(i, f"{path}.items[{n}]") for n, i in enumerate(node.items)]
            elif isinstance(node, GroupRule):
                errors += self._group_problems(node, path)
        if item_refs:
            errors += self._item_problems(item_refs)
        if errors:
            raise InvalidRule(f"{errors[0]['path']}: {errors[0]['message']}", errors=errors)
        return rule

    def _item_problems(self, refs: list[tuple[int, str]]) -> list[dict[str, str]]:
        ids = sorted({i for i, _p in refs})
        rows = self.session.execute(
            select(Item.id, Item.parent_id, Item.merged_into_id).where(Item.id.in_(ids))
        ).all()
        known = {item_id: (parent_id, merged) for item_id, parent_id, merged in rows}
        sensitive_items = self._sensitive_items(ids, {p for p, _m in known.values() if p})
        problems = []
        for item_id, path in refs:
            if item_id not in known:
                problems.append(
                    {"path": path, "code": "item_not_found", "message": f"no item {item_id}"}
                )
            elif known[item_id][1] is not None:
                problems.append(
                    {
                        "path": path,
                        "code": "item_merged",
                        "message": f"item {item_id} was merged into {known[item_id][1]}",
                    }
                )
            elif item_id in sensitive_items or known[item_id][0] in sensitive_items:
                problems.append(
                    {
                        "path": path,
                        "code": "sensitive_category",
                        "message": f"item {item_id} is in a special category and can never be "
                        "used for targeting",
                    }
                )
        return problems

    def _sensitive_items(self, ids: Sequence[int], parents: set[int]) -> set[int]:
        sensitive = self.sensitive_tag_ids()
        if not sensitive:
            return set()
        return set(
            self.session.scalars(
                select(ItemTag.item_id)
                .where(ItemTag.item_id.in_([*ids, *parents]), ItemTag.tag_id.in_(sensitive))
                .distinct()
            )
        )

    def _group_problems(self, rule: GroupRule, path: str) -> list[dict[str, str]]:
        from tastegraph.audiences.groups import group_problems

        return group_problems(self.session, rule, path)

    def sensitive_tag_ids(self) -> list[int]:
        if self._sensitive is None:
            self._sensitive = sensitive_tag_ids(self.session)
        return self._sensitive

    def _context(self, only_users: Sequence[int] | None = None) -> CompileContext:
        from tastegraph.audiences.groups import group_condition

        groups: GroupResolver = group_condition
        ctx = CompileContext(
            now=self.clock(),
            sensitive_tag_ids=self.sensitive_tag_ids(),
            groups=groups,
            only_users=only_users,
        )
        ctx.interest = lambda rule: evaluate_interest(
            self.session,
            rule,
            now=ctx.now,
            users=self._eligible_select(only_users),
            sensitive=ctx.sensitive_tag_ids,
            vectors=self.item_vectors,
        )
        return ctx

    def _eligible_select(self, only_users: Sequence[int] | None = None) -> Select[int]:
        query = eligible_users(self.clock().year)
        if only_users is not None:
            query = query.where(User.id.in_(list(only_users)))
        return query

    def members_query(self, rule: Rule, only_users: Sequence[int] | None = None) -> Select[int]:
        """``SELECT users.id`` of the eligible users the rule selects."""
        condition = compile_rule(rule, self._context(only_users))
        return self._eligible_select(only_users).where(condition)

    def estimate(self, document: Any, *, at: str = "$") -> SizeEstimate:
        """How many consenting adults a rule selects right now."""
        rule = self.validate_rule(document, at=at)
        count = self.session.scalar(
            select(func.count()).select_from(self.members_query(rule).subquery())
        )
        return SizeEstimate(int(count or 0), self.k_floor)

    # -- segments -----------------------------------------------------------------------------

    def require_manager(self, user: User) -> None:
        if not (user.is_admin or self.can_manage(user)):
            raise SegmentForbidden("Only administrators and advertisers may use audiences.")

    def visible_segments(
        self, user: User | None, *, kind: SegmentKind | None = None
    ) -> list[Segment]:
        """Segments a manager may see: all for administrators and the operator (None), else
        their own and the shared ones."""
        query = select(Segment).order_by(Segment.id)
        if kind is not None:
            query = query.where(Segment.kind == kind)
        if user is not None and not user.is_admin:
            query = query.where((Segment.owner_id == user.id) | Segment.shared.is_(True))
        return list(self.session.scalars(query))

    def readable_segment(self, user: User | None, segment_id: int) -> Segment:
        found = self.segment(segment_id)
        hidden = user is not None and not user.is_admin and found.owner_id != user.id
        if hidden and not found.shared:
            raise SegmentNotFound(f"There is no segment {segment_id}.")
        return found

    def writable_segment(self, user: User | None, segment_id: int) -> Segment:
        found = self.readable_segment(user, segment_id)
        if user is not None and not user.is_admin and found.owner_id != user.id:
            raise SegmentForbidden("Only the segment's owner or an administrator may change it.")
        return found

    def create_segment(
        self,
        owner: User | None,
        *,
        name: str,
        rule: Any,
        description: str | None = None,
        iab_ids: list[int] | None = None,
        active: bool = True,
    ) -> Segment:
        """A rule segment, materialised at once."""
        parsed = self.validate_rule(rule, at="$.rule")
        ids = self._checked_iab_ids(iab_ids) if iab_ids is not None else self.derive_iab_ids(parsed)
        now = self.clock()
        segment = Segment(
            name=name,
            description=description,
            kind=SegmentKind.RULE,
            rule=dump_rule(parsed),
            iab_ids=ids,
            owner_id=owner.id if owner else None,
            shared=owner is None or owner.is_admin,
            active=active,
            member_count=0,
            version=1,
            created_at=now,
            updated_at=now,
        )
        self.session.add(segment)
        self.session.flush()
        self.refresh_segment(segment, parsed)
        return segment

    def update_segment(
        self,
        segment: Segment,
        *,
        name: str | None = None,
        description: str | None = None,
        rule: Any = None,
        iab_ids: list[int] | None = None,
        active: bool | None = None,
    ) -> Segment:
        if name is not None:
            segment.name = name
        if description is not None:
            segment.description = description
        if active is not None:
            segment.active = active
        parsed: Rule | None = None
        if rule is not None:
            if segment.kind is not SegmentKind.RULE:
                raise InvalidRule(
                    "Only rule segments have a rule.",
                    errors=[{"path": "$", "code": "not_a_rule_segment", "message": "no rule"}],
                )
            parsed = self.validate_rule(rule, at="$.rule")
            segment.rule = dump_rule(parsed)
            segment.version += 1
            if iab_ids is None:
                segment.iab_ids = self.derive_iab_ids(parsed)
        if iab_ids is not None:
            segment.iab_ids = self._checked_iab_ids(iab_ids)
        segment.updated_at = self.clock()
        self.session.flush()
        if parsed is not None:
            self.refresh_segment(segment, parsed)
        return segment

    def delete_segment(self, segment: Segment) -> None:
        self.session.execute(
            delete(Segment)
            .where(Segment.id == segment.id)
            .execution_options(synchronize_session=False)
        )
        self.session.expunge(segment)

    def _checked_iab_ids(self, ids: list[int]) -> list[int]:
        unknown = taxonomy.unknown_ids(ids)
        if unknown:
            errors = [
                {
                    "path": f"$.iab_ids[{ids.index(i)}]",
                    "code": "unknown_iab_id",
                    "message": f"{i} is not in tastegraph's Audience Taxonomy 1.1 subset",
                }
                for i in unknown
            ]
            raise InvalidRule(errors[0]["message"], errors=errors)
        return sorted(set(ids))

    def derive_iab_ids(self, rule: Rule) -> list[int]:
        """Audience Taxonomy 1.1 ids for what a rule is about (its branches not under "not")."""
        ids: set[int] = set()
        item_ids: list[int] = []
        for node, _path in positive_nodes(rule):
            kinds = frozenset(getattr(node, "kinds", None) or ())
            for kind in kinds:
                ids.update(taxonomy.KIND_IDS[kind])
            tags = list(getattr(node, "tags", None) or ())
            for tag in tags:
                ids.update(taxonomy.ids_for_tag(tag, kinds=kinds))
            if tags and not kinds:
                ids.update(self._tagged_domain_ids(tags))
            if isinstance(node, ItemRule | InterestRule):
                item_ids += node.items
            elif isinstance(node, CreatorRule):
                item_ids += node.creators
            elif isinstance(node, AgeRule):
                ids.update(taxonomy.ids_for_age(node.min, node.max))
        if item_ids:
            for kind in self.session.scalars(select(Item.kind).where(Item.id.in_(item_ids))):
                ids.update(taxonomy.KIND_IDS[kind])
        return sorted(ids)

    def _tagged_domain_ids(self, tags: Sequence[str]) -> set[int]:
        """The domain ids (music, TV, film, sport) of the items that carry these tags."""
        keys = [identity(t)[:64] for t in tags]
        kinds = self.session.scalars(
            select(Item.kind)
            .join(ItemTag, ItemTag.item_id == Item.id)
            .join(Tag, Tag.id == ItemTag.tag_id)
            .where(Tag.key.in_(keys))
            .distinct()
        )
        return {i for kind in kinds for i in taxonomy.KIND_IDS[kind]}

    # -- refreshing -----------------------------------------------------------------------------

    def refresh_segment(self, segment: Segment, rule: Rule | None = None) -> tuple[int, int]:
        """Bring one segment's materialised members up to date as a diff: the rule is evaluated
        once in the database, and only new members are inserted and departed ones deleted.
        Snapshot segments (lookalikes, clusters) only lose members no longer eligible."""
        now = self.clock()
        if segment.kind is not SegmentKind.RULE or segment.rule is None:
            eligible = self._eligible_select().subquery()
            removed = _rowcount(
                self.session.execute(
                    delete(SegmentMember)
                    .where(
                        SegmentMember.segment_id == segment.id,
                        SegmentMember.user_id.not_in(select(eligible.c.id)),
                    )
                    .execution_options(synchronize_session=False)
                )
            )
            self._recount(segment, now, changed=removed > 0)
            return 0, removed
        parsed = rule if rule is not None else parse_rule(segment.rule)
        return self.apply_members(segment, self.session.scalars(self.members_query(parsed)))

    def apply_members(self, segment: Segment, members: Iterable[int]) -> tuple[int, int]:
        """Make ``members`` the rule segment's members, as a diff: only new members are
        inserted and departed ones deleted, then the count and the member hooks. The members
        come from the rule evaluated in the database (``refresh_segment``) or elsewhere (the
        batch job that evaluates rules on Spark); they must be eligible users."""
        now = self.clock()
        wanted = set(members)
        have = set(
            self.session.scalars(
                select(SegmentMember.user_id).where(SegmentMember.segment_id == segment.id)
            )
        )
        new, gone = sorted(wanted - have), sorted(have - wanted)
        for chunk in _chunks(new):
            self.session.execute(
                insert_or_ignore(self.session, SegmentMember.__table__),
                [{"segment_id": segment.id, "user_id": u, "added_at": now} for u in chunk],
            )
        for chunk in _chunks(gone):
            self.session.execute(
                delete(SegmentMember)
                .where(SegmentMember.segment_id == segment.id, SegmentMember.user_id.in_(chunk))
                .execution_options(synchronize_session=False)
            )
        segment.member_count = len(wanted)
        segment.refreshed_at = now
        self.session.flush()
        if new or gone:
            self._members_changed([segment.id])
        return len(new), len(gone)

    def _recount(self, segment: Segment, now: datetime, *, changed: bool = True) -> None:
        """After members were added or removed in bulk: the count, and (when they ``changed``)
        the member hooks."""
        count = self.session.scalar(
            select(func.count()).where(SegmentMember.segment_id == segment.id)
        )
        segment.member_count = int(count or 0)
        segment.refreshed_at = now
        self.session.flush()
        if changed:
            self._members_changed([segment.id])

    def _members_changed(self, segment_ids: Sequence[int]) -> None:
        if segment_ids:
            for hook in self.member_hooks:
                hook(self.session, segment_ids)

    def refresh(
        self, *, older_than: float | None = None, segment_ids: Sequence[int] | None = None
    ) -> RefreshReport:
        """Refresh segments (all, those named, or those refreshed more than ``older_than``
        seconds ago). A segment whose stored rule no longer validates (a tag that became
        sensitive, a deleted item) is emptied and deactivated."""
        started = time.perf_counter()
        report = RefreshReport()
        query = select(Segment).where(Segment.active.is_(True)).order_by(Segment.id)
        if segment_ids is not None:
            query = query.where(Segment.id.in_(list(segment_ids)))
        if older_than is not None:
            cutoff = self.clock().timestamp() - older_than
            segments = [
                s
                for s in self.session.scalars(query)
                if s.refreshed_at is None or s.refreshed_at.timestamp() <= cutoff
            ]
        else:
            segments = list(self.session.scalars(query))
        for segment in segments:
            try:
                rule = (
                    self.validate_rule(segment.rule) if segment.kind is SegmentKind.RULE else None
                )
            except InvalidRule:
                report.failed.append(segment.id)
                segment.active = False
                self.session.execute(
                    delete(SegmentMember)
                    .where(SegmentMember.segment_id == segment.id)
                    .execution_options(synchronize_session=False)
                )
                self._recount(segment, self.clock())
                continue
            added, removed = self.refresh_segment(segment, rule)
            report.segments += 1
            report.added += added
            report.removed += removed
        report.seconds = time.perf_counter() - started
        return report

    def reevaluate_users(self, user_ids: Sequence[int]) -> tuple[int, int]:
        """The per-user hook (after ingest, a consent or settings change): re-evaluate every
        active rule segment for just these users. Returns (added, removed)."""
        users = sorted(set(user_ids))
        if not users:
            return 0, 0
        now = self.clock()
        table = SegmentMember.__table__
        added = removed = 0
        changed: list[int] = []
        segments = self.session.scalars(
            select(Segment).where(Segment.active.is_(True), Segment.kind == SegmentKind.RULE)
        ).all()
        for segment in segments:
            if segment.rule is None:
                continue
            try:
                rule = parse_rule(segment.rule)
            except InvalidRule:
                continue
            wanted = set(self.session.scalars(self.members_query(rule, only_users=users)))
            have = set(
                self.session.scalars(
                    select(SegmentMember.user_id).where(
                        SegmentMember.segment_id == segment.id, SegmentMember.user_id.in_(users)
                    )
                )
            )
            new = sorted(wanted - have)
            gone = sorted(have - wanted)
            if new:
                self.session.execute(
                    insert_or_ignore(self.session, table),
                    [{"segment_id": segment.id, "user_id": u, "added_at": now} for u in new],
                )
            if gone:
                self.session.execute(
                    delete(SegmentMember)
                    .where(SegmentMember.segment_id == segment.id, SegmentMember.user_id.in_(gone))
                    .execution_options(synchronize_session=False)
                )
            if new or gone:
                segment.member_count = segment.member_count + len(new) - len(gone)
                changed.append(segment.id)
            added += len(new)
            removed += len(gone)
        self.session.flush()
        self._members_changed(changed)
        return added, removed

    # -- aggregates -------------------------------------------------------------------------

    def size(self, segment: Segment) -> SizeEstimate:
        """The live count of the segment's eligible members."""
        count = self.session.scalar(
            select(func.count())
            .select_from(SegmentMember)
            .join(User, User.id == SegmentMember.user_id)
            .outerjoin(AdConsent, AdConsent.user_id == User.id)
            .where(SegmentMember.segment_id == segment.id, eligible_clause(self.clock().year))
        )
        return SizeEstimate(int(count or 0), self.k_floor)

    def breakdown(self, segment: Segment) -> Breakdown:
        """Members by country and by age band; cells under the floor show as "< 100"."""
        year = self.clock().year
        members = (
            select(User.country, User.birth_year, func.count())
            .select_from(SegmentMember)
            .join(User, User.id == SegmentMember.user_id)
            .outerjoin(AdConsent, AdConsent.user_id == User.id)
            .where(SegmentMember.segment_id == segment.id, eligible_clause(year))
            .group_by(User.country, User.birth_year)
        )
        countries: dict[str, int] = {}
        bands: dict[str, int] = {}
        for country, birth_year, count in self.session.execute(members):
            countries[country or "unknown"] = countries.get(country or "unknown", 0) + count
            band = _age_band(birth_year, year)
            bands[band] = bands.get(band, 0) + count

        def cells(counts: dict[str, int], order: list[str]) -> list[tuple[str, int | str]]:
            return [
                (key, SizeEstimate(counts[key], self.k_floor).display)
                for key in order
                if key in counts
            ]

        band_order = [b for b, _lo, _hi in AGE_BANDS] + ["unknown"]
        country_order = sorted(countries, key=lambda c: (-countries[c], c))
        return Breakdown(cells(countries, country_order), cells(bands, band_order))

    def members(self, segment: Segment, *, limit: int = 1000) -> list[tuple[int, str]]:
        """Member ids and names, for administrators debugging a segment. Never for advertisers."""
        return [
            (user_id, name)
            for user_id, name in self.session.execute(
                select(User.id, User.name)
                .join(SegmentMember, SegmentMember.user_id == User.id)
                .where(SegmentMember.segment_id == segment.id)
                .order_by(User.id)
                .limit(limit)
            )
        ]

    # -- lookalikes and clusters --------------------------------------------------------------

    def lookalike(
        self,
        seed: Segment,
        *,
        target_size: int,
        owner: User | None,
        name: str | None = None,
        include_seed: bool = True,
        within_days: int = 365,
    ) -> Segment:
        """A new segment: the seed's eligible members (unless ``include_seed`` is off) and the
        eligible non-members whose taste is most like the seed's, up to ``target_size``."""
        from tastegraph.audiences.lookalike import expand

        seed_members = list(
            self.session.scalars(
                select(SegmentMember.user_id)
                .where(SegmentMember.segment_id == seed.id)
                .where(SegmentMember.user_id.in_(self._eligible_select()))
            )
        )
        if not seed_members:
            raise InvalidLookalike("The seed segment has no consenting members to expand.")
        if include_seed and target_size < len(seed_members):
            raise InvalidLookalike(
                f"The target size must be at least the seed's size ({len(seed_members)})."
            )
        wanted = target_size - len(seed_members) if include_seed else target_size
        scored = expand(
            self.session,
            seed_members,
            wanted,
            users=self._eligible_select(),
            now=self.clock(),
            within_days=within_days,
            sensitive=self.sensitive_tag_ids(),
        )
        now = self.clock()
        segment = Segment(
            name=name or f"Like {seed.name}",
            description=f"Lookalike of segment {seed.id} ({seed.name}), modelled.",
            kind=SegmentKind.LOOKALIKE,
            rule=None,
            iab_ids=list(seed.iab_ids or []),
            owner_id=owner.id if owner else None,
            shared=owner is None or owner.is_admin,
            seed_segment_id=seed.id,
            target_size=target_size,
            meta={
                "seed_size": len(seed_members),
                "expanded": len(scored),
                "min_score": round(min((s for _u, s in scored), default=0.0), 6),
                "method": "cosine over tf-idf play counts per artist, show, team, outlet, film",
                "within_days": within_days,
            },
            member_count=0,
            created_at=now,
            updated_at=now,
        )
        self.session.add(segment)
        self.session.flush()
        rows = [
            {"segment_id": segment.id, "user_id": u, "added_at": now, "score": s} for u, s in scored
        ]
        if include_seed:
            rows += [
                {"segment_id": segment.id, "user_id": u, "added_at": now, "score": 1.0}
                for u in seed_members
            ]
        if rows:
            self.session.execute(insert_or_ignore(self.session, SegmentMember.__table__), rows)
        self._recount(segment, now)
        return segment

    def build_clusters(
        self, *, k: int = 12, within_days: int = 180, seed: int = 0
    ) -> list[Segment]:
        """Replace the automatic interest clusters: k-means over eligible users' tag profiles,
        each labelled with its top three tags."""
        from tastegraph.audiences.clusters import cluster_users

        clusters = cluster_users(
            self.session,
            users=self._eligible_select(),
            now=self.clock(),
            within_days=within_days,
            k=k,
            seed=seed,
            sensitive=self.sensitive_tag_ids(),
        )
        self.session.execute(
            delete(Segment)
            .where(Segment.kind == SegmentKind.CLUSTER)
            .execution_options(synchronize_session=False)
        )
        self.session.expire_all()
        now = self.clock()
        made: list[Segment] = []
        for cluster in clusters:
            ids: set[int] = set()
            for tag in cluster.top_tags:
                ids.update(taxonomy.ids_for_tag(tag))
            ids.update(self._tagged_domain_ids(cluster.top_tags))
            segment = Segment(
                name=" · ".join(cluster.top_tags) or "mixed taste",
                description="Automatic interest cluster, labelled from its top tags.",
                kind=SegmentKind.CLUSTER,
                rule=None,
                iab_ids=sorted(ids),
                owner_id=None,
                shared=True,
                meta={
                    "top_tags": cluster.top_tags,
                    "k": k,
                    "within_days": within_days,
                    "method": "k-means over tf-idf user x tag profiles",
                },
                member_count=0,
                created_at=now,
                updated_at=now,
            )
            self.session.add(segment)
            self.session.flush()
            if cluster.user_ids:
                self.session.execute(
                    insert_or_ignore(self.session, SegmentMember.__table__),
                    [
                        {"segment_id": segment.id, "user_id": u, "added_at": now}
                        for u in cluster.user_ids
                    ],
                )
            self._recount(segment, now)
            made.append(segment)
        return made

    # -- export -------------------------------------------------------------------------------

    def export(self, user: User | None) -> dict[str, Any]:
        """The segments a manager may see, as Seller Defined Audiences with IAB Audience
        Taxonomy 1.1 ids (segtax 4): only aggregates, and only sellable segments in ``data``."""
        segments = [s for s in self.visible_segments(user) if s.active]
        sellable = [s for s in segments if s.member_count >= self.k_floor]
        taxonomy_ids = sorted({i for s in sellable for i in (s.iab_ids or [])})
        return {
            "segtax": taxonomy.SEGTAX_AUDIENCE_1_1,
            "taxonomy": "IAB Tech Lab Audience Taxonomy 1.1",
            "provider": self.provider,
            "generated_at": self.clock().isoformat(),
            "k_anonymity_floor": self.k_floor,
            "data": [
                {
                    "name": self.provider,
                    "ext": {"segtax": taxonomy.SEGTAX_AUDIENCE_1_1},
                    "segment": [{"id": str(i), "name": taxonomy.name_of(i)} for i in taxonomy_ids],
                }
            ],
            "segments": [
                {
                    "id": s.id,
                    "name": s.name,
                    "kind": s.kind.value,
                    "targetable": s.member_count >= self.k_floor,
                    "size": SizeEstimate(s.member_count, self.k_floor).display,
                    "segtax": taxonomy.SEGTAX_AUDIENCE_1_1,
                    "iab": [{"id": str(i), "name": taxonomy.name_of(i)} for i in (s.iab_ids or [])],
                    "dts": _dts_label(s),
                    "refreshed_at": s.refreshed_at.isoformat() if s.refreshed_at else None,
                }
                for s in segments
            ],
        }


def _age_band(birth_year: int | None, year: int) -> str:
    if birth_year is None:
        return "unknown"
    age = year - birth_year
    for band, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return band
    return "unknown"


def _lookback(rule: dict[str, Any] | None) -> int | None:
    if not rule:
        return None
    days = [rule["within_days"]] if isinstance(rule.get("within_days"), int) else []
    for child in rule.get("rules", []) or []:
        found = _lookback(child)
        if found is not None:
            days.append(found)
    if isinstance(rule.get("rule"), dict):
        found = _lookback(rule["rule"])
        if found is not None:
            days.append(found)
    return max(days) if days else None


def _dts_label(segment: Segment) -> dict[str, Any]:
    """The Data Transparency Standard facts a buyer asks about."""
    return {
        "source": "first-party",
        "construction": "deterministic" if segment.kind is SegmentKind.RULE else "modelled",
        "lookback_days": _lookback(segment.rule)
        if segment.kind is SegmentKind.RULE
        else (segment.meta or {}).get("within_days"),
        "refresh": "continuous (at most 60 s stale)"
        if segment.kind is SegmentKind.RULE
        else "on demand",
        "consent": "TCF v2.2 purposes 3 and 4",
    }


def _chunks(values: list[int], size: int = 5000) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _rowcount(result: Any) -> int:
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


__all__ = [
    "K_ANONYMITY_FLOOR",
    "AudienceService",
    "ConsentState",
    "RefreshReport",
    "RuleUnavailable",
    "SizeEstimate",
]
