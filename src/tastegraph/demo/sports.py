"""Competitions, teams and a year of fixtures at realistic local kick-off times.

Each league plays rounds of a double round robin during its season, on its usual days and at
its usual local times (Saturday 15:30 in Germany, Sunday 13:00 on the US east coast...), so
the weekly rhythm of sports plays comes from the fixtures themselves.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from tastegraph.catalog.kinds import Domain, Kind
from tastegraph.catalog.schemas import MatchRef
from tastegraph.demo.config import DemoConfig, Window
from tastegraph.demo.countries import COUNTRIES
from tastegraph.demo.flavours import FLAVOURS, Flavour
from tastegraph.demo.items import COUNTRY_INDEX, ItemTable
from tastegraph.demo.names import Namer
from tastegraph.demo.taste import GENRES
from tastegraph.locales import default_timezone

Slot = tuple[int, int, int]
"""A kick-off: days after the round's day, local hour, minute."""

_US_NICKNAMES = (
    "Hawks", "Miners", "Comets", "Knights", "Rangers", "Foxes", "Pilots", "Storm", "Titans",
    "Monarchs", "Cyclones", "Mustangs", "Owls", "Vipers", "Pioneers", "Lumberjacks", "Herons",
    "Outlaws", "Sentinels", "Rockets",
)  # fmt: skip
_CLUB_NICKNAMES = ("Falcons", "Stars", "Wings", "Blaze", "Dragons", "Citizens", "Tigers")


@dataclass(frozen=True)
class League:
    name: str
    sport: str
    country: str | None
    flavour: str
    teams: int
    patterns: tuple[str, ...]
    seasons: tuple[tuple[tuple[int, int], tuple[int, int]], ...]
    """(start month, day), (end month, day); an end before the start runs into the next year."""
    every_days: float
    slots: tuple[Slot, ...]
    zone: str
    minutes: int
    appeal: float
    per_round: int = 0
    """Matches per round; 0 means every team plays (teams / 2)."""
    winter_break: bool = False
    repeat: bool = False
    """Whether the round robin starts over within a season (American leagues play each
    other many times); otherwise a season ends after its double round robin."""


_EUROPE_SEASON = (((8, 12), (5, 24)),)
_SAT = ((0, 15, 30), (0, 15, 30), (0, 18, 30), (1, 15, 30), (1, 17, 30), (-1, 20, 30))

