"""News vocabulary per language: outlet names, programme titles and headline templates.

Templates take a place ({c}), a person ({p}) and a topic ({t}); sport templates take a home
and an away team ({h}, {a}). Topics are written so that they fit the templates' grammar.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NewsLanguage:
    news_word: str
    """Goes after a broadcaster's initials: "News", "Aktuell", "ニュース"."""
    paper: str
    """A newspaper name around a place: "The {c} Herald"."""
    templates: tuple[str, ...]
    topics: tuple[str, ...]
    programmes: dict[str, str]
    """Programme title per news category; categories missing here have no programme."""
    sport_templates: tuple[str, ...] = field(default=())
    spaced: bool = True


NEWS_LANGUAGES: dict[str, NewsLanguage] = {
    "en": NewsLanguage(
        "News", "The {c} Herald",
        (
            "{c} council approves new {t} plan", "{p} warns of delays to {t} project",
            "What the {t} debate means for {c}", "{c} votes on {t} as costs rise",
            "Inside the race to fix {c}'s {t}", "{p}: 'We have to talk about {t}'",
        ),
        ("housing", "rail", "hospital", "school", "energy", "water", "budget", "bridge"),
        {
            "general": "The Morning Briefing", "sport": "Sports Hour", "business": "Money Talk",
            "technology": "Tech Weekly", "culture": "Culture Desk", "science": "Science Matters",
        },
        ("{h} edge {a} in late thriller", "{a} stun {h} away from home",
         "{h} and {a} share the points"),
    ),
    "de": NewsLanguage(
        "Aktuell", "{c}er Zeitung",
        (
            "{c}: Stadtrat setzt auf {t}", "{p} fordert mehr Geld für {t}",
            "Streit um {t} in {c}", "{c} stimmt über {t} ab",
        ),
        ("Wohnungsbau", "Nahverkehr", "Radwege", "Schulsanierung", "Fernwärme",
         "Hochwasserschutz", "Digitalisierung"),
        {
            "general": "Der Morgen", "sport": "Sport am Abend", "business": "Wirtschaft kompakt",
            "technology": "Digitalfunk", "culture": "Feuilleton", "science": "Wissen",
        },
        ("{h} schlägt {a} in letzter Minute", "{a} entführt drei Punkte",
         "{h} und {a} trennen sich unentschieden"),
    ),
    "fr": NewsLanguage(
        "Info", "Le Journal de {c}",
        (
            "{c} : le conseil adopte un plan pour {t}", "{p} s'inquiète pour {t}",
            "Débat sur {t} à {c}", "{c} : ce qui change pour {t}",
        ),
        ("le logement", "les transports", "l'hôpital", "les écoles", "l'énergie", "le stade"),
        {
            "general": "Le Journal du matin", "sport": "Le Club Sport", "business": "L'Éco",
            "technology": "Numérique", "culture": "Culture & Co", "science": "La Science en bref",
        },
        ("{h} s'impose face à {a}", "{a} crée la surprise contre {h}",
         "{h} et {a} se neutralisent"),
    ),
    "es": NewsLanguage(
        "Noticias", "El Diario de {c}",
        (
            "{c} aprueba un nuevo plan para {t}", "{p} advierte sobre {t}",
            "Polémica por {t} en {c}", "Qué cambia en {c} con {t}",
        ),
        ("la vivienda", "el transporte", "el hospital", "las escuelas", "la energía", "el estadio"),
        {
            "general": "Las noticias de la mañana", "sport": "Tertulia deportiva",
            "business": "Economía hoy", "technology": "Tecnología", "culture": "Cultura",
            "science": "Ciencia al día",
        },
        ("{h} vence a {a} en el último minuto", "{a} sorprende a {h}", "{h} y {a} empatan"),
    ),
    "pt": NewsLanguage(
        "Notícias", "Jornal de {c}",
        (
            "{c} aprova novo plano para {t}", "{p} fala sobre {t}",
            "Polêmica sobre {t} em {c}", "O que muda em {c} com {t}",
        ),
        ("a moradia", "o transporte", "o hospital", "as escolas", "a energia", "o estádio"),
        {
            "general": "Jornal da Manhã", "sport": "Mesa Redonda", "business": "Economia",
            "technology": "Tecnologia", "culture": "Cultura", "science": "Ciência",
        },
        ("{h} vence {a} nos acréscimos", "{a} surpreende {h} fora de casa",
         "{h} e {a} empatam"),
    ),
    "it": NewsLanguage(
        "Notizie", "Il Corriere di {c}",
        (
            "{c}, approvato il nuovo piano {t}", "Polemiche sul piano {t} a {c}",
            "{p} presenta il piano {t}",
        ),
        ("casa", "trasporti", "scuole", "energia", "sanità", "stadio"),
        {
            "general": "Il Giornale del mattino", "sport": "Sport Sera", "business": "Economia",
            "technology": "Tecnologia", "culture": "Cultura", "science": "Scienza",
        },
        ("{h} batte {a} nel finale", "Colpo esterno: {a} espugna il campo di {h}",
         "Pareggio tra {h} e {a}"),
    ),
    "nl": NewsLanguage(
        "Nieuws", "{c}s Dagblad",
        (
            "{c} stemt in met nieuw plan voor {t}", "{p} waarschuwt voor vertraging bij {t}",
            "Discussie over {t} in {c}",
        ),
        ("woningbouw", "openbaar vervoer", "het ziekenhuis", "scholen", "energie"),
        {"general": "Het Ochtendjournaal", "sport": "Sportavond"},
    ),
    "sv": NewsLanguage(
        "Nyheter", "{c} Tidning",
        ("{c} klubbar ny plan för {t}", "Debatt om {t} i {c}", "{p} kräver mer pengar till {t}"),
        ("bostäder", "kollektivtrafik", "sjukhuset", "skolor", "energi", "arenan"),
        {"general": "Morgonekot", "sport": "Sportkväll"},
    ),
    "nb": NewsLanguage(
        "Nyheter", "{c} Avis",
        ("{c} vedtar ny plan for {t}", "Debatt om {t} i {c}", "{p} krever mer penger til {t}"),
        ("boliger", "kollektivtrafikk", "sykehuset", "skoler", "energi", "stadion"),
        {"general": "Morgennytt", "sport": "Sportsrevyen"},
    ),
    "da": NewsLanguage(
        "Nyheder", "{c} Dagblad",
        ("{c} vedtager ny plan for {t}", "Debat om {t} i {c}", "{p} kræver flere penge til {t}"),
        ("boliger", "kollektiv trafik", "sygehuset", "skoler", "energi", "stadion"),
        {"general": "Morgenradioen", "sport": "Sportsmagasinet"},
    ),
    "fi": NewsLanguage(
        "Uutiset", "{c} Sanomat",
        ("{c}: uusi suunnitelma hyväksyttiin – aiheena {t}", "{p} kommentoi: {t}",
         "Keskustelu kiihtyy – {t} puhuttaa"),
        ("asuntorakentaminen", "joukkoliikenne", "sairaala", "koulut", "energia", "stadion"),
        {"general": "Aamun uutiset", "sport": "Urheiluilta"},
    ),
    "pl": NewsLanguage(
        "Wiadomości", "Gazeta {c}",
        ("{c}: {t} – radni przyjęli plan", "{p}: {t} to priorytet",
         "{t}: gorąca debata w mieście {c}"),
        ("mieszkania", "komunikacja miejska", "szpital", "szkoły", "energia", "stadion"),
        {"general": "Poranek", "sport": "Wieczór sportowy"},
    ),
    "tr": NewsLanguage(
        "Haber", "{c} Gazetesi",
        ("{c}: {t} planı onaylandı", "{p}: {t} konusunda açıklama", "{t} tartışması büyüyor"),
        ("konut", "ulaşım", "hastane", "okul", "enerji", "stadyum"),
        {"general": "Sabah Bülteni", "sport": "Spor Gecesi"},
    ),
    "ru": NewsLanguage(
        "Новости", "Вестник «{c}»",
        ("{c}: утверждён новый план — {t}", "{p} высказался о теме: {t}",
         "{t}: споры продолжаются"),
        ("жильё", "транспорт", "больница", "школы", "энергетика", "стадион"),
        {"general": "Утренний выпуск", "sport": "Спортивный вечер"},
    ),
    "ja": NewsLanguage(
        "ニュース", "{c}新聞",
        ("{c}で{t}の新計画を承認", "{p}氏、{t}について発言", "{t}をめぐる議論続く"),
        ("住宅", "交通", "病院", "学校", "エネルギー", "スタジアム"),
        {
            "general": "朝のニュース", "sport": "スポーツナイト", "business": "経済ウォッチ",
            "technology": "テック最前線", "culture": "カルチャー", "science": "サイエンス",
        },
        spaced=False,
    ),
    "ko": NewsLanguage(
        "뉴스", "{c}일보",
        ("{c}, {t} 새 계획 승인", "{p}, {t} 관련 입장 밝혀", "{t} 논란 계속"),
        ("주택", "교통", "병원", "학교", "에너지", "경기장"),
        {
            "general": "아침 뉴스", "sport": "스포츠 나이트", "business": "경제 브리핑",
            "technology": "테크 톡", "culture": "문화 산책", "science": "과학 이야기",
        },
    ),
    "id": NewsLanguage(
        "Berita", "Harian {c}",
        ("{c} setujui rencana baru untuk {t}", "{p} soroti masalah {t}", "Polemik {t} di {c}"),
        ("perumahan", "transportasi", "rumah sakit", "sekolah", "energi", "stadion"),
        {"general": "Kabar Pagi", "sport": "Arena Olahraga"},
    ),
}  # fmt: skip


def news_language(language: str) -> tuple[str, NewsLanguage]:
    """The language an outlet publishes in: its country's, or English where none is set up."""
    if language in NEWS_LANGUAGES:
        return language, NEWS_LANGUAGES[language]
    return "en", NEWS_LANGUAGES["en"]
