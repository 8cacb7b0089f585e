"""Countries by name, as Last.fm's geo methods take them ("Germany", "Russian Federation").

Names come from CLDR (Babel) in English, compared in the catalogue's folded form (case,
accents and punctuation aside), plus the ISO 3166 short names that differ from CLDR's, which
Last.fm uses. A two-letter code is accepted too.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

from tastegraph.catalog.matching import identity
from tastegraph.locales import countries

_ISO_NAMES = {
    "Bolivia, Plurinational State of": "BO",
    "Brunei Darussalam": "BN",
    "Cape Verde": "CV",
    "Congo": "CG",
    "Congo, The Democratic Republic of the": "CD",
    "Czech Republic": "CZ",
    "Holy See (Vatican City State)": "VA",
    "Iran, Islamic Republic of": "IR",
    "Ivory Coast": "CI",
    "Korea, Democratic People's Republic of": "KP",
    "Korea, Republic of": "KR",
    "Lao People's Democratic Republic": "LA",
    "Macedonia": "MK",
    "Macedonia, the Former Yugoslav Republic of": "MK",
    "Micronesia, Federated States of": "FM",
    "Moldova, Republic of": "MD",
    "Myanmar": "MM",
    "Palestine, State of": "PS",
    "Russian Federation": "RU",
    "Swaziland": "SZ",
    "Syrian Arab Republic": "SY",
    "Taiwan, Province of China": "TW",
    "Tanzania, United Republic of": "TZ",
    "Turkey": "TR",
    "United States of America": "US",
    "Venezuela, Bolivarian Republic of": "VE",
    "Viet Nam": "VN",
}


@cache
def _by_name() -> dict[str, str]:
    names = Locale("en").territories
    table = {identity(names[code]): code for code in countries() if code in names}
    table.update({identity(name): code for name, code in _ISO_NAMES.items()})
    return table


def country_code(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country name or code; None when unknown."""
    text = text.strip()
    if len(text) == 2 and text.upper() in countries():
        return text.upper()
    return _by_name().get(identity(text))


def country_name(code: str) -> str:
    return str(Locale("en").territories.get(code, code))