LEAGUES: tuple[League, ...] = (
    League("Premier Football League", "football", "GB", "en", 20,
           ("{c} United", "{c} City", "{c} Rovers", "{c} Athletic", "{c} Wanderers", "{c} Town"),
           _EUROPE_SEASON, 7, ((0, 12, 30), (0, 15, 0), (0, 15, 0), (0, 17, 30), (1, 14, 0),
                               (1, 16, 30), (-1, 20, 0)), "Europe/London", 110, 3.0),
    League("Meisterliga", "football", "DE", "de", 18,
           ("FC {c}", "SV {c}", "VfB {c}", "Borussia {c}", "TSV {c}", "Eintracht {c}"),
           _EUROPE_SEASON, 7, _SAT, "Europe/Berlin", 110, 2.0, winter_break=True),
    League("Primera Liga", "football", "ES", "es", 20,
           ("Real {c}", "Atlético {c}", "Deportivo {c}", "CD {c}", "{c} CF", "UD {c}"),
           _EUROPE_SEASON, 7, ((0, 14, 0), (0, 16, 15), (0, 18, 30), (0, 21, 0), (1, 14, 0),
                               (1, 16, 15), (1, 18, 30), (1, 21, 0), (2, 21, 0)),
           "Europe/Madrid", 110, 2.0),
    League("Serie Maggiore", "football", "IT", "it", 20,
           ("AC {c}", "US {c}", "{c} Calcio", "Sporting {c}", "AS {c}", "Virtus {c}"),
           _EUROPE_SEASON, 7, ((0, 15, 0), (0, 18, 0), (0, 20, 45), (1, 12, 30), (1, 15, 0),
                               (1, 18, 0), (1, 20, 45), (2, 20, 45)), "Europe/Rome", 110, 1.6),
    League("Ligue Supérieure", "football", "FR", "fr", 18,
           ("FC {c}", "Olympique {c}", "AS {c}", "Stade {c}", "Racing {c}", "SC {c}"),
           _EUROPE_SEASON, 7, ((-1, 21, 0), (0, 17, 0), (0, 19, 0), (0, 21, 0), (1, 15, 0),
                               (1, 17, 15), (1, 20, 45)), "Europe/Paris", 110, 1.2,
           winter_break=True),
    League("Ereklasse", "football", "NL", "nl", 18,
           ("FC {c}", "SC {c}", "VV {c}", "Sparta {c}", "{c} Boys"),
           _EUROPE_SEASON, 7, ((-1, 20, 0), (0, 16, 30), (0, 18, 45), (0, 21, 0), (1, 12, 15),
                               (1, 14, 30), (1, 16, 45)), "Europe/Amsterdam", 110, 0.7,
           winter_break=True),
    League("Primeira Divisão Nacional", "football", "PT", "pt", 18,
           ("Sporting {c}", "SC {c}", "FC {c}", "Vitória {c}", "Académico {c}", "CD {c}"),
           _EUROPE_SEASON, 7, ((0, 15, 30), (0, 18, 0), (0, 20, 30), (1, 15, 30), (1, 18, 0),
                               (1, 20, 30), (2, 20, 15)), "Europe/Lisbon", 110, 0.7),
    League("Ana Lig", "football", "TR", "tr", 18,
           ("{c}spor", "{c} SK", "{c} Gençlik", "{c} Belediyespor", "{c} FK"),
           _EUROPE_SEASON, 7, ((-1, 20, 0), (0, 14, 30), (0, 17, 0), (0, 20, 0), (1, 14, 30),
                               (1, 17, 0), (1, 20, 0), (2, 20, 0)), "Europe/Istanbul", 110, 0.7),
    League("Série Ouro", "football", "BR", "pt", 20,
           ("{c} FC", "Sport Club {c}", "Clube Atlético {c}", "Esporte Clube {c}",
            "América de {c}"),
           (((4, 12), (12, 6)),), 7, ((0, 16, 0), (0, 18, 30), (0, 21, 0), (1, 11, 0),
                                       (1, 16, 0), (1, 18, 30), (4, 19, 0), (4, 21, 30)),
           "America/Sao_Paulo", 110, 1.2),
    League("Torneo Mayor", "football", "AR", "es", 20,
           ("Club Atlético {c}", "Deportivo {c}", "Racing de {c}", "Independiente {c}",
            "{c} Juniors"),
           (((2, 1), (12, 10)),), 7, ((-1, 21, 0), (0, 15, 0), (0, 19, 15), (0, 21, 30),
                                       (1, 15, 0), (1, 17, 15), (1, 19, 30)),
           "America/Argentina/Buenos_Aires", 110, 0.6),
    League("Liga Suprema", "football", "MX", "es", 18,
           ("Club {c}", "Deportivo {c}", "Atlético {c}", "Real {c}", "{c} FC"),
           (((1, 10), (5, 25)), ((7, 10), (12, 15))), 7,
           ((-1, 19, 0), (-1, 21, 0), (0, 17, 0), (0, 19, 0), (0, 21, 5), (1, 12, 0),
            (1, 17, 0), (1, 19, 0)), "America/Mexico_City", 110, 0.8),
    League("Nippon Pro League", "football", "JP", "ja", 18,
           (*(f"{{c}} {n}" for n in _CLUB_NICKNAMES[:5]), "{c} FC"),
           (((2, 20), (12, 5)),), 7, ((0, 14, 0), (0, 15, 0), (0, 19, 0), (1, 14, 0),
                                       (1, 15, 0)), "Asia/Tokyo", 110, 0.5),
    League("K Premier", "football", "KR", "ko", 12,
           ("{c} FC", "{c} Citizen", "{c} Dragons", "{c} Steelers", "{c} Bluewings"),
           (((3, 1), (11, 30)),), 7, ((0, 14, 0), (0, 16, 30), (0, 19, 0), (1, 14, 0),
                                       (1, 16, 30), (1, 19, 0)), "Asia/Seoul", 110, 0.3),
    League("Major Soccer League", "football", "US", "en", 20,
           ("{c} FC", "{c} SC", "{c} United", "Real {c}", "Sporting {c}"),
           (((2, 25), (10, 20)),), 7, ((0, 19, 30), (0, 19, 30), (0, 22, 30), (1, 17, 0),
                                       (4, 19, 30)), "America/New_York", 110, 0.6),
    League("National Gridiron League", "american football", "US", "en", 16,
           tuple(f"{{c}} {n}" for n in _US_NICKNAMES),
           (((9, 5), (2, 8)),), 7, ((0, 13, 0), (0, 13, 0), (0, 13, 0), (0, 13, 0),
                                     (0, 16, 25), (0, 16, 25), (0, 20, 20), (1, 20, 15),
                                     (-3, 20, 15)), "America/New_York", 195, 2.0),
    League("Pro Basketball Association", "basketball", "US", "en", 16,
           tuple(f"{{c}} {n}" for n in reversed(_US_NICKNAMES)),
           (((10, 22), (6, 15)),), 3.5, ((0, 19, 30), (0, 20, 0), (0, 22, 0), (0, 19, 0)),
           "America/New_York", 140, 1.6, repeat=True),
    League("Major Baseball League", "baseball", "US", "en", 16,
           tuple(f"{{c}} {n}" for n in _US_NICKNAMES[5:] + _US_NICKNAMES[:5]),
           (((3, 28), (9, 29)),), 3.5, ((0, 19, 5), (0, 19, 10), (0, 13, 5), (0, 22, 10)),
           "America/New_York", 180, 1.0, repeat=True),
    League("Ice Hockey League", "ice hockey", "US", "en", 16,
           tuple(f"{{c}} {n}" for n in _US_NICKNAMES[10:] + _US_NICKNAMES[:10]),
           (((10, 10), (4, 15)),), 3.5, ((0, 19, 0), (0, 19, 30), (0, 22, 0)),
           "America/New_York", 150, 0.8, repeat=True),
    League("Premier Cricket League", "cricket", "IN", "hi", 10,
           ("{c} Royals", "{c} Kings", "{c} Titans", "{c} Chargers", "{c} Warriors"),
           (((3, 22), (5, 26)),), 1, ((0, 19, 30), (0, 15, 30)), "Asia/Kolkata", 210, 1.2,
           per_round=1),
)  # fmt: skip

