"""Rules → SQL (SQLAlchemy Core), so segments are evaluated inside the database.

``compile_rule`` turns a rule tree into a boolean condition over ``users`` (joined to
``ad_consents`` by the caller). Behaviour rules become ``users.id IN (SELECT plays.user_id …
GROUP BY … HAVING count(*) >= n)`` over the play log, with the played item (``i0``), its parent
(``i1``) and its grandparent (``i1.parent_id``) at hand, and plays of sensitive items left out.
The same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    distinct,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from tastegraph.accounts.models import User
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
from tastegraph.catalog.models import Item, ItemCredit, ItemTag, Tag
from tastegraph.ingest.models import Play

InterestResolver = Callable[[InterestRule], Sequence[int]]
"""Evaluates an interest rule outside SQL; returns the matching user ids."""
GroupResolver = Callable[[GroupRule], ColumnElement[bool]]
"""A condition over ``users.id`` for group membership, where groups exist."""


@dataclass
class CompileContext:
    now: datetime
    sensitive_tag_ids: Sequence[int] = ()
    interest: InterestResolver | None = None
    groups: GroupResolver | None = None
    only_users: Sequence[int] | None = None
    """Restrict behaviour subqueries to these users (per-user re-evaluation)."""
    _cache: dict[int, Sequence[int]] = field(default_factory=dict)

    @property
    def year(self) -> int:
        return self.now.year


class PlayContext:
    """A play with its item, the item's parent and grandparent id, for one subquery."""

    def __init__(self) -> None:
        self.i0 = aliased(Item, name="i0")
        self.i1 = aliased(Item, name="i1")

    @property
    def related(self) -> list[Any]:
        """The played item, its parent and its grandparent."""
        return [self.i0.id, self.i1.id, self.i1.parent_id]

    def base(self) -> Select[int]:
        return (
            select(Play.user_id)
            .join(self.i0, self.i0.id == Play.item_id)
            .outerjoin(self.i1, self.i1.id == self.i0.parent_id)
        )


def compile_rule(rule: Rule, ctx: CompileContext) -> ColumnElement[bool]:
    """The condition over ``users`` that a rule stands for."""
    if isinstance(rule, AndRule):
        return and_(*(compile_rule(r, ctx) for r in rule.rules))
    if isinstance(rule, OrRule):
        return or_(*(compile_rule(r, ctx) for r in rule.rules))
    if isinstance(rule, NotRule):
        return not_(compile_rule(rule.rule, ctx))
    if isinstance(rule, KindRule | ItemRule | CreatorRule | TagRule):
        return User.id.in_(behaviour_subquery(rule, ctx))
    if isinstance(rule, InterestRule | GroupRule):
        return _interest(rule, ctx) if isinstance(rule, InterestRule) else _group(rule, ctx)
    return _account(rule, ctx.year)


def _group(rule: GroupRule, ctx: CompileContext) -> ColumnElement[bool]:
    return ctx.groups(rule) if ctx.groups is not None else false()


def _account(
    rule: CountryRule | LanguageRule | TimezoneRule | AgeRule | BirthYearRule, year: int
) -> ColumnElement[bool]:
    """Rules over the account's own fields."""
    if isinstance(rule, CountryRule):
        return User.country.in_(rule.countries)
    if isinstance(rule, LanguageRule):
        return or_(
            *(or_(User.locale == code, User.locale.like(f"{code}-%")) for code in rule.languages)
        )
    if isinstance(rule, TimezoneRule):
        return User.timezone.in_(rule.timezones)
    low, high = (
        (year - rule.min, None if rule.max is None else year - rule.max)
        if isinstance(rule, AgeRule)
        else (rule.to_year, rule.from_year)
    )
    parts: list[ColumnElement[bool]] = [User.birth_year.is_not(None)]
    if low is not None:
        parts.append(User.birth_year <= low)
    if high is not None:
        parts.append(User.birth_year >= high)
    return and_(*parts)


def _interest(rule: InterestRule, ctx: CompileContext) -> ColumnElement[bool]:
    if ctx.interest is None:
        return false()
    key = id(rule)
    if key not in ctx._cache:
        ctx._cache[key] = list(ctx.interest(rule))
    users = ctx._cache[key]
    return User.id.in_(users) if users else false()


def not_sensitive(pc: PlayContext, sensitive_tag_ids: Sequence[int]) -> ColumnElement[bool]:
    """The play's item, parent and grandparent carry no sensitive tag."""
    if not sensitive_tag_ids:
        return true()
    return ~exists(
        select(ItemTag.item_id).where(
            ItemTag.item_id.in_(pc.related), ItemTag.tag_id.in_(list(sensitive_tag_ids))
        )
    )


def behaviour_subquery(
    rule: KindRule | ItemRule | CreatorRule | TagRule, ctx: CompileContext
) -> Select[int]:
    pc = PlayContext()
    conditions: list[ColumnElement[bool]] = [
        not_sensitive(pc, ctx.sensitive_tag_ids),
        Play.played_at <= ctx.now,  # "the last n days" end now (and a past ``now`` replays)
    ]
    if rule.within_days is not None:
        conditions.append(Play.played_at >= ctx.now - timedelta(days=rule.within_days))
    if ctx.only_users is not None:
        conditions.append(Play.user_id.in_(list(ctx.only_users)))
    if isinstance(rule, KindRule):
        conditions.append(pc.i0.kind.in_(rule.kinds))
    else:
        if rule.kinds:
            conditions.append(pc.i0.kind.in_(rule.kinds))
        if isinstance(rule, ItemRule):
            conditions.append(or_(*(column.in_(rule.items) for column in pc.related)))
        elif isinstance(rule, CreatorRule):
            conditions.append(
                or_(
                    pc.i1.id.in_(rule.creators),
                    pc.i1.parent_id.in_(rule.creators),
                    exists(
                        select(ItemCredit.item_id).where(
                            ItemCredit.item_id.in_([pc.i0.id, pc.i1.id]),
                            ItemCredit.credited_id.in_(rule.creators),
                        )
                    ),
                )
            )
        else:
            # The items carrying the tags, listed once: cheaper than a lookup per play.
            tagged = (
                select(ItemTag.item_id)
                .join(Tag, Tag.id == ItemTag.tag_id)
                .where(Tag.key.in_(rule.tags))
                .scalar_subquery()
            )
            conditions.append(or_(*(column.in_(tagged) for column in pc.related)))
    query = pc.base().where(*conditions)
    if rule.distinct_items:
        return query.group_by(Play.user_id).having(
            func.count(distinct(Play.item_id)) >= rule.min_plays
        )
    if rule.min_plays > 1:
        return query.group_by(Play.user_id).having(func.count() >= rule.min_plays)
    return query
