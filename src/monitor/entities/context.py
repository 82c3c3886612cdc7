"""Context: what the words around one occurrence of a phrase add to its plan.

A title or a verb of saying next to an open run makes it a person ("spokesman John Kirby", "Dana
Vorobyova said"); a force or state body after a country makes an organisation ("Iraqi security
forces"); a number after an unknown acronym makes a unit ("CTF 150"); a preposition or a place noun
makes a place ("in Daquq", "Diyala province"). Only the few words right before and after a phrase
are read: lower-case running text is never scanned.
"""

from __future__ import annotations

import re

from monitor.entities.gazetteer import Gazetteer, Target, slugify
from monitor.entities.mention import Mention, named, named_org
from monitor.entities.patterns import (
    APPOSITION_RE,
    APPOSITION_WORD_RE,
    CONNECTOR_SET,
    FORCES_RE,
    LOC_AFTER_RE,
    LOC_OF_NOUNS,
    LOC_PREPOSITIONS,
    UNIT_NUMBER_RE,
    WORD_AFTER_RE,
)
from monitor.entities.plan import Plan

_MAX_CONTEXT = 40  # characters looked at before a phrase for a title, a verb of saying or "in"


class Phrase:
    """One occurrence of a phrase in a text: its plan, where it is, and what its context added.
    A slotted plain class: one is made per phrase occurrence, so creation cost matters."""

    __slots__ = ("extra", "offset", "persons", "plan", "runs", "single", "source")

    def __init__(
        self, source: str, offset: int, plan: Plan, persons: list[tuple[int, int, str | None]]
    ) -> None:
        self.source = source
        self.offset = offset  # character offset of the plan's spans in the text
        self.plan = plan
        self.persons = persons
        self.runs: list[tuple[int, int, bool]] = []
        self.extra: list[Mention] = []  # mentions made from context (forces, places)
        self.single = False  # the pseudo-phrase of all one-word phrases (absolute spans)


def apply_context(ph: Phrase, body: str, gz: Gazetteer) -> None:
    """Decides what the plan left to the words around the phrase."""
    plan, offset = ph.plan, ph.offset
    if plan.last_country is not None:
        start = offset + plan.last_country_start
        forces(ph, body, start, offset + plan.ends[-1], plan.last_country)
    if plan.open_runs:
        start, end = offset + plan.starts[0], offset + plan.ends[-1]
        before_words = body[max(0, start - _MAX_CONTEXT) : start].rstrip(" \t,").rsplit(None, 1)
        before = before_words[-1].lower() if before_words else ""
        after_m = WORD_AFTER_RE.match(body, end)
        after = after_m.group(1) if after_m else ""
        for a, b in plan.open_runs:
            title = None
            if a == 0 and before in gz.titles:
                # "spokesman John Kirby"; "The Minister of Justice, Joris Peeters"
                title = (body[start - 2] == "," and _role_before(body, start, gz.titles)) or before
            elif after in gz.speech_verbs or (a == 0 and before in gz.speech_verbs):
                title = ""
            elif a == 0 and body[start - 2] == "," and (role := _role_before(body, start, gz.titles)):
                title = role  # "The Minister of the Interior, Annelies De Wilde, said"
            else:
                app = APPOSITION_RE.match(body, end)
                if app and any(w in gz.titles for w in APPOSITION_WORD_RE.findall(app.group(1))):
                    title = ""  # "John Smith, the bank's director"
                elif app and _titled_apposition_then_said(body, end, gz):
                    title = ""  # "Marisol Ortega, Deputy High Representative for ..., said"
            if title is not None:
                ph.persons.append((a, b, title or None))
            else:
                ph.runs.append((a, b, a == 0))


_APPOSITION_SAID_RE = re.compile(r",[ \t]+([A-Z][^,.;:()\n]{2,120}),[ \t]+([a-z]+)\b")


def _titled_apposition_then_said(body: str, end: int, gz: Gazetteer) -> bool:
    """A capitalised role in commas after a name, then a verb of saying: "Marisol Ortega, Deputy
    High Representative for Disarmament Affairs, said". Both cues are needed: a capitalised title
    after a comma alone also follows days and places ("Thanksgiving Day, President ...")."""
    m = _APPOSITION_SAID_RE.match(body, end)
    if m is None or m.group(2) not in gz.speech_verbs:
        return False
    words = m.group(1).split()[:3]
    return any(w.lower() in gz.titles for w in words)


def _role_before(body: str, start: int, titles: frozenset[str]) -> str:
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
        if word.lower() in titles:
            first = k
        elif not (word[:1].isupper() or word in CONNECTOR_SET):
            break
    return " ".join(words[first:]) if first >= 0 else ""


def forces(ph: Phrase, body: str, start: int, end: int, country: Target) -> None:
    """A state's forces or government are an organisation: "Iraqi security forces", "U.S. troops"."""
    m = FORCES_RE.match(body, end)
    if m is None:
        return
    words = m.group(1)
    org_id = f"org:{country.id.lower()}-{slugify(words)}"
    ph.extra.append(named(start, m.end(), "organisation", org_id, body[start : m.end()], ph.source))


