"""The segment rule language: JSON documents validated into a tree of typed rules.

Every node is an object with a ``type``::

    {"type": "and", "rules": [
        {"type": "creator", "creators": [42], "kinds": ["match"],
         "min_plays": 3, "within_days": 30},
        {"type": "country", "countries": ["DE", "AT"]},
        {"type": "not", "rule": {"type": "age", "max": 24}}]}

Behaviour rules (``kind``, ``item``, ``creator``, ``tag``) count the user's plays (never incognito
plays, never plays of sensitive items) that match, optionally only those of the last
``within_days`` days and of some ``kinds``, and hold when there are at least ``min_plays`` (or,
with ``distinct_items``, that many different items). ``interest`` compares the user's taste with
items or tags. ``country``, ``language``, ``timezone``, ``age``, ``birth_year`` and ``group`` test
the account. ``and``, ``or`` and ``not`` combine.

``parse_rule`` returns the tree or raises ``InvalidRule`` whose ``errors`` give the JSON path of
each problem (``$.rules[0].min_plays``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from tastegraph.audiences.errors import InvalidRule
from tastegraph.audiences.sensitive import sensitive_category
from tastegraph.catalog.kinds import Kind
from tastegraph.catalog.matching import identity
from tastegraph.locales import normalize_country, normalize_timezone

MAX_DEPTH = 8
MAX_NODES = 200

_strict = ConfigDict(extra="forbid", frozen=True)


def _tag(value: str) -> str:
    key = identity(value.strip())[:64]
    if not key:
        raise ValueError("a tag cannot be empty")
    category = sensitive_category(key)
    if category is not None:
        raise ValueError(
            f"the tag {value!r} belongs to a special category ({category}) and can never be "
            "used for targeting"
        )
    return key


def _language(value: str) -> str:
    code = value.strip().lower()
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha()):
        raise ValueError("a language is an ISO 639 code of 2 or 3 letters, such as 'de' or 'pt'")
    return code


TagName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_tag)]
Country = Annotated[str, AfterValidator(normalize_country)]
TimeZone = Annotated[str, AfterValidator(normalize_timezone)]
Language = Annotated[str, AfterValidator(_language)]
ItemId = Annotated[int, Field(ge=1)]


class _Behaviour(BaseModel):
    model_config = _strict

    min_plays: int = Field(default=1, ge=1, le=100_000)
    """How many plays (or, with ``distinct_items``, different items) are needed."""
    within_days: int | None = Field(default=None, ge=1, le=3650)
    """Count only plays of the last so many days; absent = all time."""
    distinct_items: bool = False


class KindRule(_Behaviour):
    """Plays of items of these kinds: ``{"type": "kind", "kinds": ["match"], "min_plays": 3}``."""

    type: Literal["kind"]
    kinds: list[Kind] = Field(min_length=1, max_length=13)


class ItemRule(_Behaviour):
    """Plays of these items or of anything under them (a show's episodes, an album's tracks)."""

    type: Literal["item"]
    items: list[ItemId] = Field(min_length=1, max_length=100)
    kinds: list[Kind] | None = Field(default=None, min_length=1, max_length=13)


class CreatorRule(_Behaviour):
    """Plays of items these creators made or take part in: an artist (also as featured), a
    show, a team (home or away), a competition, an outlet, a director."""

    type: Literal["creator"]
    creators: list[ItemId] = Field(min_length=1, max_length=100)
    kinds: list[Kind] | None = Field(default=None, min_length=1, max_length=13)


class TagRule(_Behaviour):
    """Plays of items carrying any of these tags (on the item, its parent or grandparent)."""

    type: Literal["tag"]
    tags: list[TagName] = Field(min_length=1, max_length=50)
    kinds: list[Kind] | None = Field(default=None, min_length=1, max_length=13)


class InterestRule(BaseModel):
    """Taste close to some items or tags: cosine similarity of the user's recent taste with
    the target, over the taste model's item embeddings when one is trained, else over tags."""

    model_config = _strict

    type: Literal["interest"]
    items: list[ItemId] = Field(default_factory=list, max_length=100)
    tags: list[TagName] = Field(default_factory=list, max_length=50)
    min_similarity: float = Field(default=0.3, gt=0.0, le=1.0)
    within_days: int = Field(default=180, ge=1, le=3650)

    @model_validator(mode="after")
    def _has_target(self) -> InterestRule:
        if not self.items and not self.tags:
            raise ValueError("an interest rule needs 'items' or 'tags'")
        return self


class CountryRule(BaseModel):
    model_config = _strict

    type: Literal["country"]
    countries: list[Country] = Field(min_length=1, max_length=250)


class LanguageRule(BaseModel):
    """The language of the user's locale (``pt`` matches ``pt-BR``)."""

    model_config = _strict

    type: Literal["language"]
    languages: list[Language] = Field(min_length=1, max_length=100)


class TimezoneRule(BaseModel):
    model_config = _strict

    type: Literal["timezone"]
    timezones: list[TimeZone] = Field(min_length=1, max_length=100)


