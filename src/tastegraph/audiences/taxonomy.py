"""IAB Audience Taxonomy 1.1 (segtax 4): the curated subset tastegraph maps to.

Only ids that ../shared/reference/adtech.md (§0, §2.3, from InteractiveAdvertisingBureau/Taxonomies
@ b7acdca, ``Audience Taxonomies/Audience Taxonomy 1.1.tsv``) names are used; none is guessed.
Where the reference gives a range without naming its rows (Movies 468–480, the age ranges
between 3 and 7) the rows are left out. Licence of the taxonomy: CC-BY-3.0, IAB Tech Lab.

Left out on purpose: 522 News and Politics, 529 Politics and 530 Elections (political opinions
are a special category, GDPR Art. 9 / DSA Art. 26(3)); 48–51 Gender (accounts hold no gender).
"""

from __future__ import annotations

from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.matching import identity

SEGTAX_AUDIENCE_1_1 = 4

AUDIENCE_TAXONOMY: dict[int, str] = {
    3: "Demographic | Age Range | 18-20",
    7: "Demographic | Age Range | 35-39",
    206: "Interest",
    467: "Interest | Movies",
    481: "Interest | Music and Audio",
    512: "Interest | Music and Audio | Sports Radio",
    516: "Interest | Music and Audio | News Radio",
    523: "Interest | News and Politics | Crime",
    533: "Interest | News and Politics | Weather",
    607: "Interest | Sports",
    608: "Interest | Sports | American Football",
    640: "Interest | Sports | Fantasy Sports",
    663: "Interest | Sports | Soccer",
    675: "Interest | Sports | Wrestling",
    706: "Interest | Television",
    707: "Interest | Television | Animation TV",
    709: "Interest | Television | Comedy TV",
    710: "Interest | Television | Drama TV",
    711: "Interest | Television | Factual TV",
    714: "Interest | Television | Reality TV",
    716: "Interest | Television | Soap Opera TV",
    718: "Interest | Television | Sports TV",
    735: "Interest | eSports",
}
"""Every Audience Taxonomy 1.1 id tastegraph may emit, with its tiers as the reference names
them."""

DOMAIN_IDS: dict[Domain, tuple[int, ...]] = {
    Domain.MUSIC: (481,),
    Domain.TV: (706,),
    Domain.FILM: (467,),
    Domain.SPORTS: (607, 718),
    Domain.NEWS: (),
}
"""News has no id of its own that is not "News and Politics"; see the module docstring."""

KIND_IDS: dict[Kind, tuple[int, ...]] = {
    kind: DOMAIN_IDS[domain]
    for kind, domain in {
        Kind.ARTIST: Domain.MUSIC,
        Kind.ALBUM: Domain.MUSIC,
        Kind.TRACK: Domain.MUSIC,
        Kind.SHOW: Domain.TV,
        Kind.SEASON: Domain.TV,
        Kind.EPISODE: Domain.TV,
        Kind.FILM: Domain.FILM,
        Kind.COMPETITION: Domain.SPORTS,
        Kind.TEAM: Domain.SPORTS,
        Kind.MATCH: Domain.SPORTS,
        Kind.OUTLET: Domain.NEWS,
        Kind.PROGRAMME: Domain.NEWS,
        Kind.STORY: Domain.NEWS,
    }.items()
}

TAG_IDS: dict[str, tuple[int, ...]] = {
    identity(name): ids
    for name, ids in {
        "football": (607, 663),
        "soccer": (607, 663),
        "american football": (607, 608),
        "nfl": (607, 608),
        "wrestling": (607, 675),
        "fantasy sports": (607, 640),
        "fantasy football": (607, 640),
        "sport": (607,),
        "sports": (607,),
        "basketball": (607,),
        "baseball": (607,),
        "ice hockey": (607,),
        "cricket": (607,),
        "motorsport": (607,),
        "esports": (735,),
        "e-sports": (735,),
        "gaming": (735,),
        "sports radio": (481, 512),
        "news radio": (481, 516),
        "weather": (533,),
        "true crime": (523,),
        "animation": (707,),
        "anime": (707,),
        "comedy": (709,),
        "sitcom": (709,),
        "drama": (710,),
        "k-drama": (710,),
        "documentary": (711,),
        "factual": (711,),
        "reality": (714,),
        "reality tv": (714,),
        "soap": (716,),
        "soap opera": (716,),
        "telenovela": (716,),
        "film": (467,),
        "movies": (467,),
        "music": (481,),
    }.items()
}
"""Tags and genres (identity keys) → ids. TV genre ids (707–716) are used for tags on shows;
on films the tag adds only 467 (Movies' genre rows are not in the reference)."""

AGE_BAND_IDS: dict[tuple[int, int], int] = {(18, 20): 3, (35, 39): 7}


def ids_for_tag(tag: str, *, kinds: frozenset[Kind] = frozenset()) -> tuple[int, ...]:
    ids = TAG_IDS.get(identity(tag), ())
    if kinds and kinds <= {Kind.FILM}:
        return tuple(i for i in ids if not 707 <= i <= 716) or (467,)
    return ids


def ids_for_age(low: int, high: int | None) -> tuple[int, ...]:
    """Age ranges the rule lies within entirely."""
    top = high if high is not None else 200
    return tuple(i for (a, b), i in AGE_BAND_IDS.items() if low >= a and top <= b)


def unknown_ids(ids: list[int]) -> list[int]:
    return [i for i in ids if i not in AUDIENCE_TAXONOMY]


def name_of(iab_id: int) -> str:
    return AUDIENCE_TAXONOMY[iab_id].rpartition(" | ")[2]
