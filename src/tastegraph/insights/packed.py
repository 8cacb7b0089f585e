"""Many integers in one value: how a title's plays and viewers travel between the database and
numpy.

A page about a title watched by 50,000 people counts 200,000 plays. Grouping them in SQL
twice (by viewer and week for the weeks, by viewer for the breakdowns) and joining the result
three times cost most of a second; fetching them as rows costs as much in Python. Aggregated
into one value instead — PostgreSQL: the big-endian bytes of each integer, SQLite: a
comma-separated list (its data is small) — they arrive in one row and become a numpy array
without a Python object per play, and numpy counts them in milliseconds. The way back (the
viewers of a title, to join to users, segments and groups) is one text parameter unnested by
the database.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Select, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType

IntArray = np.ndarray[Any, np.dtype[np.int64]]


class packed(FunctionElement[Any]):  # noqa: N801 - an SQL aggregate's name
    """An aggregate: every value of an integer column of the group, in one value (order
    unspecified; duplicates kept). ``unpack`` reads it."""

    type = NullType()
    inherit_cache = True


@compiles(packed, "postgresql")
def _packed_postgresql(element: packed, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"string_agg(int8send(CAST({arg} AS BIGINT)), ''::bytea)"


@compiles(packed, "sqlite")
def _packed_sqlite(element: packed, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)})"


def unpack(value: bytes | memoryview | str | None) -> IntArray:
    """The integers of a ``packed`` value (none for a group without rows)."""
    if value is None:
        return np.zeros(0, dtype=np.int64)
    if isinstance(value, str):
        return np.array(value.split(","), dtype=np.int64) if value else np.zeros(0, np.int64)
    return np.frombuffer(bytes(value), dtype=">i8").astype(np.int64)


def distinct(ids: IntArray) -> IntArray:
    """The distinct ids, ascending: one sort and a comparison with the neighbour (numpy's
    ``unique`` hashes and took ten times as long for 185,000 ids)."""
    if not len(ids):
        return ids
    ordered = np.sort(ids)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def id_rows(session: Session, ids: IntArray, name: str = "ids") -> Select[Any]:
    """A one-column select (``user_id``) of the given ids, from one text parameter: an array
    literal unnested on PostgreSQL, a JSON array read by ``json_each`` on SQLite."""
    listed = ",".join(map(str, ids.tolist()))
    if session.get_bind().dialect.name == "postgresql":
        param: BindParameter[str] = bindparam(name, "{" + listed + "}")
        return select(func.unnest(cast(param, ARRAY(BigInteger))).label("user_id"))
    return select(literal_column("value").label("user_id")).select_from(
        func.json_each(bindparam(name, "[" + listed + "]"))
    )