class AgeRule(BaseModel):
    """Declared age from the birth year (this year minus it). Minors are never targeted, so
    ``min`` is at least 18; users without a birth year never match."""

    model_config = _strict

    type: Literal["age"]
    min: int = Field(default=18, ge=18, le=120)
    max: int | None = Field(default=None, ge=18, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> AgeRule:
        if self.max is not None and self.max < self.min:
            raise ValueError("'max' must not be below 'min'")
        return self


class BirthYearRule(BaseModel):
    model_config = _strict

    type: Literal["birth_year"]
    from_year: int | None = Field(default=None, ge=1900, le=2100)
    to_year: int | None = Field(default=None, ge=1900, le=2100)

    @model_validator(mode="after")
    def _ordered(self) -> BirthYearRule:
        if self.from_year is None and self.to_year is None:
            raise ValueError("give 'from_year', 'to_year' or both")
        if self.from_year and self.to_year and self.to_year < self.from_year:
            raise ValueError("'to_year' must not be before 'from_year'")
        return self


class GroupRule(BaseModel):
    """Members of any of these groups (needs the social area's groups)."""

    model_config = _strict

    type: Literal["group"]
    groups: list[ItemId] = Field(min_length=1, max_length=100)


class AndRule(BaseModel):
    model_config = _strict

    type: Literal["and"]
    rules: list[Rule] = Field(min_length=1, max_length=50)


class OrRule(BaseModel):
    model_config = _strict

    type: Literal["or"]
    rules: list[Rule] = Field(min_length=1, max_length=50)


class NotRule(BaseModel):
    model_config = _strict

    type: Literal["not"]
    rule: Rule


Rule = Annotated[
    KindRule
    | ItemRule
    | CreatorRule
    | TagRule
    | InterestRule
    | CountryRule
    | LanguageRule
    | TimezoneRule
    | AgeRule
    | BirthYearRule
    | GroupRule
    | AndRule
    | OrRule
    | NotRule,
    Field(discriminator="type"),
]
BehaviourRule = KindRule | ItemRule | CreatorRule | TagRule

AndRule.model_rebuild()
OrRule.model_rebuild()
NotRule.model_rebuild()

_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)

RULE_TYPES = (
    "kind",
    "item",
    "creator",
    "tag",
    "interest",
    "country",
    "language",
    "timezone",
    "age",
    "birth_year",
    "group",
    "and",
    "or",
    "not",
)


def json_path(loc: tuple[int | str, ...], document: Any, root: str = "$") -> str:
    """``$.rules[0].min_plays`` from a pydantic location, dropping discriminator tags.

    Pydantic puts the tag of a discriminated union into the location (``rules.0.kind.min_plays``);
    walking the document alongside tells a tag from a real key.
    """
    path = root
    node = document
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        elif isinstance(node, dict) and part in node:
            path += f".{part}"
            node = node[part]
        elif isinstance(node, dict) and node.get("type") == part:
            continue  # the discriminator's tag, not a key of the document
        else:
            path += f".{part}"
            node = None
    return path


def _message(error: Any) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] == "union_tag_invalid":
        message = f"unknown rule type; use one of: {', '.join(RULE_TYPES)}"
    elif error["type"] == "union_tag_not_found":
        message = f"a rule needs a 'type', one of: {', '.join(RULE_TYPES)}"
    return message


def parse_rule(document: Any, *, at: str = "$") -> Rule:
    """Validate a JSON rule, or raise ``InvalidRule`` listing every problem with its path
    (``at`` is the path of the rule itself, e.g. ``$.rule`` inside a request body)."""
    try:
        rule = _ADAPTER.validate_python(document)
    except ValidationError as exc:
        errors = [
            {
                "path": json_path(tuple(e["loc"]), document, at),
                "code": e["type"],
                "message": _message(e),
            }
            for e in exc.errors(include_url=False)
        ]
        first = errors[0]
        raise InvalidRule(f"{first['path']}: {first['message']}", errors=errors) from None
    problems = list(_shape_problems(rule, at))
    if problems:
        errors = [{"path": p, "code": "rule_too_large", "message": m} for p, m in problems]
        raise InvalidRule(f"{problems[0][0]}: {problems[0][1]}", errors=errors)
    return rule


def _shape_problems(rule: Rule, at: str) -> Iterator[tuple[str, str]]:
    count = 0
    for _node, path, depth in walk(rule, at):
        count += 1
        if depth > MAX_DEPTH:
            yield path, f"rules may nest at most {MAX_DEPTH} levels deep"
            return
    if count > MAX_NODES:
        yield at, f"a rule may have at most {MAX_NODES} nodes, this one has {count}"


def walk(rule: Rule, path: str = "$", depth: int = 1) -> Iterator[tuple[Rule, str, int]]:
    """Every node with its JSON path and depth, parents first."""
    yield rule, path, depth
    if isinstance(rule, AndRule | OrRule):
        for index, child in enumerate(rule.rules):
            yield from walk(child, f"{path}.rules[{index}]", depth + 1)
    elif isinstance(rule, NotRule):
        yield from walk(rule.rule, f"{path}.rule", depth + 1)


def positive_nodes(rule: Rule, path: str = "$") -> Iterator[tuple[Rule, str]]:
    """Nodes not under a ``not``: what a segment is *about* (for taxonomy labels)."""
    yield rule, path
    if isinstance(rule, AndRule | OrRule):
        for index, child in enumerate(rule.rules):
            yield from positive_nodes(child, f"{path}.rules[{index}]")


def dump_rule(rule: Rule) -> dict[str, Any]:
    """The rule as stored and shown: normalised values, defaults left out."""
    dumped: dict[str, Any] = _ADAPTER.dump_python(rule, mode="json", exclude_defaults=True)
    return dumped
