"""Where the demo people live: shares, locales, time zones and what each country leans towards.

Shares are per mille of users, with the United States at 30 % so that about 70 % of the
community lives elsewhere. ``production`` weighs a country as a source of content in genres that
are made everywhere (pop, drama...), which is why the US and the UK make far more than their
share of users.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CountryProfile:
    code: str
    share: int
    """Users per mille."""
    flavour: str
    language: str
    """The main language of local content and news (ISO 639-1)."""
    locales: tuple[tuple[str, float], ...]
    zones: tuple[tuple[str, float], ...] = ()
    """Time zones with population weights; empty means the country's main zone."""
    production: float = 1.0
    english_share: float = 0.1
    """The share of local musicians who sing in English in globally made genres."""
    bias: dict[str, float] = field(default_factory=dict)
    """Archetype -> how much more (or less) common it is here than on average."""
    outlets: int = 1
    """Local news outlets."""
    homegrown: float = 1.0
    """How strongly people here prefer local content, beyond the usual (Japan, Brazil...)."""


def _c(
    code: str,
    share: int,
    flavour: str,
    language: str,
    locales: tuple[tuple[str, float], ...] | str,
    *,
    zones: tuple[tuple[str, float], ...] = (),
    production: float = 1.0,
    english_share: float = 0.1,
    outlets: int = 1,
    homegrown: float = 1.0,
    **bias: float,
) -> CountryProfile:
    if isinstance(locales, str):
        locales = ((locales, 1.0),)
    return CountryProfile(
        code=code,
        share=share,
        flavour=flavour,
        language=language,
        locales=locales,
        zones=zones,
        production=production,
        english_share=english_share,
        bias=bias,
        outlets=outlets,
        homegrown=homegrown,
    )


