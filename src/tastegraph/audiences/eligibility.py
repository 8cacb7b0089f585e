"""Who may be profiled for advertising at all: consenting adults.

A user is *eligible* when they gave both TCF purposes (3: build a profile, 4: use it to select
ads) and are known to be an adult. Age comes from ``users.birth_year``, which gives only a year,
so the rule is conservative:

* born at least 19 years before this year: certainly 18 or older, an adult;
* born exactly 18 years before this year (17 or 18 today) or of unknown age: an adult only if
  they declared so when consenting (``ad_consents.declared_adult``);
* born later: a minor, never profiled whatever they declared (DSA Art. 28(2)).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true

from tastegraph.accounts.models import User
from tastegraph.audiences.models import AdConsent

ADULT_AGE = 18


def adult_clause(year: int) -> ColumnElement[bool]:
    """True for users who are adults by their birth year or by their declaration."""
    return or_(
        User.birth_year <= year - ADULT_AGE - 1,
        and_(
            func.coalesce(AdConsent.declared_adult, false()).is_(True),
            or_(User.birth_year.is_(None), User.birth_year == year - ADULT_AGE),
        ),
    )


def eligible_clause(year: int) -> ColumnElement[bool]:
    """The condition over ``users`` *outer*-joined to ``ad_consents`` that makes a user eligible.

    ``users.consent_ad_profiling`` is the account's "both purposes" flag; a user without an
    ``ad_consents`` row (the demo, accounts older than the audiences area) has it as both."""
    return and_(
        User.consent_ad_profiling.is_(True),
        func.coalesce(AdConsent.profiling, true()).is_(True),
        func.coalesce(AdConsent.personalised_ads, true()).is_(True),
        adult_clause(year),
    )


def eligible_users(year: int) -> Select[int]:
    """``SELECT users.id`` of every eligible user."""
    return (
        select(User.id)
        .outerjoin(AdConsent, AdConsent.user_id == User.id)
        .where(eligible_clause(year))
    )


def is_adult(birth_year: int | None, declared_adult: bool, year: int) -> bool:
    """The same rule as ``adult_clause``, for one user in Python."""
    if birth_year is not None and birth_year <= year - ADULT_AGE - 1:
        return True
    if birth_year is not None and birth_year > year - ADULT_AGE:
        return False
    return declared_adult
