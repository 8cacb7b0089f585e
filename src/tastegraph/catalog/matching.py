"""How free text from players resolves to catalogue items.

Players spell the same thing many ways: "Beyoncé feat. JAY-Z", "beyonce ft jay-z",
"BEYONCÉ (featuring Jay Z)". Two rules make them meet:

* ``normalize`` folds case, diacritics, width, punctuation and spacing, so spellings that differ
  only in those compare equal;
* ``split_credits`` takes featured artists out of artist strings and titles, so the featured
  artist becomes a credit, not part of a different "artist".
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

# Letters that carry their "accent" in the base letter, so NFKD cannot take it off.
_FOLD = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ı": "i",
        "ß": "ss",
    }
)
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_AMPERSAND = re.compile(r"\s*(?:&|\+)\s*")

MAX_KEY_LENGTH = 512
_HASHED_PREFIX = 440


def normalize(text: str) -> str:
    """Fold a name for comparison: case, diacritics, width, punctuation and spacing.

    Letters of every script survive; only marks, punctuation and spacing go.
    """
    if text.isascii():
        # ASCII has no marks, no compatibility forms and nothing in _FOLD: only case folds.
        text = text.lower()
    else:
        text = _strip_latin_marks(unicodedata.normalize("NFKD", text.translate(_FOLD)))
        text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    text = _APOSTROPHES.sub("", text)
    text = _AMPERSAND.sub(" and ", text)
    return _NON_WORD.sub(" ", text).strip()


_IDENTITIES: dict[str, str] = {}
"""Names seen recently and their identity forms: every play names its artist again."""
_IDENTITIES_MAX = 100_000


def identity(text: str) -> str:
    """The identity form of a name: normalised, or for names made only of punctuation ("!!!"),
    the case-folded name itself."""
    folded = _IDENTITIES.get(text)
    if folded is None:
        folded = normalize(text) or " ".join(text.casefold().split())
        if len(_IDENTITIES) >= _IDENTITIES_MAX:
            _IDENTITIES.clear()
        _IDENTITIES[text] = folded
    return folded


def _is_latin(ch: str) -> bool:
    code = ord(ch)
    return code < 0x250 or 0x1E00 <= code <= 0x1EFF


def _strip_latin_marks(text: str) -> str:
    """Drop accents on Latin letters only: in kana or Cyrillic the mark changes the letter."""
    out: list[str] = []
    base_is_latin = False
    for ch in text:
        if unicodedata.combining(ch):
            if not base_is_latin:
                out.append(ch)
            continue
        base_is_latin = _is_latin(ch)
        out.append(ch)
    return "".join(out)


def bounded_key(key: str) -> str:
    """Keep identity keys indexable: very long keys become a prefix plus a digest."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[:_HASHED_PREFIX]}#{digest}"


# "feat.", "ft.", "featuring", "feat", "ft" as a separate word, optionally in brackets.
_FEAT_IN_BRACKETS = re.compile(
    r"\s*[\(\[]\s*(?:feat\.?|ft\.?|featuring)\s+(?P<who>[^\)\]]+?)\s*[\)\]]", re.IGNORECASE
)
_FEAT_INLINE_ARTIST = re.compile(r"\s+(?:feat\.?|ft\.?|featuring)\s+(?P<who>.+)$", re.IGNORECASE)
_LIST_SEPARATORS = re.compile(r"\s*[,&]\s*|\s+(?:and|x)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Credits:
    """Artist names taken apart: who is main and who is featured."""

    main: tuple[str, ...]
    featured: tuple[str, ...] = field(default_factory=tuple)


def split_artist(artist: str) -> Credits:
    """Split "Beyoncé feat. JAY-Z" into main ("Beyoncé",) and featured ("JAY-Z",).

    Main artists are not split on "&" or ",": "Simon & Garfunkel" is one act. A client that
    knows the artists are separate sends them as a list.
    """
    artist = artist.strip()
    featured: list[str] = []
    match = _FEAT_IN_BRACKETS.search(artist)
    if match:
        featured.extend(split_featured(match.group("who")))
        artist = (artist[: match.start()] + artist[match.end() :]).strip()
    match = _FEAT_INLINE_ARTIST.search(artist)
    if match:
        featured.extend(split_featured(match.group("who")))
        artist = artist[: match.start()].strip()
    return Credits(main=(artist,) if artist else (), featured=tuple(featured))


def split_title(title: str) -> tuple[str, tuple[str, ...]]:
    """Take "(feat. X)" out of a track title: ("Drunk in Love", ("JAY-Z",))."""
    title = title.strip()
    featured: list[str] = []
    match = _FEAT_IN_BRACKETS.search(title)
    if match:
        featured.extend(split_featured(match.group("who")))
        title = (title[: match.start()] + title[match.end() :]).strip()
    return title, tuple(featured)


def split_featured(names: str) -> list[str]:
    """Featured lists are split on commas, "&", "and" and "x": "A, B & C" -> [A, B, C]."""
    return [part.strip() for part in _LIST_SEPARATORS.split(names) if part.strip()]


def credit_key(artist_ids: list[int] | tuple[int, ...]) -> str:
    return ",".join(str(i) for i in sorted(set(artist_ids)))
