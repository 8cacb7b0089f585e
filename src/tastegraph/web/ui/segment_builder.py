"""The segment builder's form: rows of conditions <-> the JSON rule language of
``audiences/rules.py``.

The form is a flat list of conditions combined with "all of" (``and``) or "any of" (``or``),
each one optionally excluded (``not``). Deeper nesting is written in the raw JSON editor;
``conditions_from_rule`` says None for a rule the rows cannot show. Values stay as typed, so a
form comes back exactly as it was sent, and validation is left to the audiences area, whose
error paths (``$.rule.rules[1].rule.within_days``) ``row_of_path`` turns into row numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

BEHAVIOUR_TYPES = ("kind", "item", "creator", "tag")
"""Rules that count plays: they take min_plays and within_days."""
KIND_FILTERED = ("item", "creator", "tag")
"""Behaviour rules that can be limited to some item kinds."""
LIST_FIELDS: dict[str, str] = {
    "kind": "kinds",
    "item": "items",
    "creator": "creators",
    "tag": "tags",
    "country": "countries",
    "language": "languages",
    "timezone": "timezones",
    "group": "groups",
}
"""Each list rule's field, which the row's "values" fill."""
INTEGER_LISTS = frozenset({"items", "creators", "groups"})
CONDITION_TYPES: tuple[str, ...] = (*LIST_FIELDS, "age")
COMBINATIONS = ("and", "or")

_ROW = re.compile(r"^\$\.rule\.rules\[(\d+)\]")
_FORM_PREFIX = "cond_"


@dataclass
class Condition:
    """One row of the builder, as typed."""

    type: str = ""
    negate: str = ""
    """"not" to exclude the users the condition selects."""
    values: str = ""
    kinds: str = ""
    min_plays: str = ""
    within_days: str = ""
    age_min: str = ""
    age_max: str = ""

    @property
    def blank(self) -> bool:
        return not self.type


FIELD_NAMES = tuple(f.name for f in fields(Condition))


def split(text: str) -> list[str]:
    """``"DE, AT ,"`` -> ``["DE", "AT"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _number(text: str) -> int | str:
    """An integer where the text is one; else the text, for the rule validation to report."""
    text = text.strip()
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else text


def conditions_from_form(form: Mapping[str, Sequence[str]]) -> list[Condition]:
    """The rows of a posted form: ``cond_type``, ``cond_values`` ... repeated, one per row, in
    order (every row sends every field, so the lists line up)."""
    columns = {name: list(form.get(_FORM_PREFIX + name, [])) for name in FIELD_NAMES}
    count = max((len(values) for values in columns.values()), default=0)
    rows = []
    for index in range(count):
        values = {
            name: (column[index] if index < len(column) else "").strip()
            for name, column in columns.items()
        }
        rows.append(Condition(**values))
    return rows


def condition_rule(condition: Condition) -> dict[str, Any]:
    """The JSON of one (non-blank) row."""
    kind = condition.type
    node: dict[str, Any] = {"type": kind}
    if kind in LIST_FIELDS:
        field = LIST_FIELDS[kind]
        values = split(condition.values)
        node[field] = [_number(v) for v in values] if field in INTEGER_LISTS else values
    if kind in KIND_FILTERED and split(condition.kinds):
        node["kinds"] = split(condition.kinds)
    if kind in BEHAVIOUR_TYPES:
        if condition.min_plays:
            node["min_plays"] = _number(condition.min_plays)
        if condition.within_days:
            node["within_days"] = _number(condition.within_days)
    if kind == "age":
        if condition.age_min:
            node["min"] = _number(condition.age_min)
        if condition.age_max:
            node["max"] = _number(condition.age_max)
    return {"type": "not", "rule": node} if condition.negate == "not" else node


def rule_from_conditions(combine: str, conditions: Sequence[Condition]) -> dict[str, Any] | None:
    """``{"type": "and"|"or", "rules": [...]}`` of the non-blank rows; None if all are blank.

    The combination is kept even around one row, so that ``$.rule.rules[i]`` always names the
    i-th filled row in error paths."""
    rules = [condition_rule(c) for c in conditions if not c.blank]
    if not rules:
        return None
    return {"type": combine if combine in COMBINATIONS else "and", "rules": rules}


def _row_of(node: Any) -> Condition | None:
    negate = ""
    if isinstance(node, dict) and node.get("type") == "not":
        negate, node = "not", node.get("rule")
    if not isinstance(node, dict) or node.get("type") not in CONDITION_TYPES:
        return None
    kind = node["type"]
    allowed = {"type"}
    row = Condition(type=kind, negate=negate)
    if kind in LIST_FIELDS:
        field = LIST_FIELDS[kind]
        allowed.add(field)
        row.values = ", ".join(str(v) for v in node.get(field) or [])
    if kind in KIND_FILTERED:
        allowed.add("kinds")
        row.kinds = ", ".join(str(v) for v in node.get("kinds") or [])
    if kind in BEHAVIOUR_TYPES:
        allowed |= {"min_plays", "within_days"}
        row.min_plays = str(node.get("min_plays", ""))
        row.within_days = str(node.get("within_days", ""))
    if kind == "age":
        allowed |= {"min", "max"}
        row.age_min = str(node.get("min", ""))
        row.age_max = str(node.get("max", ""))
    if set(node) - allowed:
        return None  # e.g. distinct_items: only the JSON editor shows it
    return row


def conditions_from_rule(rule: Any) -> tuple[str, list[Condition]] | None:
    """(combination, rows) of a rule the builder can show, else None."""
    if isinstance(rule, dict) and rule.get("type") in COMBINATIONS:
        children = rule.get("rules")
        if not isinstance(children, list) or not children:
            return None
        rows = [_row_of(child) for child in children]
        if any(row is None for row in rows):
            return None
        return str(rule["type"]), [row for row in rows if row is not None]
    single = _row_of(rule)
    return ("and", [single]) if single is not None else None


def row_of_path(path: str, conditions: Sequence[Condition]) -> int | None:
    """The 1-based number of the form row an error path points into (None: not a row)."""
    found = _ROW.match(path)
    if found is None:
        return None
    filled = [number for number, c in enumerate(conditions, start=1) if not c.blank]
    index = int(found.group(1))
    return filled[index] if index < len(filled) else None
