"""The patterns of news language the extractor reads: the capitalised-phrase regex, the word lists
that tell a name from a sentence start, and the cues around a name (places, forces, units).

Pure data, compiled once at import. Every phase (`phrases`, `plan`, `context`, `resolve`) reads
these; none writes them.
"""

from __future__ import annotations

import re

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
    # "Rawah" with the place cue "Near" before it (see `context.place_cue`).
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
# The connectors as words: what may stand between the capitalised words of a title or role
# ("Minister of the Interior") and is left off its ends.
CONNECTOR_SET = frozenset(_CONNECTORS.split("|")) | {"ad", "az", "ar", "ash", "as", "an"}
# A quoted nickname inside a name: Col. John "J.D." Dorrian, Richard 'Tex' Coe. Matched only where
# an opening quote stands before a capital; the name word before it is checked in Python.
NICKNAME_RE = re.compile(r"""['"‘“][A-Z][\w.'-]{0,14}['"’”](?=[ \t]+[A-Z])""")
# Where those quotes are: one regex per quote character, because a pattern that starts with one
# literal character is searched for with a fast scan, while one that starts with a set of
# characters ("['\"‘“]") tests every character of the text against the set (8 % of `extract`).
QUOTE_BEFORE_CAPITAL = tuple((q, re.compile(q + "(?=[A-Z])")) for q in ("'", '"', "‘", "“"))
NAME_BEFORE_RE = re.compile(rf"[{_UP}][\w.'-]*[ \t]+$")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Capitalised function words that may not start a phrase ("The Islamic State" starts at "Islamic").
NO_START = _words(
    """The A An In On At It He She We They I This That These Those But And Or If As For Of By To With
    His Her Their Our Its There When While After Before Since Although Meanwhile However"""
)
# Capitalised words that are never part of a name: dates and pronouns that news capitalises.
NEVER_NAME = _words(
    """January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday The A An This That These Those It
    He She We They I You His Her Its Our Their But And Or If In On At For Of By From To As With"""
)
# Connectors that may stand inside a person's name.
NAME_PARTICLES = _words("bin ibn al el van von de da der den la le du dos del di")
# The same particles capitalised, as Belgian, Dutch, French, Portuguese and Arabic names write them
# ("Annelies De Wilde", "Rafael Van der Berg", "Jean Le Pen", "Ahmed Al Rashid"). Each is also a
# common word, a given name or a town ("Van"), so it counts as a particle only next to a name.
CAP_PARTICLES = _words("Bin Ibn Al El Van Von De Da Der Den La Le Du Dos Del Di")
ALL_PARTICLES = NAME_PARTICLES | CAP_PARTICLES
# Words before a phrase that make it a place: "in Daquq", "near Ayn Isa", "the village of Safina".
LOC_PREPOSITIONS = _words("in near outside around into towards toward across from")
LOC_OF_NOUNS = _words(
    "village town city province district region governorate neighbourhood neighborhood suburb outskirts"
)
LOC_AFTER_RE = re.compile(
    r"[ \t]+(?:province|district|governorate|region|mountains|valley|river|village|town|city|"
    r"neighbou?rhood|area|airport|airfield|dam|border|camp|refinery)\b"
)
# A demonym followed by a word for a country's land, its edge or its sky names a location of its
# own (re3d types "the Turkish border", "Syrian territory" Location, the demonym inside Nationality):
# reported as a location mention beside the demonym, which still counts for its country.
TERRITORY_AFTER_RE = re.compile(
    r"[ \t]+(?:border|borders|frontier|territory|territories|airspace|waters|coast|coastline|shores|soil)\b"
)
# Country or demonym followed by a force or state body: "Iraqi security forces", "U.S. troops".
# "U.S.-led coalition" too: the "-led" is part of the token after a country name.
FORCES_RE = re.compile(
    r"(?:-led)?[ \t]+((?:(?:security|government|armed|military|special|federal|national|coalition|border|"
    r"naval|ground|regime|pro-government|opposition|rebel|intelligence|state)[ \t]+)?"
    r"(?:forces|troops|army|military|government|police|navy|authorities|regime|soldiers|"
    r"intelligence|coast guard|air force|marines|coalition|officials|fighters|militias?|militiamen|"
    r"rebels|insurgents|service members|servicemen|media|television|TV|news agency))\b"
)
# Words that make the unknown name after them an organisation: "the German company Züblin",
# "the militant group Jund al-Aqsa", "the DNS operator Network Solutions".
ORG_CUES = _words(
    """company firm group agency operator broadcaster channel network newspaper daily weekly magazine
    airline carrier contractor manufacturer maker militia faction outfit charity organisation
    organization movement party conglomerate insurer lender bank retailer startup"""
)
# Words after which capitalised words name an event, not an organisation or a person
# ("Operation Inherent Resolve", "Exercise Eager Lion").
EVENT_HEADS = _words("Operation Exercise")
# Armed services named by one word ("the Army said", "Navy Capt. Jeff Davis"): organisations on
# their own; inside a longer name ("Iraqi Army", "Free Syrian Army") the head-word rule applies.
SERVICE_WORDS = _words("Army Navy Marines")
# An ordinal right before a unit: "3rd Battalion", "507th Maintenance Group", "U.S. 5th Fleet".
# Searched with `endpos` at the unit's start, so `\Z` anchors it there.
ORDINAL_BEFORE_RE = re.compile(r"\b\d{1,4}(?:st|nd|rd|th)[ \t]+\Z")
# Up to 9 capitals: military and agency acronyms run long (NAVCENT, USCENTCOM, AFRICOM).
ACRONYM_RE = re.compile(r"[A-Z][A-Z&]{1,8}")
ROMAN_RE = re.compile(r"[IVXLC]+")
# Gazetteer targets carry their source's precedence (0-6); a guessed organisation (an unknown
# acronym, "Army") keeps the default: only those may take a unit number ("NATO 2030" stays NATO).
GUESSED = 9
# The number of a unit after its acronym ("CTF 150"): up to 3 digits, so that years ("NATO 2030")
# and amounts ("NHS 1.2bn", "CTF 50,000") stay out.
UNIT_NUMBER_RE = re.compile(r"[ \t](\d{1,3})\b(?![.,/:]\d)")
# The words of a headline, to tell Title Case ("Police Arrest Two Men") from a sentence.
LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
# The lower-case word right after a name, past a comma: "Kirby said", "Kirby, said".
WORD_AFTER_RE = re.compile(r"[ \t]*,?[ \t]*([a-z][\w-]*)")
# A short apposition after a name, whose words may hold a title: "John Smith, the bank's director".
APPOSITION_RE = re.compile(r",[ \t]+(?:(?:the|a|an|who|as|is|its|their)[ \t]+)?((?:[\w'’-]+[ \t,]+){0,4})")
APPOSITION_WORD_RE = re.compile(r"[a-z][a-z-]*")
CLAUSE_END = frozenset(".,;:\n")  # what may follow a name that ends an attribution ("said Russell.")
SHIP_PREFIXES = _words("HMS USS HMAS HMCS HNLMS INS FS RFS MV SS")
CAPITAL_RANK = 10**10  # the population rank the gazetteer gives capitals (see gazetteer._place_targets)
