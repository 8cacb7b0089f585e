"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import BigInteger, Integer, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement


def insert_or_ignore(session: Session, table: Table | Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's backend."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"tastegraph does not support the {name} backend")


def insert_adding(session: Session, table: Table | Any, keys: Sequence[str], column: str) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET column = column + excluded.column``: rows
    whose key exists add their value to the stored one (counters kept by upserts)."""
    name = session.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"tastegraph does not support the {name} backend")
    stmt = (postgresql.insert if name == "postgresql" else sqlite.insert)(table)
    target = stmt.table.c[column]
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={column: target + stmt.excluded[column]}
    )


class utc_day(FunctionElement[int]):  # noqa: N801 - an SQL function's name
    """Days since 1970-01-01 of a UTC datetime column, as an integer."""

    type = Integer()
    inherit_cache = True


# SQLite stores UTC datetimes as naive ISO text, which its date functions read as UTC.
@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"(CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER) / 86400)"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"CAST(floor(extract(epoch FROM {arg}) / 86400) AS INTEGER)"


class utc_month(FunctionElement[int]):  # noqa: N801
    """Months since January 1970 of a UTC datetime column: (year - 1970) * 12 + month - 1."""

    type = Integer()
    inherit_cache = True


class utc_year(FunctionElement[int]):  # noqa: N801
    """The UTC year of a datetime column."""

    type = Integer()
    inherit_cache = True


@compiles(utc_month, "sqlite")
def _utc_month_sqlite(element: utc_month, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return (
        f"((CAST(strftime('%Y', {arg}) AS INTEGER) - 1970) * 12"
        f" + CAST(strftime('%m', {arg}) AS INTEGER) - 1)"
    )


@compiles(utc_year, "sqlite")
def _utc_year_sqlite(element: utc_year, compiler: Any, **kw: Any) -> str:
    return f"CAST(strftime('%Y', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(utc_month, "postgresql")
def _utc_month_postgresql(element: utc_month, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return (
        f"CAST((extract(year FROM {arg} AT TIME ZONE 'UTC') - 1970) * 12"
        f" + extract(month FROM {arg} AT TIME ZONE 'UTC') - 1 AS INTEGER)"
    )


@compiles(utc_year, "postgresql")
def _utc_year_postgresql(element: utc_year, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"CAST(extract(year FROM {arg} AT TIME ZONE 'UTC') AS INTEGER)"


class utc_date(FunctionElement[Any]):  # noqa: N801
    """The UTC calendar date of a UTC datetime column (SQLite: its 'YYYY-MM-DD' text)."""

    inherit_cache = True


class date_day(FunctionElement[int]):  # noqa: N801
    """Days since 1970-01-01 of a ``utc_date``. (``date_*`` are cheaper than ``utc_day`` and
    friends when many rows share a date.)"""

    type = Integer()
    inherit_cache = True


class date_month(FunctionElement[int]):  # noqa: N801
    """Months since January 1970 of a ``utc_date``."""

    type = Integer()
    inherit_cache = True


class date_year(FunctionElement[int]):  # noqa: N801
    """The year of a ``utc_date``."""

    type = Integer()
    inherit_cache = True


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@compiles(date_day, "sqlite")
def _date_day_sqlite(element: date_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(date_month, "sqlite")
def _date_month_sqlite(element: date_month, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return (
        f"((CAST(substr({arg}, 1, 4) AS INTEGER) - 1970) * 12"
        f" + CAST(substr({arg}, 6, 2) AS INTEGER) - 1)"
    )


@compiles(date_year, "sqlite")
def _date_year_sqlite(element: date_year, compiler: Any, **kw: Any) -> str:
    return f"CAST(substr({compiler.process(element.clauses, **kw)}, 1, 4) AS INTEGER)"


@compiles(date_day, "postgresql")
def _date_day_postgresql(element: date_day, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


@compiles(date_month, "postgresql")
def _date_month_postgresql(element: date_month, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return (
        f"CAST((extract(year FROM {arg}) - 1970) * 12 + extract(month FROM {arg}) - 1 AS INTEGER)"
    )


@compiles(date_year, "postgresql")
def _date_year_postgresql(element: date_year, compiler: Any, **kw: Any) -> str:
    return f"CAST(extract(year FROM {compiler.process(element.clauses, **kw)}) AS INTEGER)"


class no_index(FunctionElement[Any]):  # noqa: N801
    """The column's value, in a form SQLite's planner will not use an index for (``+col``).

    Without statistics SQLite guesses: given ``items.kind = 'track'`` it may walk every track
    instead of starting from the twenty plays the rest of the query names. PostgreSQL plans
    from statistics and gets the bare column.
    """

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(no_index, "sqlite")
def _no_index_sqlite(element: no_index, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(no_index, "postgresql")
def _no_index_postgresql(element: no_index, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@contextmanager
def planner_settings(session: Session, **settings: str) -> Iterator[None]:
    """PostgreSQL planner settings for the statements inside the block only: the previous
    values come back after it, so the rest of the caller's transaction plans as before.
    Nothing on SQLite."""
    if session.get_bind().dialect.name != "postgresql" or not settings:
        yield
        return
    names = list(settings)
    reads = ", ".join(f"current_setting(:n{i})" for i in range(len(names)))
    named = {f"n{i}": name for i, name in enumerate(names)}
    before = list(session.execute(text(f"SELECT {reads}"), named).one())
    _set_all(session, names, [settings[name] for name in names])
    try:
        yield
    finally:
        _set_all(session, names, [str(value) for value in before])


def _set_all(session: Session, names: list[str], values: list[str]) -> None:
    """Transaction-local values (``set_config(..., true)``) of several settings at once."""
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(names)))
    params = {f"n{i}": name for i, name in enumerate(names)}
    params.update({f"v{i}": value for i, value in enumerate(values)})
    session.execute(text(f"SELECT {calls}"), params)


def roomy_sorts(session: Session, megabytes: int = 64) -> None:
    """Let this transaction's sorts and hash tables use ``megabytes`` before spilling to disk
    (PostgreSQL's ``work_mem``, 4 MB by default; a chart over a long period groups hundreds of
    thousands of rows). Nothing on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{int(megabytes)}MB'"))


class utc_micros(FunctionElement[int]):  # noqa: N801
    """Microseconds since 1970-01-01 of a UTC datetime column, as an exact integer."""

    type = BigInteger()
    inherit_cache = True


# SQLite's text is 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy always writes the microseconds).
@compiles(utc_micros, "sqlite")
def _utc_micros_sqlite(element: utc_micros, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(strftime('%s', {arg}) AS INTEGER) * 1000000"
        f" + CAST(substr({arg}, 21, 6) AS INTEGER))"
    )


@compiles(utc_micros, "postgresql")
def _utc_micros_postgresql(element: utc_micros, compiler: Any, **kw: Any) -> str:
    return (
        f"CAST(extract(epoch FROM {compiler.process(element.clauses, **kw)}) * 1000000 AS BIGINT)"
    )


class day_date(FunctionElement[Any]):  # noqa: N801
    """The date of a day number (days since 1970-01-01), as ``utc_date`` gives it: what the
    ``date_*`` functions take."""

    inherit_cache = True


@compiles(day_date, "sqlite")
def _day_date_sqlite(element: day_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)} * 86400, 'unixepoch')"