CUP = League(
    "Continental Champions Cup", "football", None, "en", 16, (),
    (((9, 16), (12, 12)), ((2, 15), (3, 15)), ((4, 6), (5, 31))), 7,
    ((3, 21, 0), (3, 21, 0), (3, 18, 45), (4, 21, 0), (4, 21, 0), (4, 18, 45)),
    "Europe/Berlin", 115, 2.5,
)  # fmt: skip
GRAND_PRIX = League(
    "World Grand Prix Series", "motorsport", None, "en", 0, (),
    (((3, 1), (12, 1)),), 14, ((1, 15, 0),), "UTC", 120, 1.0,
)  # fmt: skip


@dataclass
class Sports:
    genre_names: tuple[str, ...] = GENRES[Domain.SPORTS]
    league_names: list[str] = field(default_factory=list)
    league_sport: list[int] = field(default_factory=list)
    league_country: list[int] = field(default_factory=list)
    league_appeal: list[float] = field(default_factory=list)
    league_matches: list[NDArray[np.int64]] = field(default_factory=list)
    """Item indices of the league's matches during the year, by start time."""
    league_home: list[NDArray[np.int64]] = field(default_factory=list)
    league_away: list[NDArray[np.int64]] = field(default_factory=list)
    """Team indices of each match (-1 for events without teams)."""
    league_teams: list[list[int]] = field(default_factory=list)
    team_names: list[str] = field(default_factory=list)
    team_popularity: list[float] = field(default_factory=list)


