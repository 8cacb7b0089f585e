"""Unit tests for name matching: the rules that make players' spellings meet."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tastegraph.catalog.matching import (
    bounded_key,
    identity,
    normalize,
    split_artist,
    split_featured,
    split_title,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Beyoncé", "beyonce"),
        ("JAY-Z", "jay z"),
        ("Sigur  Rós", "sigur ros"),
        ("Motörhead", "MOTORHEAD"),
        ("Guns N' Roses", "guns n roses"),
        ("Simon & Garfunkel", "simon and garfunkel"),
        ("Ｂｅｙｏｎｃé", "beyonce"),  # full-width letters
        ("Đorđe Balašević", "dorde balasevic"),
        ("Straße", "strasse"),
        ("Œuvre", "oeuvre"),
        ("Mötley Crüe", "motley crue"),
    ],
)
def test_spellings_that_meet(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ガガ", "カカ"),  # the dakuten changes the kana; it is not an accent
        ("Мумий Тролль", "Мумии Тролль"),  # й is a letter of its own
        ("Beatles", "Beatless"),
    ],
)
def test_spellings_that_stay_apart(a: str, b: str) -> None:
    assert normalize(a) != normalize(b)


def test_names_of_punctuation_keep_an_identity() -> None:
    assert normalize("!!!") == ""
    assert identity("!!!") == "!!!"
    assert identity("!!!") != identity("???")


@pytest.mark.parametrize(
    ("text", "main", "featured"),
    [
        ("Beyoncé feat. JAY-Z", ["Beyoncé"], ["JAY-Z"]),
        ("beyonce ft jay-z", ["beyonce"], ["jay-z"]),
        ("Beyoncé (featuring Jay Z)", ["Beyoncé"], ["Jay Z"]),
        ("A [feat. B & C]", ["A"], ["B", "C"]),
        ("A Ft. B, C and D", ["A"], ["B", "C", "D"]),
        ("Simon & Garfunkel", ["Simon & Garfunkel"], []),
        ("Daft Punk", ["Daft Punk"], []),
        ("Featurette", ["Featurette"], []),
    ],
)
def test_split_artist(text: str, main: list[str], featured: list[str]) -> None:
    credits = split_artist(text)
    assert list(credits.main) == main
    assert list(credits.featured) == featured


def test_split_title() -> None:
    assert split_title("Drunk in Love (feat. JAY-Z)") == ("Drunk in Love", ("JAY-Z",))
    assert split_title("Song (Live)") == ("Song (Live)", ())
    assert split_featured("X x Y") == ["X", "Y"]


def test_bounded_key() -> None:
    short = "a" * 100
    assert bounded_key(short) == short
    long_a, long_b = "a" * 600 + "1", "a" * 600 + "2"
    assert len(bounded_key(long_a)) <= 512
    assert bounded_key(long_a) != bounded_key(long_b)


@given(st.text(max_size=60))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_ascii_case_and_spacing_never_matter(text: str) -> None:
    assert normalize(text.upper()) == normalize(text.lower()) == normalize(f"  {text}  ")


@given(st.from_regex(r"[A-Za-zÀ-ÿ]{1,12}( [A-Za-zÀ-ÿ]{1,12}){0,2}", fullmatch=True))
def test_latin_accents_never_matter(text: str) -> None:
    import unicodedata

    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    assert normalize(text) == normalize(stripped)
