"""Entity extraction: countries, places, organisations and people in a news text.

How it works, and why it is fast (on one core, ~3 KB news texts: about 1,000 a second for texts
never seen before, about 2,000 once the per-word and per-phrase caches know most of their phrases;
`scripts/eval_entities.py` measures both):
1. One precompiled regex finds the *capitalised phrases* of the text ("Foreign Affairs Minister Kanat
   Saudabayev", "Organization for Security and Co-operation in Europe"). Lower-case running text is
   never looked at again, apart from the word right before and after a phrase.
2. Inside a phrase, tokens are matched against the gazetteer by longest match with dict look-ups
   (no per-entity loop over the text). One-word phrases, the majority, go through a per-word cache.
3. What is left of a phrase are runs of name-like tokens. A run is a person when a title or role is
   next to it, a verb of saying follows or precedes it, or it starts with a known given name; later
   mentions of a known surname or given name count for that person. Runs ending in an organisation
   head word ("... National Security Committee", "Ministry of ...") are organisations, runs ending in
   a place head word ("Diyala Province") or introduced by "in"/"near" are locations, and unknown
   acronyms (NHS, KCNA) are organisations.
Texts written entirely in capitals (old wire reports) only get gazetteer matches: nothing there tells
a name from a word.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from monitor.entities.gazetteer import TOKEN_RE, Gazetteer, Target, build_gazetteer, slugify
from monitor.models import Entity

# "location": a named place that has no canonical id here (regions such as "Central Asia", villages
# found by context such as "near Daquq"). Reported as mentions only, never as entities.
MentionType = Literal["country", "place", "organisation", "person", "location"]

# Upper-case letters that may start a name (ASCII plus Latin-1 capitals such as "Ö", "Ç").
_UP = "A-ZÀ-ÖØ-Þ"
# What may follow the first capital of a phrase word: the rest of an initialism (U.S.), of a title
# abbreviation (Gen., Mr., Capt.), an initial (J.) or of a word. Written as tails after the capital
# so that the phrase regex starts with a plain character class, which the regex engine uses to skip
# lower-case text quickly.
_ABBR_TAILS = "r|rs|s|t|en|ol|aj|apt|gt|dm|mdr|pl|vt|pc|rig|ev|rof|ep|ov"
_CAPTOK_REST = (
    r"\.(?:[A-Z]\.)+"
    rf"|(?:{_ABBR_TAILS})?\.(?=[ \t]+[{_UP}])"
    r"|\w*(?:[-&]\w+|['’](?!s\b)\w+)*"
)
_CAPTOK = (
    rf"[{_UP}](?:{_CAPTOK_REST})|(?:al|el|ad|as|ash|an|ar|at|az|ud|ul|ut|abu|bin|ibn)-[{_UP}]\w*(?:-\w+)*"
)
# Lower-case words that may sit inside one name ("Organization for Security and Co-operation in
# Europe", "Osama bin Laden"). Line breaks end a phrase: headings are lines of their own.
_CONNECTORS = "of|the|and|for|de|del|della|di|da|do|dos|du|la|le|van|von|der|den|bin|ibn|al|el|y|in|at|on|&"
# The Arabic article written apart and assimilated to the next word's first consonant ("Salah ad
# Din", "Dayr az Zawr", "Ar Raqqah", "As Sulaymaniyah"): a connector only before that consonant, so
# that English "as" and "an" still end a phrase ("Iran as Turkey").
_SUN_ARTICLES = r"ad(?=[ \t]+D)|az(?=[ \t]+Z)|ar(?=[ \t]+R)|ash(?=[ \t]+Sh)|as(?=[ \t]+S)|an(?=[ \t]+N)"
# Capitalised words that never start an entity but start many sentences. Excluding them inside
# the regex (a third of all capitalised words in news) saves a Python round per word.
_SENTENCE_STARTS = (
    "The This That These Those There Their They Then Today To Two Three Tuesday Thursday Here He His Her "
    "How However In It Its If I And As At An A All According After Although Another April August But By "
    "Both Before During Despite December Even Each For From February Friday Meanwhile Monday Most More My "
    "March No Not Now November October On One Of Our Over Other Since She So Some Still Such Saturday "
    "Sunday September Under Until We What When Where Which While Who Why With Wednesday Yet Yes You Your "
    "January June July Last Just Also Did Do Does Is Are Was Were Would Could Should Let Like Perhaps "
    "Instead Indeed Among Against Without Within Every Few Several Only Much Once Many Though Thus "
    # Prepositions that introduce a place: kept out of the phrase so that "Near Rawah" is a phrase
    # "Rawah" with the place cue "Near" before it (see `_place_cue`).
    "Near Outside Inside Around Across Towards Into"
)


# The capitals that may start a name, most frequent in news first (see `_phrase_start`).
# The Latin-1 ones are À-Ö and Ø-Þ (0xD7 is the multiplication sign).
_UP_LETTERS = "TSACIMBPRWDHNEFUGOLKJYVZXQ" + "".join(chr(c) for c in range(0xC0, 0xDF) if c != 0xD7)


def _phrase_start(words: str) -> str:
    """The first capital of a phrase, as one alternative per letter that refuses the listed words
    after it ("T(?!he\\b|his\\b ...)"). Every alternative starts with a literal, so the regex
    engine still skips lower-case text with a character set, and a capital costs one comparison per
    letter tried instead of a look-behind per excluded initial (a third of the scan's time)."""
    tails: dict[str, list[str]] = {}
    for w in words.split():
        tails.setdefault(w[0], []).append(re.escape(w[1:]))
    branches = []
    for first in _UP_LETTERS:
        rest = tails.get(first)
        alternation = "|".join(sorted(rest, key=len, reverse=True)) if rest else ""
        branches.append(f"{first}(?!(?:{alternation})\\b)" if rest else first)
    return f"(?:{'|'.join(branches)})"


# The look-behind after the first capital rejects a start inside a word ("iPhone") or an initialism.
PHRASE_RE = re.compile(
    rf"{_phrase_start(_SENTENCE_STARTS)}(?<![\w.].)(?:{_CAPTOK_REST})"
    rf"(?:[ \t]+(?:(?:{_CONNECTORS}|{_SUN_ARTICLES})[ \t]+)*(?:{_CAPTOK}))*"
)
_CONNECTOR_SET = frozenset(_CONNECTORS.split("|")) | {"ad", "az", "ar", "ash", "as", "an"}
# A quoted nickname inside a name: Col. John "J.D." Dorrian, Richard 'Tex' Coe. Matched only where
# an opening quote stands before a capital; the name word before it is checked in Python.
_NICKNAME_RE = re.compile(r"""['"‘“][A-Z][\w.'-]{0,14}['"’”](?=[ \t]+[A-Z])""")
# Where those quotes are: one regex per quote character, because a pattern that starts with one
# literal character is searched for with a fast scan, while one that starts with a set of
# characters ("['\"‘“]") tests every character of the text against the set (8 % of `extract`).
_QUOTE_BEFORE_CAPITAL = tuple((q, re.compile(q + "(?=[A-Z])")) for q in ("'", '"', "‘", "“"))
_NAME_BEFORE_RE = re.compile(rf"[{_UP}][\w.'-]*[ \t]+$")


def _blank_nicknames(body: str) -> str:
    """`body` with quoted nicknames between two name words replaced by spaces of the same length, so
    that the phrase regex sees one name ("John      Dorrian") and every offset stays valid."""
    candidates: list[int] = []
    for quote, quote_re in _QUOTE_BEFORE_CAPITAL:
        if quote in body:
            candidates.extend(m.start() for m in quote_re.finditer(body))
    if not candidates:
        return body
    candidates.sort()
    out = None
    pos = 0  # as `_NICKNAME_RE.finditer` would: a match starts at a candidate after the last match
    for start in candidates:
        if start < pos:
            continue
        m = _NICKNAME_RE.match(body, start)
        if m is None:
            continue
        pos = m.end()
        if _NAME_BEFORE_RE.search(body, max(0, start - 30), start):
            out = out or list(body)
            out[start:pos] = " " * (pos - start)
    return "".join(out) if out else body


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Capitalised function words that may not start a phrase ("The Islamic State" starts at "Islamic").
_NO_START = _words(
    """The A An In On At It He She We They I This That These Those But And Or If As For Of By To With
    His Her Their Our Its There When While After Before Since Although Meanwhile However"""
)
# Capitalised words that are never part of a name: dates and pronouns that news capitalises.
_NEVER_NAME = _words(
    """January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday The A An This That These Those It
    He She We They I You His Her Its Our Their But And Or If In On At For Of By From To As With"""
)
# Connectors that may stand inside a person's name.
_NAME_PARTICLES = _words("bin ibn al el van von de da der den la le du dos del di")
# The same particles capitalised, as Belgian, Dutch, French, Portuguese and Arabic names write them
# ("Annelies De Wilde", "Rafael Van der Berg", "Jean Le Pen", "Ahmed Al Rashid"). Each is also a
# common word, a given name or a town ("Van"), so it counts as a particle only next to a name.
_CAP_PARTICLES = _words("Bin Ibn Al El Van Von De Da Der Den La Le Du Dos Del Di")
_ALL_PARTICLES = _NAME_PARTICLES | _CAP_PARTICLES
# Words before a phrase that make it a place: "in Daquq", "near Ayn Isa", "the village of Safina".
_LOC_PREPOSITIONS = _words("in near outside around into towards toward across from")
_LOC_OF_NOUNS = _words(
    "village town city province district region governorate neighbourhood neighborhood suburb outskirts"
)
_LOC_AFTER_RE = re.compile(
    r"[ \t]+(?:province|district|governorate|region|mountains|valley|river|village|town|city|"
    r"neighbou?rhood|area|airport|airfield|dam|border|camp|refinery)\b"
)
# Country or demonym followed by a force or state body: "Iraqi security forces", "U.S. troops".
# "U.S.-led coalition" too: the "-led" is part of the token after a country name.
_FORCES_RE = re.compile(
    r"(?:-led)?[ \t]+((?:(?:security|government|armed|military|special|federal|national|coalition|border|"
    r"naval|ground|regime|pro-government|opposition|rebel|intelligence|state)[ \t]+)?"
    r"(?:forces|troops|army|military|government|police|navy|authorities|regime|soldiers|"
    r"intelligence|coast guard|air force|marines|coalition|officials|fighters|militias?|militiamen|"
    r"rebels|insurgents|service members|servicemen|media|television|TV|news agency))\b"
)
# Words that make the unknown name after them an organisation: "the German company Züblin",
# "the militant group Jund al-Aqsa", "the DNS operator Network Solutions".
_ORG_CUES = _words(
    """company firm group agency operator broadcaster channel network newspaper daily weekly magazine
    airline carrier contractor manufacturer maker militia faction outfit charity organisation
    organization movement party conglomerate insurer lender bank retailer startup"""
)
# Words after which capitalised words name an event, not an organisation or a person
# ("Operation Inherent Resolve", "Exercise Eager Lion").
_EVENT_HEADS = _words("Operation Exercise")
# Armed services named by one word ("the Army said", "Navy Capt. Jeff Davis"): organisations on
# their own; inside a longer name ("Iraqi Army", "Free Syrian Army") the head-word rule applies.
_SERVICE_WORDS = _words("Army Navy Marines")
# An ordinal right before a unit: "3rd Battalion", "507th Maintenance Group", "U.S. 5th Fleet".
# Searched with `endpos` at the unit's start, so `\Z` anchors it there.
_ORDINAL_BEFORE_RE = re.compile(r"\b\d{1,4}(?:st|nd|rd|th)[ \t]+\Z")
# Up to 9 capitals: military and agency acronyms run long (NAVCENT, USCENTCOM, AFRICOM).
_ACRONYM_RE = re.compile(r"[A-Z][A-Z&]{1,8}")
_ROMAN_RE = re.compile(r"[IVXLC]+")
# The number of a unit after its acronym ("CTF 150"): up to 3 digits, so that years ("NATO 2030")
# and amounts ("NHS 1.2bn", "CTF 50,000") stay out.
# Gazetteer targets carry their source's precedence (0-6); a guessed organisation (an unknown
# acronym, "Army") keeps the default: only those may take a unit number ("NATO 2030" stays NATO).
_GUESSED = 9
_UNIT_NUMBER_RE = re.compile(r"[ \t](\d{1,3})\b(?![.,/:]\d)")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
_WORD_AFTER_RE = re.compile(r"[ \t]*,?[ \t]*([a-z][\w-]*)")
_APPOSITION_RE = re.compile(r",[ \t]+(?:(?:the|a|an|who|as|is|its|their)[ \t]+)?((?:[\w'’-]+[ \t,]+){0,4})")
_APPOSITION_WORD_RE = re.compile(r"[a-z][a-z-]*")
_CLAUSE_END = frozenset(".,;:\n")  # what may follow a name that ends an attribution ("said Russell.")
_MAX_CONTEXT = 40  # characters looked at before a phrase for a title, a verb of saying or "in"
# What to do with a one-word phrase that is not in the gazetteer (cached per word); _UNIT: an
# organisation head word that is one when an ordinal precedes it ("3rd Battalion").
# _GIVEN: a name that is also a given name, which a verb of saying after it makes a person.
_SKIP, _COMPOUND, _NAME, _UNIT, _GIVEN = 0, 1, 2, 3, 4
# Per-word and per-phrase caches are bounded so that a long-running worker does not grow without limit.
_CACHE_MAX = 200_000
_SHIP_PREFIXES = _words("HMS USS HMAS HMCS HNLMS INS FS RFS MV SS")
_CAPITAL_RANK = 10**10  # the population rank the gazetteer gives capitals (see gazetteer._place_targets)
_F_SEEN, _F_NAME, _F_TITLE, _F_COMMON, _F_ACRONYM, _F_HEAD = 1, 2, 4, 8, 16, 32  # token classes, see `_flag`
_POSITION = operator.itemgetter(0, 1, 2, 3)  # start, end, type, id of a mention
_SPAN = operator.itemgetter(0, 1, 2)  # start, end, type
_SOURCE = operator.itemgetter(7)
_TYPE_ORDER = {"country": 0, "place": 1, "organisation": 2, "person": 3}


class Mention(NamedTuple):
    """One mention: character span in `source` ("title" or "text") and what it refers to.

    `kind` is "demonym" for adjectives of nationality ("Kazakh"), which count for their country.
    A NamedTuple rather than a frozen dataclass: as immutable, several times cheaper to create, and
    an article has dozens of mentions.
    """

    start: int
    end: int
    type: MentionType
    entity_id: str
    name: str  # canonical display name of the entity
    surface: str  # the text as written
    kind: Literal["name", "demonym"] = "name"
    source: Literal["title", "text"] = "text"
    title: str | None = None  # people: the title or role next to the name
    country: str | None = None  # places: ISO code of their country


# Mentions made without the NamedTuple's generated `__new__` (a Python function with defaults): the
# same tuple, a third of the cost; an article has dozens of mentions. Every field is given.
_mention = functools.partial(tuple.__new__, Mention)


def _named(start: int, end: int, kind: str, entity_id: str, surface: str, source: str) -> Mention:
    """A mention by name (the surface is also its name), without country or title."""
    return _mention((start, end, kind, entity_id, surface, surface, "name", source, None, None))


def _named_org(start: int, end: int, surface: str, source: str) -> Mention:
    """An organisation named by its own words ("3rd Battalion", "CTF 150"): its id is its slug."""
    return _named(start, end, "organisation", "org:" + slugify(surface), surface, source)


@dataclass
class _Plan:
    """What a multi-word phrase is, as far as its own words tell; cached per phrase text (half of
    the phrases of a news text were seen before in other texts). Spans are relative to the phrase
    start; token spans are (first, end) token indexes."""

    starts: list[int]
    ends: list[int]
    texts: list[str]
    matches: list[tuple[int, int, Target]]  # gazetteer and acronym matches, character spans
    orgs: list[tuple[int, int]]  # generic organisations ("Tajik Border Troops")
    locs: list[tuple[int, int]]  # generic locations ("Diyala Province")
    persons: list[tuple[int, int, str | None]]  # people with their title
    open_runs: list[tuple[int, int]]  # name runs closing the phrase, decided by the words around it
    runs: list[tuple[int, int, bool]]  # other name runs; True when a place cue may make them places
    last_country: Target | None  # set when the phrase ends in a country or demonym
    last_country_start: int = 0
    # Organisation spans that are a country's forces or state body ("Belgian Police", "Iraqi Army"),
    # by first token: their id, the one `_forces` gives the same words in lower case.
    force_ids: dict[int, str] | None = None
    empty: bool = False  # nothing to report, whatever the context
    needs_context: bool = False  # forces, open runs or runs that a place cue may turn into places
    # Neither people, runs nor context: what the plan found is what every occurrence reports.
    plain: bool = False
    # The context can only add the forces of the country the phrase ends in ("Iraqi Army troops").
    forces_only: bool = False

    def seal(self) -> _Plan:
        """Turns the lists into tuples once the plan is complete, before it is cached. A tuple of
        numbers and strings leaves the garbage collector's lists at the first collection it survives;
        a list stays tracked for good. Cached plans held two thirds of the process's tracked objects,
        and each full collection walked them all (~15 % of the time of `extract` on unseen texts)."""
        # Spelled out rather than a loop over the field names: a new plan is sealed for every
        # phrase not seen before, and getattr/setattr by name cost twice as much.
        self.starts = tuple(self.starts)  # type: ignore[assignment]
        self.ends = tuple(self.ends)  # type: ignore[assignment]
        self.texts = tuple(self.texts)  # type: ignore[assignment]
        self.matches = tuple(self.matches)  # type: ignore[assignment]
        self.orgs = tuple(self.orgs)  # type: ignore[assignment]
        self.locs = tuple(self.locs)  # type: ignore[assignment]
        self.persons = tuple(self.persons)  # type: ignore[assignment]
        self.open_runs = tuple(self.open_runs)  # type: ignore[assignment]
        self.runs = tuple(self.runs)  # type: ignore[assignment]
        return self


class _Phrase:
    """One occurrence of a phrase in a text: its plan, where it is, and what its context added.
    A slotted plain class: one is made per phrase occurrence, so creation cost matters."""

    __slots__ = ("extra", "offset", "persons", "plan", "runs", "single", "source")

    def __init__(
        self, source: str, offset: int, plan: _Plan, persons: list[tuple[int, int, str | None]]
    ) -> None:
        self.source = source
        self.offset = offset  # character offset of the plan's spans in the text
        self.plan = plan
        self.persons = persons
        self.runs: list[tuple[int, int, bool]] = []
        self.extra: list[Mention] = []  # mentions made from context (forces, places)
        self.single = False  # the pseudo-phrase of all one-word phrases (absolute spans)


class EntityExtractor:
    """Build once (tables and regexes compiled up front), then call `extract` or `mentions`."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self.gz = gazetteer or build_gazetteer()
        self._single_cache: dict[str, Target | int] = {}
        self._plan_cache: dict[str, _Plan] = {}
        self._token_flags: dict[str, int] = {}
        # The head words of organisations and locations together: one look-up per token (in
        # `_flag`) tells whether a phrase needs `_head_spans` at all.
        self._any_head = (
            self.gz.org_heads | self.gz.org_head_first | self.gz.loc_heads | self.gz.loc_head_first
        )
        # Gazetteer names that start with a lower-case Arabic article ("al-Qaeda", "al Qaeda",
        # "al-Shabaab"): the phrase regex starts at a capital, so it finds "Qaeda" and `_phrases`
        # puts the article back when the whole form is one of these.
        self._article_forms = frozenset(
            _article_form(key) for key in self.gz.table if key.startswith(("al-", "el-", "al ", "el "))
        )

    # -- public API ---------------------------------------------------------------------------------

    def cache_state(self) -> tuple[dict, dict, dict]:
        """Copies of the per-word, per-phrase and per-token caches (for benchmarks)."""
        return dict(self._single_cache), dict(self._plan_cache), dict(self._token_flags)

    def restore_cache_state(self, state: tuple[dict, dict, dict] | None) -> None:
        """Puts caches back as `cache_state` returned them; None empties them."""
        single, plans, flags = state or ({}, {}, {})
        self._single_cache, self._plan_cache, self._token_flags = single, plans, flags

    def _unordered_mentions(self, title: str, text: str) -> list[Mention]:
        phrases: list[_Phrase] = []
        # Occurrences of phrases whose plan says all there is (gazetteer matches, organisations,
        # locations): (source, offset, plan), emitted as they are, without a `_Phrase`.
        plain: list[tuple[str, int, _Plan]] = []
        for source, body in (("title", title), ("text", text)):
            if not body:
                continue
            caps = _is_all_caps(body)
            # A Headline With Every Word Capitalised gives no signal for names or context.
            context = not caps and not (source == "title" and _is_title_case(body))
            scan = _blank_nicknames(body) if not caps else body
            phrases.extend(self._phrases(scan, source, caps, context, plain))  # type: ignore[arg-type]
        self._resolve_runs(phrases, title, text)
        return self._emit(phrases, plain, title, text)

    def mentions(self, title: str, text: str) -> list[Mention]:
        """All mentions in title and text, in order (title first), spans relative to their source."""
        out = self._unordered_mentions(title, text)
        # Title first, then by position (start, end, type, id); itemgetter keeps the sort in C.
        titled = [m for m in out if m.source == "title"]
        if titled:
            body_mentions = [m for m in out if m.source == "text"]
            return sorted(titled, key=_POSITION) + sorted(body_mentions, key=_POSITION)
        out.sort(key=_POSITION)
        return out

    def extract(self, title: str, text: str) -> list[Entity]:
        """Entities of the article, ordered by type (country, place, organisation, person), then
        mention count (most first), then name: stable for equal input."""
        groups: dict[str, list[Mention]] = {}
        for m in self._unordered_mentions(title, text):
            if m.type != "location":
                group = groups.get(m.entity_id)
                if group is None:  # not setdefault: that builds a list for every mention
                    groups[m.entity_id] = [m]
                else:
                    group.append(m)
        # Each group in the order `mentions` gives (it decides the surface order, the title and the
        # displayed name): sorting the groups of two or more costs less than sorting all mentions.
        # The id is the same within a group; equal keys keep their order, as in the full sort.
        for ms in groups.values():
            if len(ms) > 1:
                ms.sort(key=_SPAN)
                if title:  # "title" before "text"; reverse keeps equal keys in order
                    ms.sort(key=_SOURCE, reverse=True)
        entities = [_entity(ms) for ms in groups.values()]
        return sorted(entities, key=lambda e: (_TYPE_ORDER[e.type], -e.count, e.name, e.id))

    # -- phrases ------------------------------------------------------------------------------------

    def _phrases(
        self, body: str, source: str, caps: bool, context: bool, plain: list[tuple[str, int, _Plan]]
    ) -> list[_Phrase]:
        if caps:
            # Every word is capitalised, and wire text breaks lines inside names ("SAN\nSALVADOR"):
            # the whole text is one phrase, matched against the upper-case table only.
            return [_Phrase(source, 0, self._plan(body, True), [])]
        spans = PHRASE_RE.finditer(body)
        cache, plans = self._single_cache, self._plan_cache
        if len(cache) > _CACHE_MAX:
            cache.clear()
        if len(plans) > _CACHE_MAX:
            plans.clear()
        # One-word phrases share one pseudo-phrase with absolute spans, so the hot path creates no
        # objects; they are independent of each other.
        singles_plan = _Plan([], [], [], [], [], [], [], [], [], None)
        singles = _Phrase(source, 0, singles_plan, [])
        singles.single = True
        matches, texts = singles_plan.matches, singles_plan.texts
        out = [singles]
        speech_verbs = self.gz.speech_verbs
        for m in spans:
            start, end = m.span()
            phrase = body[start:end]
            if start > 2 and body[start - 2] == "l" and body[start - 3] in "ae":
                # "al-Qaeda": the article is no capital, so the phrase started after it.
                wide = body[start - 3 : end]
                whole_word = start == 3 or not body[start - 4].isalnum()
                if whole_word and _article_form(wide) in self._article_forms:
                    phrase, start = wide, start - 3
            if " " not in phrase and "\t" not in phrase:
                action = cache.get(phrase)
                if action is None:
                    action = cache[phrase] = self._single_action(phrase)
                if action.__class__ is Target:
                    if context and action.type == "country":  # type: ignore[union-attr]
                        if _FORCES_RE.match(body, end) is not None:  # checked here: most are not
                            self._forces(singles, body, start, end, action)  # type: ignore[arg-type]
                    elif (
                        action.precedence == _GUESSED  # type: ignore[union-attr]
                        and body[end + 1 : end + 2].isdigit()
                        and _numbered_unit(singles, body, m)
                    ):
                        continue  # "CTF 50"
                    matches.append((start, end, action))  # type: ignore[arg-type]
                elif action in (_NAME, _GIVEN):
                    if not context:
                        continue
                    # A lone unknown name: never a new person by itself (except a given name with a
                    # verb of saying), but kept in case it repeats a known person's name or is
                    # introduced as a place. Inlined: a third of all one-word phrases come here.
                    idx = len(texts)
                    singles_plan.starts.append(start)
                    singles_plan.ends.append(end)
                    texts.append(phrase)
                    if action == _GIVEN:
                        after = _WORD_AFTER_RE.match(body, end)
                        if after and after.group(1) in speech_verbs:
                            singles.persons.append((idx, idx + 1, None))
                            continue
                    # '..., said Russell.': a verb of saying before a name that ends the clause.
                    if body[end : end + 1] in _CLAUSE_END and _prev_word(body, start) in speech_verbs:
                        singles.persons.append((idx, idx + 1, None))
                        continue
                    singles.runs.append((idx, idx + 1, True))
                elif action == _COMPOUND:
                    hit = self._match_parts(matches, phrase, start, self.gz.table)
                    if context and hit is not None and hit.type == "country" and phrase.endswith("-led"):
                        self._forces(singles, body, start, end - 4, hit)  # "US-led coalition"
                elif action == _UNIT:
                    ordinal = _ORDINAL_BEFORE_RE.search(body, max(0, start - 12), start)
                    if ordinal is not None:  # "3rd Battalion", "5th Fleet"
                        surface = body[ordinal.start() : end]
                        singles.extra.append(_named_org(ordinal.start(), end, surface, source))
                continue
            plan = plans.get(phrase)
            if plan is None:
                plan = plans[phrase] = self._plan(phrase, False).seal()
            if plan.empty:
                continue  # "Prime Minister", "However": nothing to report
            if context:
                if plan.plain or (plan.forces_only and _FORCES_RE.match(body, start + plan.ends[-1]) is None):
                    # The phrase ends in a country ("... in Iraq") with no forces after it, the most
                    # common case of context: what the plan found is all there is.
                    plain.append((source, start, plan))
                    continue
                ph = _Phrase(source, start, plan, list(plan.persons))
                if plan.needs_context:
                    self._apply_context(ph, body)
            elif not plan.runs:  # without context only the runs of a plan may still change
                plain.append((source, start, plan))
                continue
            else:
                ph = _Phrase(source, start, plan, [])
            out.append(ph)
        return out

    def _single_action(self, word: str) -> Target | int:
        """What a one-word phrase is; the answer depends on the word only."""
        target = self.gz.table.get(word)
        if target is not None:
            return target
        if len(word) > 3 and word.isupper():
            # A dateline or shouted word in mixed text: "MOSCOW, March 3".
            target = self.gz.upper_table.get(word)
            if target is not None:
                return target
        if word in _SERVICE_WORDS:
            return Target("organisation", "org:" + word.lower(), word)
        if word in self.gz.org_heads:
            return _UNIT  # "Battalion", "Fleet": an organisation only after an ordinal
        if word in _NEVER_NAME or word in _NO_START or word.lower() in self.gz.common_words:
            return _SKIP  # sentence-initial capital
        if "-" in word:
            return _COMPOUND
        if _ACRONYM_RE.fullmatch(word):
            if word in self.gz.acronym_stoplist or _ROMAN_RE.fullmatch(word):
                return _SKIP
            # An unknown acronym is almost always an organisation (NHS, KCNA, SNP).
            return Target("organisation", "org:" + word.lower(), word)
        if not self._is_name_token(word):
            return _SKIP
        return _GIVEN if word in self.gz.first_names else _NAME

    # -- the plan of a multi-word phrase --------------------------------------------------------------

    def _plan(self, phrase: str, caps: bool) -> _Plan:
        if caps:
            table, first = self.gz.upper_table, self.gz.upper_first_tokens
            found = [(t.start(), t.end(), t.group()) for t in TOKEN_RE.finditer(phrase)]
            while found and found[0][2] in _NO_START:
                del found[0]
            if not found:
                return _Plan([], [], [], [], [], [], [], [], [], None)
            starts, ends, texts = (list(x) for x in zip(*found, strict=True))
        else:
            table, first = self.gz.table, self.gz.first_tokens
            starts, ends, texts = _split_phrase(phrase)
            if texts[0] in _NO_START:
                k = 1
                while k < len(texts) and texts[k] in _NO_START:
                    k += 1
                if k == len(texts):
                    return _Plan([], [], [], [], [], [], [], [], [], None)
                del starts[:k], ends[:k], texts[:k]
        plan = _Plan(starts, ends, texts, [], [], [], [], [], [], None)
        cover = self._match(plan, table, first)
        if caps:
            return plan
        last = cover[-1]
        if last is not None and last.type == "country":
            plan.last_country = last
            # Where the country's name starts: "United States government" is one organisation.
            plan.last_country_start = max(m[0] for m in plan.matches if m[2] is last)
        if None in cover:
            self._analyse(plan, cover)
        plan.needs_context = bool(plan.last_country or plan.open_runs)
        plan.plain = not (plan.needs_context or plan.runs or plan.persons)
        plan.forces_only = plan.last_country is not None and not (plan.open_runs or plan.runs or plan.persons)
        plan.empty = not (
            plan.needs_context or plan.runs or plan.matches or plan.orgs or plan.locs or plan.persons
        )
        return plan

    def _match(self, plan: _Plan, table: dict[str, Target], first: dict[str, int]) -> list[Target | None]:
        """Longest gazetteer match at each token, left to right; returns the target covering each token."""
        texts = plan.texts
        n = len(texts)
        cover: list[Target | None] = [None] * n
        i = 0
        while i < n:
            token = texts[i]
            longest = first.get(token)
            hit = None
            if longest is not None:  # most tokens start no gazetteer form: no join, no range
                for length in range(min(longest, n - i), 1, -1):
                    target = table.get(" ".join(texts[i : i + length]))
                    if target is not None:
                        hit = (i + length, target)
                        break
                else:
                    target = table.get(token)
                    if target is not None:
                        hit = (i + 1, target)
            if hit and hit[0] == i + 1 and self._first_name_not_place(texts, i, hit[1], table):
                i += 2  # the surname is no place either ("Jordan Henderson")
                continue
            if (
                hit
                and hit[0] == i + 1
                and i > 0
                and hit[1].type == "place"
                and hit[1].population < _CAPITAL_RANK
                and cover[i - 1] is None
                and (
                    texts[i - 1] in self.gz.first_names
                    or len(texts[i - 1]) == 1
                    or texts[i - 1].rstrip(".").lower() in self.gz.titles
                )
            ):
                i += 1  # a town named like a surname after a given name, initial or title: "Alan Garcia"
                continue
            if hit:
                plan.matches.append((plan.starts[i], plan.ends[hit[0] - 1], hit[1]))
                for k in range(i, hit[0]):
                    cover[k] = hit[1]
                if hit[1].type == "organisation" and hit[0] - i > 2:
                    self._country_of_branch(plan, table, i, hit[0])
                i = hit[0]
                continue
            if "-" in token:
                cover[i] = self._match_parts(plan.matches, token, plan.starts[i], table)
            i += 1
        return cover

    def _country_of_branch(self, plan: _Plan, table: dict[str, Target], i: int, end: int) -> None:
        """The country an organisation's branch is named after counts as a mention of that country
        too: "Iraq" in "al-Qaeda in Iraq", "Libya" in "Islamic State in Libya". Only after "in":
        in "Islamic State of Iraq and the Levant" the country is part of a name, not a place."""
        texts = plan.texts
        for k in range(i + 1, end - 1):
            if texts[k] == "in":
                rest = " ".join(texts[k + 1 : end])
                target = table.get(rest)
                if target is not None and target.type == "country":
                    plan.matches.append((plan.starts[k + 1], plan.ends[end - 1], target))
                return

    def _first_name_not_place(
        self, texts: list[str], i: int, target: Target, table: dict[str, Target]
    ) -> bool:
        """Whether a place named like a given name is part of a person's name: "Jordan Henderson",
        "Chad Smith" (followed by a capitalised word that is no entity itself)."""
        if target.type not in ("country", "place") or texts[i] not in self.gz.first_names:
            return False
        if i + 1 >= len(texts):
            return False
        nxt = texts[i + 1]
        if not nxt[:1].isupper() or nxt in self.gz.org_heads or nxt in self.gz.loc_heads:
            return False
        follower = table.get(nxt)
        return follower is None or (follower.type == "place" and nxt not in self.gz.first_names)

    @staticmethod
    def _match_parts(
        matches: list[tuple[int, int, Target]], token: str, offset: int, table: dict[str, Target]
    ) -> Target | None:
        """Parts of a compound can be entities: "Russian-American", "US-led", "ISIL-held"."""
        hit = None
        for part in token.split("-"):
            target = table.get(part)
            if target is not None and part[:1].isupper():
                matches.append((offset, offset + len(part), target))
                hit = hit or target
            offset += len(part) + 1
        return hit

    def _flag(self, token: str) -> int:
        """Word classes of a token, cached: they depend on the token only."""
        # `_is_name_token` inlined: both need the title look-up, done once here.
        kind = _F_SEEN
        low = token.lower()
        capital = token[:1].isupper()
        is_title = low.rstrip(".") in self.gz.titles
        if (
            (capital or token.startswith(("al-", "el-", "bin-", "abu-")))
            and not is_title
            and token not in _NEVER_NAME
            and token not in self.gz.org_heads
            and not (len(token) > 1 and token.replace(".", "").isupper())
        ):
            kind |= _F_NAME
        if capital and is_title:
            kind |= _F_TITLE
        if low in self.gz.common_words:
            kind |= _F_COMMON
        if token.isupper() and _ACRONYM_RE.fullmatch(token):
            kind |= _F_ACRONYM
        if token in self._any_head:
            kind |= _F_HEAD
        if len(self._token_flags) > _CACHE_MAX:
            self._token_flags.clear()
        self._token_flags[token] = kind
        return kind

    def _is_name_token(self, text: str) -> bool:
        if not text[:1].isupper() and not text.startswith(("al-", "el-", "bin-", "abu-")):
            return False
        if text in _NEVER_NAME or text in self.gz.org_heads:
            return False
        if text.rstrip(".").lower() in self.gz.titles:
            return False
        # Acronyms are organisations or units, not names ("OSCE", "VBIED").
        return not (len(text) > 1 and text.replace(".", "").isupper())

    def _analyse(self, plan: _Plan, cover: list[Target | None]) -> None:
        """People, generic organisations and locations, and acronyms inside one phrase."""
        texts = plan.texts
        n = len(texts)
        flags, flag = self._token_flags, self._flag
        kinds = [flags.get(t) or flag(t) for t in texts]
        union = 0
        for kind in kinds:
            union |= kind
        is_title = [kind & _F_TITLE != 0 for kind in kinds]
        is_name = [kind & _F_NAME != 0 and c is None for kind, c in zip(kinds, cover, strict=True)]
        if texts[0] in _SERVICE_WORDS and n > 1 and is_title[1] and cover[0] is None:
            plan.matches.append((plan.starts[0], plan.ends[0], self._single_action(texts[0])))  # type: ignore[arg-type]
        if not _EVENT_HEADS.isdisjoint(texts):
            # "Operation Inherent Resolve": the words after are an event's name, no person or place.
            for k in range(n - 1):
                if texts[k] in _EVENT_HEADS:
                    j = k + 1
                    while j < n and texts[j][:1].isupper() and cover[j] is None:
                        is_name[j] = False
                        j += 1
        # Name runs: maximal stretches of name-like tokens not covered by the gazetteer.
        runs: list[tuple[int, int]] = []
        i = 0
        while i < n:
            if is_name[i]:
                j = i + 1
                while j < n and cover[j] is None:
                    if is_name[j]:
                        j += 1
                    else:
                        k = j  # particles, possibly several ("van der"), then a name word
                        while k < n and texts[k] in _NAME_PARTICLES and cover[k] is None:
                            k += 1
                        if k in (j, n) or not is_name[k]:
                            break
                        j = k + 1
                # Leading ordinary words are sentence-initial capitals ("However", "Experts"), but
                # not a particle that starts a surname ("De Wilde said").
                while i < j and kinds[i] & _F_COMMON and not (texts[i] in _CAP_PARTICLES and i + 1 < j):
                    i += 1
                if i < j:
                    runs.append((i, j))
                i = max(j, i + 1)
            else:
                i += 1
        loc_heads = self.gz.loc_heads
        for a, b in runs:
            # Particles do not count, a capitalised one only inside the name ("Al Gore" is two words).
            size = b - a
            if not _ALL_PARTICLES.isdisjoint(texts[a:b]):
                size -= sum(1 for k in range(a, b) if texts[k] in _NAME_PARTICLES)
                size -= sum(1 for k in range(a + 1, b) if texts[k] in _CAP_PARTICLES)
            if size > 4 or texts[b - 1] in loc_heads:
                continue  # too long for a name, or a place ("Senkaku Islands")
            title = self._title_for(texts, is_title, a, b, size)
            if title is not None:
                plan.persons.append((a, b, title or None))
            elif b == n and size >= 2:
                plan.open_runs.append((a, b))  # context decides: "Dana Vorobyova said"
            else:
                plan.runs.append((a, b, a == 0 and b == n and texts[-1] not in self.gz.loc_heads))
        if union & _F_HEAD:
            if not self.gz.org_heads.isdisjoint(texts) or not self.gz.org_head_first.isdisjoint(texts):
                plan.orgs = self._head_spans(plan, cover, is_title, self.gz.org_heads, self.gz.org_head_first)
                if plan.orgs:
                    _force_ids(plan, cover)
            if not self.gz.loc_heads.isdisjoint(texts) or not self.gz.loc_head_first.isdisjoint(texts):
                plan.locs = self._head_spans(plan, cover, is_title, self.gz.loc_heads, self.gz.loc_head_first)
        if union & _F_ACRONYM:
            for k in range(n):
                if kinds[k] & _F_ACRONYM and cover[k] is None and not _in_spans(plan, k):
                    target = self._single_action(texts[k])
                    if target.__class__ is Target:
                        plan.matches.append((plan.starts[k], plan.ends[k], target))  # type: ignore[arg-type]

    def _title_for(self, texts: list[str], is_title: list[bool], a: int, b: int, size: int) -> str | None:
        """The title of a person run ("" for a person without a title), or None when the words of
        the phrase alone do not make it a person."""
        n = len(texts)
        if b < n and (texts[b] in self.gz.org_heads or texts[b] in self.gz.loc_heads or is_title[b]):
            return None  # "Challenges Department", "Diyala Province", "Interior Minister"
        if a > 0 and is_title[a - 1]:
            return _title_text(texts, 0, a)
        if a > 0 and texts[a - 1] in _CONNECTOR_SET and texts[a] not in self.gz.first_names:
            return None  # the complement of a title: "Director of the National Cancer Registry"
        if b == n and any(is_title[:a]):
            # "Permanent US Representative at the OSCE Ian Kelly": the name closes the phrase.
            return _title_text(texts, 0, a)
        if size >= 2 and texts[a] in self.gz.first_names:
            return ""
        return None

    def _head_spans(
        self,
        plan: _Plan,
        cover: list[Target | None],
        is_title: list[bool],
        heads: frozenset[str],
        head_first: frozenset[str],
    ) -> list[tuple[int, int]]:
        """Spans of names built on a head word: "<Caps...> Committee", "Ministry of <Caps...>"."""
        texts = plan.texts
        n = len(texts)
        if texts[0] in _SHIP_PREFIXES:
            return []  # "HMS Ocean", "USS Cole": a ship, not a sea or an organisation
        blocked = [False] * n  # people, and organisations found before (a location never overlaps one)
        for a, b, _ in plan.persons:
            for k in range(a, b):
                blocked[k] = True
        for s0, e0 in plan.orgs:
            for k in range(s0, e0):
                blocked[k] = True

        def joinable(k: int) -> bool:
            if blocked[k] or is_title[k] or texts[k] in _NEVER_NAME:
                return False
            return cover[k] is not None or texts[k][:1].isupper() or texts[k].startswith(("al-", "el-"))

        spans: list[tuple[int, int]] = []
        h = 0
        while h < n:
            word = texts[h]
            if cover[h] is not None or blocked[h] or (word not in heads and word not in head_first):
                h += 1
                continue
            s = h
            if word in heads:
                while s > 0:
                    if joinable(s - 1):
                        s -= 1
                    elif (
                        texts[s - 1] in ("and", "for", "&")
                        and s > 1
                        and joinable(s - 2)
                        and (texts[s - 1] != "and" or texts[s - 2].lower() in self.gz.common_words)
                    ):
                        s -= 2  # "Trade and Industry Ministry", not "Badr and Interior Ministry"
                    else:
                        break
            e = h + 1
            # "Ministry of Foreign Affairs", "Department of the Treasury", "Lake Tharthar".
            k = e + 1 if e < n and texts[e] == "of" else e
            if k < n and texts[k] == "the" and k > e:
                k += 1
            if word in head_first and k < n:
                while k < n and not is_title[k] and not blocked[k] and texts[k] not in self.gz.first_names:
                    if texts[k][:1].isupper():
                        k += 1
                        e = k
                    elif texts[k] in ("and", "for", "of") and k + 1 < n and texts[k + 1][:1].isupper():
                        k += 1  # "Ministry of Foreign Affairs and Trade", not "... and the Army"
                    else:
                        break
            if e - s >= 2:
                # "5th Special Forces Group": the name ending at "Group" contains the one ending at
                # "Forces", a part of the same mention, not a second one.
                while spans and spans[-1][0] >= s:
                    spans.pop()
                spans.append((s, e))
            h = max(e, h + 1)
        return spans

    # -- context of one occurrence ----------------------------------------------------------------------

    def _apply_context(self, ph: _Phrase, body: str) -> None:
        """Decides what the plan left to the words around the phrase."""
        plan, offset = ph.plan, ph.offset
        if plan.last_country is not None:
            start = offset + plan.last_country_start
            self._forces(ph, body, start, offset + plan.ends[-1], plan.last_country)
        if plan.open_runs:
            start, end = offset + plan.starts[0], offset + plan.ends[-1]
            before_words = body[max(0, start - _MAX_CONTEXT) : start].rstrip(" \t,").rsplit(None, 1)
            before = before_words[-1].lower() if before_words else ""
            after_m = _WORD_AFTER_RE.match(body, end)
            after = after_m.group(1) if after_m else ""
            for a, b in plan.open_runs:
                title = None
                if a == 0 and before in self.gz.titles:
                    # "spokesman John Kirby"; "The Minister of Justice, Joris Peeters"
                    title = (body[start - 2] == "," and self._role_before(body, start)) or before
                elif after in self.gz.speech_verbs or (a == 0 and before in self.gz.speech_verbs):
                    title = ""
                elif a == 0 and body[start - 2] == "," and (role := self._role_before(body, start)):
                    title = role  # "The Minister of the Interior, Annelies De Wilde, said"
                else:
                    app = _APPOSITION_RE.match(body, end)
                    if app and any(w in self.gz.titles for w in _APPOSITION_WORD_RE.findall(app.group(1))):
                        title = ""  # "John Smith, the bank's director"
                if title is not None:
                    ph.persons.append((a, b, title or None))
                else:
                    ph.runs.append((a, b, a == 0))

    def _role_before(self, body: str, start: int) -> str:
        """A role set off by a comma before a name, with its complement: "Minister of the Interior"
        in "The Minister of the Interior, Annelies De Wilde, ..."; "" when there is none. Only the
        capitalised words and connectors right before the comma are read."""
        before = body[max(0, start - _MAX_CONTEXT) : start].rstrip(" \t")
        if not before.endswith(","):
            return ""
        words = before[:-1].split()
        first = -1  # the first title word: "Minister" in "Minister of Justice"
        for k in range(len(words) - 1, max(-1, len(words) - 7), -1):
            word = words[k]
            if word.lower() in self.gz.titles:
                first = k
            elif not (word[:1].isupper() or word in _CONNECTOR_SET):
                break
        return " ".join(words[first:]) if first >= 0 else ""

    def _forces(self, ph: _Phrase, body: str, start: int, end: int, country: Target) -> None:
        """A state's forces or government are an organisation: "Iraqi security forces", "U.S. troops"."""
        m = _FORCES_RE.match(body, end)
        if m is None:
            return
        words = m.group(1)
        org_id = f"org:{country.id.lower()}-{slugify(words)}"
        ph.extra.append(_named(start, m.end(), "organisation", org_id, body[start : m.end()], ph.source))

    # -- across the article ---------------------------------------------------------------------------

    @staticmethod
    def _places_named_like_people(phrases: list[_Phrase], names: set[str], title: str, text: str) -> None:
        """A lone city name that is the surname of a person of this article is that person
        ("Garland" after "Merrick Garland"); capitals and countries keep their meaning."""
        for ph in phrases:
            if not ph.single:
                continue
            plan = ph.plan
            body = title if ph.source == "title" else text
            keep = []
            for start, end, target in plan.matches:
                if target.type == "place" and target.population < _CAPITAL_RANK and body[start:end] in names:
                    idx = len(plan.texts)
                    plan.starts.append(start)
                    plan.ends.append(end)
                    plan.texts.append(body[start:end])
                    ph.persons.append((idx, idx + 1, None))
                else:
                    keep.append((start, end, target))
            plan.matches[:] = keep

    def _resolve_runs(self, phrases: list[_Phrase], title: str, text: str) -> None:
        """Runs repeating a known person's full name, surname or given name count for that person;
        runs after an organisation noun ("the company Zublin") are organisations; other runs
        introduced as places ("in Daquq") become locations."""
        names: set[str] = set()
        for ph in phrases:
            texts = ph.plan.texts
            for a, b, _ in ph.persons:
                names.add(" ".join(texts[a:b]))
                names.update(_short_forms(tuple(texts[a:b])))
        if names:
            self._places_named_like_people(phrases, names, title, text)
        for ph in phrases:
            plan = ph.plan
            runs = [*plan.runs, *ph.runs] if ph.runs else plan.runs
            body = title if ph.source == "title" else text
            for a, b, maybe_place in runs:
                name = plan.texts[a] if b == a + 1 else " ".join(plan.texts[a:b])
                if name in names:
                    ph.persons.append((a, b, None))
                    continue
                start = ph.offset + plan.starts[a]
                if _prev_word(body, start) in _ORG_CUES:
                    end = ph.offset + plan.ends[b - 1]
                    surface = body[start:end]
                    ph.extra.append(_named_org(start, end, surface, ph.source))
                elif maybe_place:
                    end = ph.offset + plan.ends[b - 1]
                    if _place_cue(body, start, end):
                        surface = body[start:end]
                        loc_id = "loc:" + slugify(surface)
                        ph.extra.append(_named(start, end, "location", loc_id, surface, ph.source))

    def _emit(
        self, phrases: list[_Phrase], plain: list[tuple[str, int, _Plan]], headline: str, text: str
    ) -> list[Mention]:
        # Person ids: a one-word mention ("President Putin", "Karim") joins the full name it is part of.
        full_of: dict[str, str] = {}
        for ph in phrases:
            texts = ph.plan.texts
            for a, b, _ in ph.persons:
                if b - a > 1:
                    full = " ".join(texts[a:b])
                    for short in _short_forms(tuple(texts[a:b])):
                        full_of.setdefault(short, full)
        out: list[Mention] = []
        for source, offset, plan in plain:
            _emit_plan(out, plan, offset, headline if source == "title" else text, source)
        for ph in phrases:
            body = headline if ph.source == "title" else text
            plan, offset, source = ph.plan, ph.offset, ph.source
            _emit_plan(out, plan, offset, body, source)
            out.extend(ph.extra)
            for a, b, role in ph.persons:
                name = " ".join(plan.texts[a:b])
                if b - a == 1 or name in full_of:  # "Putin", "De Wilde"
                    name = full_of.get(name, name)
                start, end = offset + plan.starts[a], offset + plan.ends[b - 1]
                person_id = "person:" + slugify(name)
                out.append(
                    _mention(
                        (start, end, "person", person_id, name, body[start:end], "name", source, role, None)
                    )
                )
        return out  # unordered: `mentions` sorts them all, `extract` only the groups that need it


def _emit_plan(out: list[Mention], plan: _Plan, offset: int, body: str, source: str) -> None:
    """The mentions a plan gives by itself (gazetteer matches, organisations, locations), at `offset`."""
    for start, end, t in plan.matches:
        start += offset
        end += offset
        out.append(
            _mention((start, end, t.type, t.id, t.name, body[start:end], t.kind, source, None, t.country))
        )
    if plan.orgs:
        force_ids = plan.force_ids
        for s, e in plan.orgs:
            start, end = offset + plan.starts[s], offset + plan.ends[e - 1]
            surface = _strip_the(body[start:end])
            start = end - len(surface)
            if force_ids and s in force_ids:
                out.append(_named(start, end, "organisation", force_ids[s], surface, source))
                continue
            if s == 0 and start > 0 and body[start - 1] == " ":
                ordinal = _ORDINAL_BEFORE_RE.search(body, max(0, start - 12), start)
                if ordinal is not None:  # "321st Field Artillery Regiment"
                    start = ordinal.start()
                    surface = body[start:end]
            out.append(_named_org(start, end, surface, source))
    for s, e in plan.locs:
        start, end = offset + plan.starts[s], offset + plan.ends[e - 1]
        surface = _strip_the(body[start:end])
        start = end - len(surface)
        out.append(_named(start, end, "location", "loc:" + slugify(surface), surface, source))


def _numbered_unit(singles: _Phrase, body: str, m: re.Match[str]) -> bool:
    """An unknown acronym with a number after it names a numbered unit: "CTF 50", "TF 55",
    "JTF 2" (task forces). Added as its own mention; False when no number follows."""
    if not m.group().isupper():
        return False  # "Army 3": a service word, not an acronym
    num = _UNIT_NUMBER_RE.match(body, m.end())
    if num is None:
        return False
    surface = body[m.start() : num.end()]
    singles.extra.append(_named_org(m.start(), num.end(), surface, singles.source))
    return True


def _force_ids(plan: _Plan, cover: list[Target | None]) -> None:
    """Ids for organisation spans made of a country and words that `_forces` reads in lower case
    ("Belgian Police", "Iraqi Security Forces", "U.S. Army"): one entity however they are
    capitalised; a headline in Title Case capitalises every word."""
    for s, e in plan.orgs:
        country = cover[s]
        if country is None or country.type != "country":
            continue
        k = s
        while k < e and cover[k] is country:
            k += 1
        m = _FORCES_RE.fullmatch(" " + " ".join(plan.texts[k:e]).lower())
        if m is not None:
            if plan.force_ids is None:
                plan.force_ids = {}
            plan.force_ids[s] = f"org:{country.id.lower()}-{slugify(m.group(1))}"


def _in_spans(plan: _Plan, k: int) -> bool:
    return any(s <= k < e for s, e in plan.orgs) or any(s <= k < e for s, e in plan.locs)


def _entity(ms: list[Mention]) -> Entity:
    first = ms[0]
    if len(ms) == 1:  # most entities: the general case below gives the same, at twice the cost
        m = first
        return _new_entity(m.type, m.name, m.entity_id, 1, (m.surface,), m.title or None, m.country)
    surfaces = tuple(dict.fromkeys(m.surface for m in ms))
    name = first.name
    title = None
    if first.type == "organisation" and first.source == "title":
        # A headline may capitalise every word ("Belgian Police Arrest ..."): the running text
        # writes the name as the article means it ("Belgian police").
        name = next((m.name for m in ms if m.source == "text"), name)
    elif first.type == "person":  # only people have a title, and several written forms of the name
        # Display the longest form seen ("Nurtai Abykayev" over "Abykayev").
        name = max((m.name for m in ms), key=lambda s: (len(s.split()), len(s)))
        title = next((m.title for m in ms if m.title), None)
    return _new_entity(first.type, name, first.entity_id, len(ms), surfaces, title, first.country)


# `_new_entity` fills these fields by name: a change to the model must fail here, not give entities
# without a field.
assert [f.name for f in dataclasses.fields(Entity)] == [
    "type",
    "name",
    "id",
    "count",
    "mentions",
    "title",
    "country",
], "Entity changed: update _new_entity"
_new_object = object.__new__


def _new_entity(
    type_: str,
    name: str,
    id_: str,
    count: int,
    mentions: tuple[str, ...],
    title: str | None,
    country: str | None,
) -> Entity:
    """Entity(...) without the frozen dataclass's `__init__`, which sets each field through
    `object.__setattr__` (40 % of the cost of making one; an article has a dozen entities): the same
    instance dictionary, in the same order, filled at once."""
    entity = _new_object(Entity)
    entity.__dict__.update(
        type=type_, name=name, id=id_, count=count, mentions=mentions, title=title, country=country
    )
    return entity


def _article_form(phrase: str) -> str:
    """The article and the word after it: "al Qaeda" of "al Qaeda in Iraq", "al-Qaeda" of
    "al-Qaeda in Iraq"."""
    parts = phrase.split(" ", 2)
    return " ".join(parts[:2]) if phrase[2] == " " else parts[0]


@functools.lru_cache(maxsize=65536)  # names repeat across articles
def _short_forms(words: tuple[str, ...]) -> tuple[str, ...]:
    """The forms a later mention of a person may take: the surname, alone and with its particles
    ("Wilde", "De Wilde", "Van der Berg" for "Rafael van der Berg"), the surname without its Arabic
    article ("Assad") and the given name. Nothing but the name itself for a one-word name."""
    if _ALL_PARTICLES.isdisjoint(words):  # most names: no particle, nothing to leave out
        parts: tuple[str, ...] | list[str] = words
    else:
        parts = [
            t
            for k, t in enumerate(words)
            if t not in _NAME_PARTICLES and not (k > 0 and t in _CAP_PARTICLES and k + 1 < len(words))
        ]
        if not parts:
            return ()
    out = [parts[-1]]
    bare = _bare_surname(parts[-1])
    if bare:
        out.append(bare)  # "Assad" after "Bashar al-Assad"
    if len(parts) > 1:
        out.append(parts[0])
        # The surname with the particles before it ("De Wilde"), capitalised as a sentence starts it.
        k = len(words) - 1
        while k > 1 and (words[k - 1] in _NAME_PARTICLES or words[k - 1] in _CAP_PARTICLES):
            k -= 1
        if k < len(words) - 1:
            tail = " ".join(words[k:])
            out.append(tail)
            out.append(tail[0].upper() + tail[1:])
    return tuple(out)


def _bare_surname(word: str) -> str:
    """An Arabic surname without its article, as news writes it on later mentions ("al-Assad" ->
    "Assad"); "" when there is none."""
    if len(word) > 5 and word[2] == "-" and word[:2] in ("al", "Al", "el", "El"):
        return word[3:]
    return ""


def _prev_word(body: str, start: int) -> str:
    """The blank-separated word right before `start` when one space separates them ("" otherwise):
    a cheaper `_word_before` (string methods only) for checks that run on every unknown name."""
    j = start - 1
    if j <= 0 or body[j] != " ":
        return ""
    return body[body.rfind(" ", max(0, j - 16), j) + 1 : j]


def _word_before(body: str, start: int) -> tuple[str, int]:
    """The word ending right before `start` (blanks skipped) and where it starts."""
    j = start
    while j > 0 and body[j - 1] in " \t":
        j -= 1
    i = j
    while i > 0 and j - i < 16 and body[i - 1].isalpha():
        i -= 1
    return body[i:j], i


def _place_cue(body: str, start: int, end: int) -> bool:
    """Whether the words around a name make it a place: "in Daquq", "the village of Safina",
    "Diyala province". Not before a possessive ("in Trump's ..."), which is a person or an
    organisation. String operations rather than a regex search: this runs for every unknown name."""
    nxt = body[end : end + 1]
    if nxt in ("'", "’"):
        return False
    word, i = _word_before(body, start)
    if word in _LOC_PREPOSITIONS or word.lower() in _LOC_PREPOSITIONS:  # "near Rawah", "Near Rawah"
        return True
    if word == "of" and _word_before(body, i)[0] in _LOC_OF_NOUNS:
        return True
    return nxt == " " and _LOC_AFTER_RE.match(body, end) is not None


def _split_phrase(phrase: str) -> tuple[list[int], list[int], list[str]]:
    """Starts, ends and texts of the tokens of a phrase found by PHRASE_RE, cut as TOKEN_RE would
    but without a regex: the phrase is words separated by blanks, and only a title abbreviation or
    an initial ends in one dot."""
    starts: list[int] = []
    ends: list[int] = []
    if "\t" in phrase or "  " in phrase:  # rare: more than one blank between words
        words = phrase.split()
        pos = 0
        for word in words:
            pos = phrase.index(word, pos)
            starts.append(pos)
            pos += len(word)
    else:
        words = phrase.split(" ")
        pos = 0
        for word in words:
            starts.append(pos)
            pos += len(word) + 1
    texts = words
    if "." in phrase:  # "Gen.", "J.": the dot is no part of the token, "U.S." keeps its dots
        texts = [w[:-1] if w[-1] == "." and w.count(".") == 1 else w for w in words]
    for start, token in zip(starts, texts, strict=True):
        ends.append(start + len(token))
    return starts, ends, texts


def _strip_the(s: str) -> str:
    return s[4:] if s.startswith(("The ", "the ")) else s


def _title_text(texts: list[str], a: int, b: int) -> str:
    words = texts[a:b]
    while words and (words[0] in _CONNECTOR_SET or words[0] in ("The", "A", "An")):
        words = words[1:]
    while words and words[-1] in _CONNECTOR_SET:
        words = words[:-1]
    return " ".join(words)


def _is_all_caps(body: str) -> bool:
    """MUC-style wire text: nearly every word is in capitals (str methods: a regex costs more)."""
    head = body[:300]
    if head.isupper():
        return True
    words = head.split()
    upper = sum(1 for w in words if w.isupper())
    return upper > 10 and upper > 5 * (len(words) - upper)


def _is_title_case(title: str) -> bool:
    words = [w for w in _LATIN_WORD_RE.findall(title) if len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.75 * len(words)


def build_extractor(cache_dir: Path | None) -> EntityExtractor:
    """An extractor with the packaged gazetteer (built, or loaded from `cache_dir` in ~0.2 s)."""
    from monitor.entities.gazetteer import cached_gazetteer

    return EntityExtractor(cached_gazetteer(cache_dir))
