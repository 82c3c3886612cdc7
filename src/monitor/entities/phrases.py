"""Finding the capitalised phrases of a title or text, and what each occurrence is.

One precompiled regex (`patterns.PHRASE_RE`) finds the phrases ("Foreign Affairs Minister Kanat
Saudabayev", "Organization for Security and Co-operation in Europe"); lower-case running text is
never looked at again, apart from the words right before and after a phrase. One-word phrases, the
majority, are decided here with a per-word cache; longer ones get their cached `Plan`, and the
words around an occurrence are read (`context`) only where the plan leaves something open.
"""

from __future__ import annotations

import re

from monitor.entities.context import Phrase, apply_context, forces, numbered_unit, prev_word
from monitor.entities.gazetteer import Target, slugify, tokenize_key
from monitor.entities.mention import Mention, named, named_org, new_mention
from monitor.entities.patterns import (
    CLAUSE_END,
    FORCES_RE,
    GUESSED,
    LATIN_WORD_RE,
    NAME_BEFORE_RE,
    NICKNAME_RE,
    NO_START,
    ORDINAL_BEFORE_RE,
    PHRASE_RE,
    QUOTE_BEFORE_CAPITAL,
    TERRITORY_AFTER_RE,
    WORD_AFTER_RE,
)
from monitor.entities.plan import (
    CACHE_MAX,
    COMPOUND,
    GIVEN,
    NAME,
    UNIT,
    PlainOccurrence,
    Plan,
    Planner,
    match_parts,
)