# fmt: off
COUNTRIES: tuple[CountryProfile, ...] = (
    _c("US", 300, "en", "en", (("en-US", 0.88), ("es-US", 0.12)),
       zones=(
           ("America/New_York", 0.47), ("America/Chicago", 0.29), ("America/Denver", 0.07),
           ("America/Phoenix", 0.03), ("America/Los_Angeles", 0.14),
       ),
       production=100, english_share=1, outlets=4, ussports=5, football=0.35, heartland=1.6,
       hiphop=1.6, latin=0.6, bollywood=0.1),
    _c("GB", 70, "en", "en", "en-GB", production=35, english_share=1, outlets=3, football=2.6,
       indie=1.8, bollywood=0.8, ussports=0.1, heartland=0.2),
    _c("DE", 65, "de", "de", "de-DE", production=12, english_share=0.35, outlets=3, football=2.2,
       heartland=2.5, electronic=2.2, metal=1.4, news=1.3, ussports=0.1),
    _c("BR", 55, "pt", "pt", "pt-BR",
       zones=(("America/Sao_Paulo", 0.85), ("America/Fortaleza", 0.1), ("America/Manaus", 0.05)),
       production=8, outlets=2, homegrown=2.5, football=2.6, latin=1.6, kpop=1.3, metal=1.3,
       ussports=0.1, heartland=0.2),
    _c("JP", 40, "ja", "ja", "ja-JP", production=12, english_share=0.08, outlets=2, homegrown=3,
       anime=7, kpop=2, jazz=1.6, football=0.5, ussports=0.2, latin=0.1, heartland=0.1),
    _c("FR", 40, "fr", "fr", "fr-FR", production=12, english_share=0.2, outlets=2, homegrown=1.5,
       jazz=2, hiphop=1.6, anime=1.8, football=1.5, ussports=0.1, heartland=0.2),
    _c("MX", 35, "es", "es", "es-MX",
       zones=(
           ("America/Mexico_City", 0.85), ("America/Tijuana", 0.1), ("America/Monterrey", 0.05),
       ),
       production=6, outlets=2, homegrown=1.5, latin=6, football=1.6, kpop=1.5, ussports=0.4,
       heartland=0.2),
    _c("KR", 25, "ko", "ko", "ko-KR", production=10, homegrown=1.5, kpop=9, anime=1.2,
       football=0.6, ussports=0.3, heartland=0.1, latin=0.1),
    _c("IN", 30, "hi", "hi", (("en-IN", 0.6), ("hi-IN", 0.4)), production=10, english_share=0.3,
       outlets=2, homegrown=1.5, bollywood=14, football=0.5, ussports=0.05, heartland=0.1,
       latin=0.2),
    _c("ES", 30, "es", "es", (("es-ES", 0.85), ("ca-ES", 0.15)), production=7, english_share=0.15,
       outlets=2, homegrown=1.3, latin=3, football=2.6, ussports=0.1, heartland=0.2),
    _c("IT", 25, "it", "it", "it-IT", production=6, english_share=0.15, outlets=2, homegrown=1.5,
       football=2.6, pop=1.3, ussports=0.1, heartland=0.3),
    _c("CA", 25, "en", "en", (("en-CA", 0.75), ("fr-CA", 0.25)),
       zones=(
           ("America/Toronto", 0.62), ("America/Vancouver", 0.18), ("America/Edmonton", 0.12),
           ("America/Halifax", 0.08),
       ),
       production=8, english_share=0.9, outlets=2, ussports=3, indie=1.5, heartland=1.2,
       football=0.6),
    _c("AU", 20, "en", "en", "en-AU",
       zones=(
           ("Australia/Sydney", 0.5), ("Australia/Melbourne", 0.3), ("Australia/Brisbane", 0.12),
           ("Australia/Perth", 0.08),
       ),
       production=6, english_share=1, indie=1.6, electronic=1.3, bollywood=0.6, ussports=0.2,
       heartland=0.5),
    _c("NL", 20, "nl", "nl", "nl-NL", production=5, english_share=0.55, electronic=3.5,
       football=1.8, ussports=0.1, heartland=0.3),
    _c("PL", 18, "pl", "pl", "pl-PL", production=2, english_share=0.25, homegrown=1.5, metal=2,
       football=1.5, electronic=1.3, ussports=0.05, heartland=0.3),
    _c("SE", 15, "nordic", "sv", "sv-SE", production=8, english_share=0.7, metal=3, indie=1.8,
       electronic=1.6, ussports=0.2, heartland=0.2),
    _c("AR", 15, "es", "es", "es-AR", production=2, english_share=0.08, homegrown=1.5, latin=4.5,
       football=3, ussports=0.05, heartland=0.1),
    _c("TR", 15, "tr", "tr", "tr-TR", production=3, homegrown=2.5, football=2.6, pop=1.4,
       ussports=0.05, heartland=0.1),
    _c("ID", 15, "id", "id", "id-ID", zones=(("Asia/Jakarta", 0.85), ("Asia/Makassar", 0.15)),
       production=2, english_share=0.2, homegrown=2, kpop=5, anime=1.5, football=1.2,
       ussports=0.05, heartland=0.1),
    _c("PH", 12, "en", "en", (("en-PH", 0.6), ("fil-PH", 0.4)), production=2, english_share=0.7,
       kpop=5, pop=1.4, ussports=0.6, football=0.3, heartland=0.1),
    _c("RU", 12, "ru", "ru", "ru-RU",
       zones=(("Europe/Moscow", 0.8), ("Asia/Yekaterinburg", 0.1), ("Asia/Novosibirsk", 0.1)),
       production=3, homegrown=2, metal=1.5, electronic=1.5, football=1.2, ussports=0.05,
       heartland=0.1),
    _c("NO", 10, "nordic", "nb", "nb-NO", production=3, english_share=0.65, metal=3, jazz=2.2,
       ussports=0.1, heartland=0.2),
    _c("FI", 10, "fi", "fi", (("fi-FI", 0.9), ("sv-FI", 0.1)), production=3, english_share=0.45,
       metal=4.5, ussports=0.3, heartland=0.2),
    _c("AT", 10, "de", "de", "de-AT", production=2, english_share=0.3, heartland=3, football=1.6,
       electronic=1.3, ussports=0.05),
    _c("CH", 8, "de", "de", (("de-CH", 0.65), ("fr-CH", 0.25), ("it-CH", 0.1)), production=2,
       english_share=0.4, heartland=2, jazz=1.3, ussports=0.05),
    _c("BE", 10, "nl", "nl", (("nl-BE", 0.55), ("fr-BE", 0.45)), production=2, english_share=0.4,
       electronic=3, football=1.5, ussports=0.05, heartland=0.3),
    _c("PT", 10, "pt", "pt", "pt-PT", production=2, english_share=0.2, football=2.8, latin=1.2,
       ussports=0.05, heartland=0.1),
    _c("CO", 12, "es", "es", "es-CO", production=3, homegrown=1.5, latin=6, football=1.6,
       ussports=0.1, heartland=0.1),
    _c("CL", 8, "es", "es", "es-CL", latin=4, football=1.8, metal=1.3, ussports=0.05,
       heartland=0.1),
    _c("IE", 8, "en", "en", "en-IE", production=3, english_share=1, indie=2, football=1.6,
       ussports=0.1, heartland=0.5),
    _c("ZA", 8, "en", "en", (("en-ZA", 0.8), ("af-ZA", 0.2)), production=2, english_share=0.9,
       hiphop=1.5, bollywood=1.5, football=1.3, ussports=0.05),
    _c("NG", 10, "ng", "en", "en-NG", production=3, english_share=0.9, homegrown=3, hiphop=3,
       football=2.2, ussports=0.05, heartland=0.1, kpop=0.3),
    _c("NZ", 6, "en", "en", "en-NZ", english_share=1, indie=1.5, bollywood=0.6, ussports=0.1,
       heartland=0.4),
    _c("DK", 8, "nordic", "da", "da-DK", production=3, english_share=0.6, electronic=1.5,
       football=1.5, indie=1.4, ussports=0.1, heartland=0.2),
)
# fmt: on

BY_CODE: dict[str, CountryProfile] = {c.code: c for c in COUNTRIES}