def numbered_unit(singles: Phrase, body: str, m: re.Match[str]) -> bool:
    """An unknown acronym with a number after it names a numbered unit: "CTF 50", "TF 55",
    "JTF 2" (task forces). Added as its own mention; False when no number follows."""
    if not m.group().isupper():
        return False  # "Army 3": a service word, not an acronym
    num = UNIT_NUMBER_RE.match(body, m.end())
    if num is None:
        return False
    surface = body[m.start() : num.end()]
    singles.extra.append(named_org(m.start(), num.end(), surface, singles.source))
    return True


def prev_word(body: str, start: int) -> str:
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


def place_cue(body: str, start: int, end: int) -> bool:
    """Whether the words around a name make it a place: "in Daquq", "the village of Safina",
    "Diyala province". Not before a possessive ("in Trump's ..."), which is a person or an
    organisation. String operations rather than a regex search: this runs for every unknown name."""
    nxt = body[end : end + 1]
    if nxt in ("'", "’"):
        return False
    word, i = _word_before(body, start)
    if word in LOC_PREPOSITIONS or word.lower() in LOC_PREPOSITIONS:  # "near Rawah", "Near Rawah"
        return True
    if word == "of" and _word_before(body, i)[0] in LOC_OF_NOUNS:
        return True
    return nxt == " " and LOC_AFTER_RE.match(body, end) is not None


# A role set off after a name: ", the bank's director", ", a senior adviser at the IAEA", up to the
# next punctuation; the clause words that end it are cut off (", who said ...").
_APPOSITION_ROLE_RE = re.compile(r",[ \t]+(?:(?:the|a|an)[ \t]+)?([^,.;:()\[\]\n\"“”]{2,120})")
_ROLE_END_RE = re.compile(
    r"(?:^|[ \t]+)(?:who|which|whose|said|says|told|added|warned|had|has|was|is|will)\b"
)
_ROLE_WORDS_MAX = 12


def person_title(body: str, start: int, end: int, titles: frozenset[str], head: int = -1) -> str | None:
    """The title or role written next to a person's name outside its phrase, or None: before it,
    set off by a comma ("The Deputy Minister of National Defence, Tomas Jurgelis") or in lower
    case ("deputy director Anna Lindqvist"); else after it, in apposition ("Carla Benedetti,
    Director of Organized and Emerging Crime at Interpol"; "Rafael Mendoza, a senior adviser at the
    International Atomic Energy Agency"). `head`: where the phrase of the name starts, when words
    of the phrase stand before the name: "the head of the OSCE Transnational Threats Department
    Alena Kupchyna" has the role "head of the OSCE Transnational Threats Department". The title is
    never part of the name."""
    if 0 <= head < start:
        words = body[max(0, head - _MAX_CONTEXT) : head].split()
        k = len(words)
        while k > 0 and words[k - 1] in ("of", "the", "at", "for"):
            k -= 1
        j = k
        while j > 0 and words[j - 1].lower() in titles and words[j - 1].islower():
            j -= 1
        if j < k:  # a title, then its complement in the phrase
            return " ".join([*words[j:], body[head:start].rstrip(" \t,")])
        # Else the words of the phrase before the name are no role; one may still follow it.
    before = "" if 0 <= head < start else body[max(0, start - _MAX_CONTEXT - 20) : start].rstrip(" \t")
    if before.endswith(","):
        role = _role_before_words(before[:-1].split(), titles)
        if role:
            return role
    else:
        words = before.split()
        k = len(words)
        while k > 0 and words[k - 1].lower() in titles and words[k - 1].islower():
            k -= 1
        if k < len(words):
            return " ".join(words[k:])
    m = _APPOSITION_ROLE_RE.match(body, end)
    if m is None:
        return None
    role = m.group(1)
    cut = _ROLE_END_RE.search(role)
    if cut is not None:
        role = role[: cut.start()]
    words = role.split()
    if not words or len(words) > _ROLE_WORDS_MAX:
        return None
    # A title among the first words: "the head of ..." is a role, "Mary Jones and ..." is not.
    first = next((k for k, w in enumerate(words[:5]) if _bare(w) in titles), -1)
    if first < 0:
        return None
    # After the title only more of it, or its complement after a connector ("director of legal
    # initiatives at ..."): any other word starts a clause or a description ("a lawyer representing
    # the child", "the president also said") and ends the role.
    k = first + 1
    while k < len(words):
        w = words[k]
        if w in CONNECTOR_SET or w == "&":
            break  # the complement: kept whole
        if not (w[:1].isupper() or _bare(w) in titles):
            del words[k:]
            break
        k += 1
    while words and words[-1] in CONNECTOR_SET:
        words.pop()
    return " ".join(words) or None


def _bare(word: str) -> str:
    """A word in lower case without a possessive: "bank's" -> "bank", "Director" -> "director"."""
    low = word.lower()
    return low[:-2] if low.endswith(("'s", "’s")) else low


def _role_before_words(words: list[str], titles: frozenset[str]) -> str:
    """The role closing `words` (the text before a comma): from its first title word on, through
    capitalised words, connectors and further title words; "" when there is none."""
    first = -1
    for k in range(len(words) - 1, max(-1, len(words) - 8), -1):
        word = words[k]
        if word.lower().rstrip(".") in titles:
            first = k
        elif not (word[:1].isupper() or word in CONNECTOR_SET):
            break
    return " ".join(words[first:]) if first >= 0 else ""