@compiles(day_date, "postgresql")
def _day_date_postgresql(element: day_date, compiler: Any, **kw: Any) -> str:
    return f"(DATE '1970-01-01' + CAST({compiler.process(element.clauses, **kw)} AS INTEGER))"


class least(FunctionElement[Any]):  # noqa: N801
    """The smaller of two values, either of which may be NULL (then the other one)."""

    inherit_cache = True

    def __init__(self, left: Any, right: Any) -> None:
        super().__init__(left, right)
        self.type = left.type


class greatest(FunctionElement[Any]):  # noqa: N801
    """The larger of two values, either of which may be NULL (then the other one)."""

    inherit_cache = True

    def __init__(self, left: Any, right: Any) -> None:
        super().__init__(left, right)
        self.type = left.type


def _pair(element: FunctionElement[Any], compiler: Any, **kw: Any) -> tuple[str, str]:
    left, right = list(element.clauses)
    return compiler.process(left, **kw), compiler.process(right, **kw)


# SQLite's two-argument min() and max() are NULL when either argument is; PostgreSQL's LEAST
# and GREATEST skip NULLs.
@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    a, b = _pair(element, compiler, **kw)
    return f"coalesce(min({a}, {b}), {a}, {b})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    a, b = _pair(element, compiler, **kw)
    return f"coalesce(max({a}, {b}), {a}, {b})"


@compiles(least, "postgresql")
def _least_postgresql(element: least, compiler: Any, **kw: Any) -> str:
    a, b = _pair(element, compiler, **kw)
    return f"LEAST({a}, {b})"


@compiles(greatest, "postgresql")
def _greatest_postgresql(element: greatest, compiler: Any, **kw: Any) -> str:
    a, b = _pair(element, compiler, **kw)
    return f"GREATEST({a}, {b})"


class int_div(FunctionElement[int]):  # noqa: N801
    """``a / b`` of two non-negative integers, rounded down, on both backends."""

    type = BigInteger()
    inherit_cache = True


@compiles(int_div)
def _int_div(element: int_div, compiler: Any, **kw: Any) -> str:
    a, b = _pair(element, compiler, **kw)
    return f"(({a}) / ({b}))"
