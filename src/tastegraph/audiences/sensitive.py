"""Special categories that are never used for targeting (GDPR Art. 9, DSA Art. 26(3)).

tastegraph keeps its own denylist instead of the IAB Content Taxonomy's ``SCD`` flag, which does
not follow Art. 9 (it leaves out politics, for one). A tag is sensitive when its identity key
(``catalog.matching.identity``) is in ``SENSITIVE_TAGS``, or when one of its words is in
``SENSITIVE_WORDS`` ("christian rock", "lgbtq films"). An item is sensitive when it, its parent
or its grandparent carries a sensitive tag.

Consequences: rules that name a sensitive tag are rejected; plays of sensitive items count
towards no behavioural rule, no interest cluster and no lookalike profile. Contextual ads on
such content (the ads area, with no user data) remain possible.
"""

from __future__ import annotations

from tastegraph.catalog.matching import identity

SENSITIVE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "politics": (
        "politics",
        "political",
        "elections",
        "election",
        "government",
        "parliament",
        "political parties",
        "activism",
        "protest",
        "protest songs",
        "trade unions",
        "propaganda",
        "conservative",
        "liberal",
        "socialist",
        "communist",
        "nationalist",
        "left wing",
        "right wing",
        "news and politics",
    ),
    "religion": (
        "religion",
        "religious",
        "faith",
        "spirituality",
        "spiritual",
        "christian",
        "christianity",
        "gospel",
        "worship",
        "praise and worship",
        "catholic",
        "islam",
        "islamic",
        "muslim",
        "nasheed",
        "judaism",
        "jewish",
        "hindu",
        "hinduism",
        "bhajan",
        "buddhism",
        "buddhist",
        "sikh",
        "atheism",
        "church",
        "bible",
        "quran",
        "devotional",
    ),
    "health": (
        "health",
        "mental health",
        "medical",
        "medicine",
        "disease",
        "illness",
        "cancer",
        "diabetes",
        "hiv",
        "aids",
        "depression",
        "anxiety",
        "addiction",
        "recovery",
        "disability",
        "pregnancy",
        "fertility",
        "therapy",
        "suicide",
        "eating disorders",
    ),
    "sexuality": (
        "sexuality",
        "sex",
        "sexual health",
        "lgbt",
        "lgbtq",
        "lgbtqia",
        "queer",
        "gay",
        "lesbian",
        "bisexual",
        "transgender",
        "trans",
        "pride",
        "erotic",
        "adult",
        "porn",
    ),
    "ethnicity": ("race", "racism", "ethnicity", "ethnic minorities", "immigration"),
    "trade union": ("trade union",),
    "criminal record": ("criminal record", "prison"),
}
"""Category → tag names. Edit here; tests and docs/audiences.md read it from here."""

SENSITIVE_TAGS: frozenset[str] = frozenset(
    identity(name) for names in SENSITIVE_CATEGORIES.values() for name in names
)
SENSITIVE_WORDS: frozenset[str] = frozenset(
    {
        "politics",
        "political",
        "religion",
        "religious",
        "christian",
        "gospel",
        "islamic",
        "jewish",
        "lgbt",
        "lgbtq",
        "queer",
        "gay",
        "lesbian",
        "health",
        "medical",
        "sexuality",
        "erotic",
        "porn",
    }
)


def sensitive_category(tag: str) -> str | None:
    """The special category a tag belongs to, or None."""
    key = identity(tag)
    words = set(key.split())
    for category, names in SENSITIVE_CATEGORIES.items():
        keys = {identity(n) for n in names}
        if key in keys or (words & SENSITIVE_WORDS and words & keys):
            return category
    if words & SENSITIVE_WORDS:
        return "sensitive"
    return None


def is_sensitive_tag(tag: str) -> bool:
    key = identity(tag)
    return key in SENSITIVE_TAGS or bool(set(key.split()) & SENSITIVE_WORDS)


def sensitive_tag_keys(keys: list[str]) -> list[str]:
    """Of these tag keys, those that are sensitive (for filtering stored tags)."""
    return [k for k in keys if is_sensitive_tag(k)]