def build_sports(
    config: DemoConfig, window: Window, table: ItemTable, rng: random.Random
) -> Sports:
    namer = Namer(rng)
    sports = Sports()
    used_teams: set[str] = set()
    factor = math.sqrt(config.scale)
    for league in LEAGUES:
        count = max(6, 2 * round(league.teams * min(1.0, factor) / 2))
        flavour = FLAVOURS[league.flavour]
        teams = []
        ranks = list(range(count))
        rng.shuffle(ranks)
        for i in range(count):
            pattern = league.patterns[i % len(league.patterns)]
            name = namer.unique(used_teams, partial(_team_name, namer, pattern, flavour))
            teams.append(len(sports.team_names))
            sports.team_names.append(name)
            sports.team_popularity.append(1.0 / (ranks[i] + 1) ** 0.9)
        _register(sports, league, teams)
    # The cup brings together the strongest clubs of the European leagues.
    cup_teams: list[int] = []
    for index in range(8):
        clubs = sorted(sports.league_teams[index], key=lambda t: -sports.team_popularity[t])
        cup_teams += clubs[: 3 if index < 5 else 1]
    _register(sports, CUP, cup_teams[: 2 * (len(cup_teams) // 2)])
    _register(sports, GRAND_PRIX, [])
    for index, league in enumerate((*LEAGUES, CUP, GRAND_PRIX)):
        _fixtures(sports, index, league, window, table, namer, rng)
    return sports


def _team_name(namer: Namer, pattern: str, flavour: Flavour) -> str:
    return pattern.format(c=namer.place(flavour)[1])


def _register(sports: Sports, league: League, teams: list[int]) -> None:
    sports.league_names.append(league.name)
    sports.league_sport.append(sports.genre_names.index(league.sport))
    sports.league_country.append(COUNTRY_INDEX[league.country] if league.country else -1)
    sports.league_appeal.append(league.appeal)
    sports.league_teams.append(teams)


def _fixtures(
    sports: Sports,
    index: int,
    league: League,
    window: Window,
    table: ItemTable,
    namer: Namer,
    rng: random.Random,
) -> None:
    teams = sports.league_teams[index]
    items: list[int] = []
    homes: list[int] = []
    aways: list[int] = []
    starts: list[int] = []
    latest_start = window.end_ts - 6 * 3600  # every match is over well before the window ends
    for round_number, day in _round_days(league, window, len(teams)):
        if teams:
            pairs = _round_robin(len(teams), round_number)
            if league.per_round:
                pairs = pairs[(round_number * league.per_round) % len(pairs) :][: league.per_round]
        else:
            pairs = [(-1, -1)]
        for slot_index, (home, away) in enumerate(pairs):
            offset, hour, minute = league.slots[(slot_index + round_number) % len(league.slots)]
            if league is GRAND_PRIX:
                host = COUNTRIES[rng.randrange(len(COUNTRIES))]
                tz = ZoneInfo(default_timezone(host.code))
                place = namer.place(FLAVOURS[host.flavour])[0]
                title: str | None = f"Grand Prix of {place}"
                country: str | None = host.code
            else:
                tz = ZoneInfo(league.zone)
                title = None
                country = league.country
            kick_off = datetime.combine(day + timedelta(days=offset), time(hour, minute), tzinfo=tz)
            start = int(kick_off.timestamp())
            if not window.start_ts <= start <= latest_start:
                continue
            home_name = sports.team_names[teams[home]] if teams else None
            away_name = sports.team_names[teams[away]] if teams else None
            ref = MatchRef(
                kind=Kind.MATCH,
                competition=league.name,
                home=home_name,
                away=away_name,
                title=title,
                starts_at=kick_off,
                duration=league.minutes * 60,
                country=country,
            )
            appeal = 1.0
            if teams:
                appeal = sports.team_popularity[teams[home]] + sports.team_popularity[teams[away]]
            items.append(
                table.add(
                    ref,
                    title=title or f"{home_name} – {away_name}",
                    domain=Domain.SPORTS,
                    genre=league.sport,
                    country=country,
                    language=None,
                    duration=league.minutes * 60,
                    released=start,
                    popularity=appeal,
                )
            )
            starts.append(start)
            homes.append(teams[home] if teams else -1)
            aways.append(teams[away] if teams else -1)
    order = np.argsort(np.asarray(starts, dtype=np.int64), kind="stable")
    sports.league_matches.append(np.asarray(items, dtype=np.int64)[order])
    sports.league_home.append(np.asarray(homes, dtype=np.int64)[order])
    sports.league_away.append(np.asarray(aways, dtype=np.int64)[order])


def _round_days(league: League, window: Window, teams: int) -> list[tuple[int, date]]:
    """(round number within the season, day) for every round near the window."""
    out: list[tuple[int, date]] = []
    first = window.first_day - timedelta(days=7)
    last = window.first_day + timedelta(days=window.days + 7)
    for year in range(first.year - 1, last.year + 1):
        for (start_month, start_day), (end_month, end_day) in league.seasons:
            start = date(year, start_month, start_day)
            end_year = year if (end_month, end_day) >= (start_month, start_day) else year + 1
            end = date(end_year, end_month, end_day)
            # Rounds fall on the league's usual weekday: shift the start to a Saturday
            # (Sunday for American football, whose slots are relative to it).
            target = 6 if league.sport == "american football" else 5
            start += timedelta(days=(target - start.weekday()) % 7)
            number = 0
            step = 0.0
            while True:
                day = start + timedelta(days=int(step))
                if day > end or (not league.repeat and teams and number >= _rounds(league, teams)):
                    break
                step += league.every_days
                if league.winter_break and (
                    (day.month == 12 and day.day > 20) or (day.month == 1 and day.day < 14)
                ):
                    continue
                if first <= day <= last:
                    out.append((number, day))
                number += 1
    return out


def _rounds(league: League, teams: int) -> int:
    """Rounds in one double round robin."""
    matches = teams * (teams - 1)
    return matches // league.per_round if league.per_round else 2 * (teams - 1)


def _round_robin(teams: int, round_number: int) -> list[tuple[int, int]]:
    """The pairs of one round of a double round robin (circle method), home team first."""
    rounds = teams - 1
    cycle = round_number % (2 * rounds)
    r = cycle % rounds
    rotating = list(range(1, teams))
    rotating = rotating[r:] + rotating[:r]
    order = [0, *rotating]
    pairs = []
    for i in range(teams // 2):
        a, b = order[i], order[teams - 1 - i]
        if (r + i) % 2:
            a, b = b, a
        pairs.append((b, a) if cycle >= rounds else (a, b))
    return pairs