class PhraseFinder:
    """Finds phrases with one `Planner`. Holds the per-word and per-phrase caches: what a one-word
    phrase is and the plan of a longer one depend on their words only, and half of the phrases of a
    news text were seen before in other texts."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.gz = planner.gz
        self.single_cache: dict[str, Target | int] = {}
        self.plan_cache: dict[str, Plan] = {}
        # Gazetteer names that start with a lower-case Arabic article ("al-Qaeda", "al Qaeda",
        # "al-Shabaab"): the phrase regex starts at a capital, so it finds "Qaeda" and `_scan`
        # puts the article back when the whole form is one of these.
        self._article_forms = frozenset(
            _article_form(key) for key in self.gz.table if key.startswith(("al-", "el-", "al ", "el "))
        )

    def phrases(self, body: str, source: str, plain: list[PlainOccurrence]) -> list[Phrase]:
        """The phrase occurrences of `body` (the title or the text, named by `source`) that the rest
        of the article may still change; occurrences whose plan says all there is go to `plain`."""
        caps = _is_all_caps(body)
        # A Headline With Every Word Capitalised gives no signal for names or context.
        context = not caps and not (source == "title" and _is_title_case(body))
        scan = _blank_nicknames(body) if not caps else body
        return self._scan(scan, source, caps, context, plain)

    def _scan(
        self, body: str, source: str, caps: bool, context: bool, plain: list[PlainOccurrence]
    ) -> list[Phrase]:
        if caps:
            # Every word is capitalised, and wire text breaks lines inside names ("SAN\nSALVADOR"):
            # the whole text is one phrase, matched against the upper-case table only.
            return [Phrase(source, 0, self.planner.plan(body, True), [])]
        spans = PHRASE_RE.finditer(body)
        cache, plans = self.single_cache, self.plan_cache
        if len(cache) > CACHE_MAX:
            cache.clear()
        if len(plans) > CACHE_MAX:
            plans.clear()
        # One-word phrases share one pseudo-phrase with absolute spans, so the hot path creates no
        # objects; they are independent of each other.
        singles_plan = Plan([], [], [], [], [], [], [], [], [], None)
        singles = Phrase(source, 0, singles_plan, [])
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
                    action = cache[phrase] = self.planner.single_action(phrase)
                if action.__class__ is Target:
                    if context and action.type == "country":  # type: ignore[union-attr]
                        if FORCES_RE.match(body, end) is not None:  # checked here: most are not
                            forces(singles, body, start, end, action)  # type: ignore[arg-type]
                        elif action.kind == "demonym":  # type: ignore[union-attr]
                            land = TERRITORY_AFTER_RE.match(body, end)
                            if land is not None:  # "the Turkish border", "Lebanese airspace"
                                surface = body[start : land.end()]
                                loc = named(
                                    start, land.end(), "location", "loc:" + slugify(surface), surface, source
                                )
                                singles.extra.append(loc)
                    elif (
                        action.precedence == GUESSED  # type: ignore[union-attr]
                        and body[end + 1 : end + 2].isdigit()
                        and numbered_unit(singles, body, m)
                    ):
                        continue  # "CTF 50"
                    matches.append((start, end, action))  # type: ignore[arg-type]
                elif action in (NAME, GIVEN):
                    if not context:
                        continue
                    # A lone unknown name: never a new person by itself (except a given name with a
                    # verb of saying), but kept in case it repeats a known person's name or is
                    # introduced as a place. Inlined: a third of all one-word phrases come here.
                    idx = len(texts)
                    singles_plan.starts.append(start)
                    singles_plan.ends.append(end)
                    texts.append(phrase)
                    if action == GIVEN:
                        after = WORD_AFTER_RE.match(body, end)
                        if after and after.group(1) in speech_verbs:
                            singles.persons.append((idx, idx + 1, None))
                            continue
                    # '..., said Russell.': a verb of saying before a name that ends the clause.
                    if body[end : end + 1] in CLAUSE_END and prev_word(body, start) in speech_verbs:
                        singles.persons.append((idx, idx + 1, None))
                        continue
                    singles.runs.append((idx, idx + 1, True))
                elif action == COMPOUND:
                    hit = match_parts(matches, phrase, start, self.gz.table)
                    if context and hit is not None and hit.type == "country" and phrase.endswith("-led"):
                        forces(singles, body, start, end - 4, hit)  # "US-led coalition"
                elif action == UNIT:
                    ordinal = ORDINAL_BEFORE_RE.search(body, max(0, start - 12), start)
                    if ordinal is not None:  # "3rd Battalion", "5th Fleet"
                        surface = body[ordinal.start() : end]
                        singles.extra.append(named_org(ordinal.start(), end, surface, source))
                    elif context and body[start - 3 : start - 1] in ("'s", "’s"):
                        owner = self._office_owner(body, start - 3)
                        if owner >= 0:  # "the Federal Prosecutor's Office", "Prime Minister's Office"
                            singles.extra.append(self._owned_body(owner, end, body, source))
                    elif context and body[start - 3 : start - 1] in ("s'", "s’"):
                        # A plural possessive is a people's, never a person's: "Kurdistan Workers'
                        # Party", "Farmers' Union".
                        owner = self._office_owner(body, start - 2, plural=True)
                        if owner >= 0:
                            singles.extra.append(self._owned_body(owner, end, body, source))
                continue
            plan = plans.get(phrase)
            if plan is None:
                plan = plans[phrase] = self.planner.plan(phrase, False).seal()
            if plan.empty:
                continue  # "Prime Minister", "However": nothing to report
            if context:
                if plan.plain or (plan.forces_only and FORCES_RE.match(body, start + plan.ends[-1]) is None):
                    # The phrase ends in a country ("... in Iraq") with no forces after it, the most
                    # common case of context: what the plan found is all there is.
                    plain.append((source, start, plan))
                    continue
                ph = Phrase(source, start, plan, list(plan.persons))
                if plan.needs_context:
                    apply_context(ph, body, self.gz)
            elif not plan.runs:  # without context only the runs of a plan may still change
                plain.append((source, start, plan))
                continue
            else:
                ph = Phrase(source, start, plan, [])
            out.append(ph)
        return out

    def _owned_body(self, start: int, end: int, body: str, source: str) -> Mention:
        """The organisation named by a possessive and a head word: the gazetteer's entry where it
        has one ("Kurdistan Workers' Party" is the PKK; the phrase regex stops at the apostrophe,
        so the matcher never saw the whole name), else one named by its own words."""
        surface = body[start:end]
        target = self.gz.table.get(tokenize_key(surface))
        if target is None or target.type != "organisation":
            return named_org(start, end, surface, source)
        return new_mention(
            (start, end, target.type, target.id, target.name, surface, target.kind, source, None, None)
        )

    def _office_owner(self, body: str, end: int, plural: bool = False) -> int:
        """Where the title owning an office starts, its possessive ending at `end`: "Federal
        Prosecutor" of "Federal Prosecutor's Office", "Attorney General" of "Attorney General's
        Office"; -1 when the words before are no title (a person's "Smith's Office" stays out).
        A people ("Supreme People's Court") or, with `plural`, a plural noun ("Kurdistan Workers'
        Party") owns a body too."""
        m = _OWNER_RE.search(body, max(0, end - 40), end)
        if m is None:
            return -1
        owner = m.group()
        while True:  # sentence-initial words are no part of it: "The Prime Minister's Office"
            first = owner.split(None, 1)
            if len(first) == 2 and first[0] in NO_START:
                owner = first[1]
            else:
                break
        last = owner.split()[-1]
        if plural:
            if last.lower() not in self.gz.common_words:
                return -1  # "the Jones' Party": a family's
        elif last.lower() not in self.gz.titles and last not in ("People", "Peoples"):
            return -1
        return end - len(owner)


# The capitalised words before a possessive, up to four: "Attorney General" in "Attorney General's".
_OWNER_RE = re.compile(r"(?:[A-Z][\w-]*[ \t]+){0,3}[A-Z][\w-]*\Z")


def _blank_nicknames(body: str) -> str:
    """`body` with quoted nicknames between two name words replaced by spaces of the same length, so
    that the phrase regex sees one name ("John      Dorrian") and every offset stays valid."""
    candidates: list[int] = []
    for quote, quote_re in QUOTE_BEFORE_CAPITAL:
        if quote in body:
            candidates.extend(m.start() for m in quote_re.finditer(body))
    if not candidates:
        return body
    candidates.sort()
    out = None
    pos = 0  # as `NICKNAME_RE.finditer` would: a match starts at a candidate after the last match
    for start in candidates:
        if start < pos:
            continue
        m = NICKNAME_RE.match(body, start)
        if m is None:
            continue
        pos = m.end()
        if NAME_BEFORE_RE.search(body, max(0, start - 30), start):
            out = out or list(body)
            out[start:pos] = " " * (pos - start)
    return "".join(out) if out else body


def _article_form(phrase: str) -> str:
    """The article and the word after it: "al Qaeda" of "al Qaeda in Iraq", "al-Qaeda" of
    "al-Qaeda in Iraq"."""
    parts = phrase.split(" ", 2)
    return " ".join(parts[:2]) if phrase[2] == " " else parts[0]


def _is_all_caps(body: str) -> bool:
    """MUC-style wire text: nearly every word is in capitals (str methods: a regex costs more)."""
    head = body[:300]
    if head.isupper():
        return True
    words = head.split()
    upper = sum(1 for w in words if w.isupper())
    return upper > 10 and upper > 5 * (len(words) - upper)


def _is_title_case(title: str) -> bool:
    words = [w for w in LATIN_WORD_RE.findall(title) if len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.75 * len(words)
