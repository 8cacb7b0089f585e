"""Sets of hundreds of user ids as one SQL parameter, rendered once per set.

A feed filters several statements by the same few hundred people. As hundreds of placeholders
each statement would be built, rendered and sent again for every page; as one parameter (an
array on PostgreSQL, a JSON array on SQLite) it is one value, and rendering that value once for
all the page's statements keeps the ids' conversion out of every statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Text,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session


def id_array(ids: Iterable[int]) -> ColumnElement[Any]:
    """A PostgreSQL array of ids, sent as its text (``{1,2,3}``): psycopg's list dumper looks
    at every element in Python, which for hundreds of ids costs more than the query."""
    text_ = "{" + ",".join(map(str, ids)) + "}"
    return sql_cast(bindparam(None, text_, type_=Text), postgresql.ARRAY(BigInteger))


class IdSet:
    """Ids, sorted, with ``column IN ids`` for the session's database built once."""

    def __init__(self, session: Session, ids: Iterable[int]) -> None:
        self.ids: list[int] = sorted({int(i) for i in ids})
        self._postgresql = session.get_bind().dialect.name == "postgresql"
        self._array: ColumnElement[Any] | None = None
        self._listed: Select[Any] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def array(self) -> ColumnElement[Any]:
        """The ids as a PostgreSQL array (for ``unnest``)."""
        assert self._postgresql
        if self._array is None:
            self._array = id_array(self.ids)
        return self._array

    def has(self, column: Any) -> ColumnElement[bool]:
        """``column IN ids``."""
        if self._postgresql:
            return column == any_(self.array())  # type: ignore[no-any-return]
        if self._listed is None:
            self._listed = select(literal_column("value")).select_from(
                func.json_each(bindparam(None, json.dumps(self.ids)))
            )
        return column.in_(self._listed)  # type: ignore[no-any-return]
