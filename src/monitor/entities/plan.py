"""Planning: what a capitalised phrase is by its own words, against the gazetteer.

A phrase's tokens are matched by longest match with dict look-ups; what is left are runs of
name-like tokens, which a title or a given name makes people, and names built on a head word
("... Committee", "Ministry of ...", "... Province"), which are organisations and locations. Runs
that only the words around the phrase can decide are left open for `context`. The plan depends on
the phrase's words only, so it is made once per phrase text and cached by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.entities.gazetteer import TOKEN_RE, Gazetteer, Target, slugify
from monitor.entities.patterns import (
    ACRONYM_RE,
    ALL_PARTICLES,
    CAP_PARTICLES,
    CAPITAL_RANK,
    CONNECTOR_SET,
    EVENT_HEADS,
    FORCES_RE,
    NAME_PARTICLES,
    NEVER_NAME,
    NO_START,
    ROMAN_RE,
    SERVICE_WORDS,
    SHIP_PREFIXES,
)

# What to do with a one-word phrase that is not in the gazetteer (cached per word); UNIT: an
# organisation head word that is one when an ordinal precedes it ("3rd Battalion").
# GIVEN: a name that is also a given name, which a verb of saying after it makes a person.
SKIP, COMPOUND, NAME, UNIT, GIVEN = 0, 1, 2, 3, 4
# Head words that name a body only with a complement after a connector ("Forum for Asia", "Centre
# for Strategic Studies"): without one, the capitalised words after them are something else
# ("Service Manager", "Mission Accomplished").
_READ_ON_ONLY = frozenset(
    ["Forum", "Centre", "Center", "Service", "Mission", "Command", "Secretariat", "Fund"]
)
# Titles that are also common surnames ("Julie Bishop", "John Major"): see `Planner._analyse`.
_SURNAME_TITLES = frozenset(["Bishop", "Major", "King", "Prince", "Judge", "Dean", "Marshal", "Pope"])
# Title words that start a two-word title ("Prime Minister", "Deputy Director"): see `_head_spans`.
_TITLE_MODIFIERS = frozenset(["Prime", "Vice", "Deputy", "Chief", "Attorney", "Inspector"])
# Abbreviated months and days after a head word: "the Commission on Dec. 3", not a name.
_DATE_WORDS = frozenset(
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mon Tue Wed Thu Fri Sat Sun".split()  # noqa: SIM905
)
# Per-word and per-phrase caches are bounded so that a long-running worker does not grow without limit.
CACHE_MAX = 200_000
_F_SEEN, _F_NAME, _F_TITLE, _F_COMMON, _F_ACRONYM, _F_HEAD = 1, 2, 4, 8, 16, 32  # token classes, see `_flag`


@dataclass
class Plan:
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
    # by first token: their id, the one `context.forces` gives the same words in lower case.
    force_ids: dict[int, str] | None = None
    empty: bool = False  # nothing to report, whatever the context
    needs_context: bool = False  # forces, open runs or runs that a place cue may turn into places
    # Neither people, runs nor context: what the plan found is what every occurrence reports.
    plain: bool = False
    # The context can only add the forces of the country the phrase ends in ("Iraqi Army troops").
    forces_only: bool = False

    def seal(self) -> Plan:
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


# An occurrence of a phrase whose plan says all there is (gazetteer matches, organisations,
# locations): (source, offset of the plan's spans, plan). Most occurrences are these; they are
# emitted as they are, without making a `context.Phrase` for them.
PlainOccurrence = tuple[str, int, Plan]


class Planner:
    """Plans phrases against one gazetteer. Holds the per-token cache of word classes (`_flag`): a
    token's classes depend on the token only, and most tokens recur across texts."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gz = gazetteer
        self.token_flags: dict[str, int] = {}
        # The head words of organisations and locations together: one look-up per token (in
        # `_flag`) tells whether a phrase needs `_head_spans` at all.
        self._any_head = (
            gazetteer.org_heads | gazetteer.org_head_first | gazetteer.loc_heads | gazetteer.loc_head_first
        )

    def single_action(self, word: str) -> Target | int:
        """What a one-word phrase is; the answer depends on the word only."""
        target = self.gz.table.get(word)
        if target is not None:
            return target
        if len(word) > 3 and word.isupper():
            # A dateline or shouted word in mixed text: "MOSCOW, March 3".
            target = self.gz.upper_table.get(word)
            if target is not None:
                return target
        if word in SERVICE_WORDS:
            return Target("organisation", "org:" + word.lower(), word)
        if word in self.gz.org_heads:
            return UNIT  # "Battalion", "Fleet": an organisation only after an ordinal
        if word in NEVER_NAME or word in NO_START or word.lower() in self.gz.common_words:
            return SKIP  # sentence-initial capital
        if "-" in word:
            return COMPOUND
        if ACRONYM_RE.fullmatch(word):
            if word in self.gz.acronym_stoplist or ROMAN_RE.fullmatch(word):
                return SKIP
            # An unknown acronym is almost always an organisation (NHS, KCNA, SNP).
            return Target("organisation", "org:" + word.lower(), word)
        if not self._is_name_token(word):
            return SKIP
        return GIVEN if word in self.gz.first_names else NAME

    def plan(self, phrase: str, caps: bool) -> Plan:
        """The plan of a phrase found by PHRASE_RE; with `caps`, of a whole text written in capitals,
        which only gets gazetteer matches from the upper-case table."""
        if caps:
            table, first = self.gz.upper_table, self.gz.upper_first_tokens
            found = [(t.start(), t.end(), t.group()) for t in TOKEN_RE.finditer(phrase)]
            while found and found[0][2] in NO_START:
                del found[0]
            if not found:
                return Plan([], [], [], [], [], [], [], [], [], None)
            starts, ends, texts = (list(x) for x in zip(*found, strict=True))
        else:
            table, first = self.gz.table, self.gz.first_tokens
            starts, ends, texts = _split_phrase(phrase)
            if texts[0] in NO_START:
                k = 1
                while k < len(texts) and texts[k] in NO_START:
                    k += 1
                if k == len(texts):
                    return Plan([], [], [], [], [], [], [], [], [], None)
                del starts[:k], ends[:k], texts[:k]
        plan = Plan(starts, ends, texts, [], [], [], [], [], [], None)
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

    def _match(self, plan: Plan, table: dict[str, Target], first: dict[str, int]) -> list[Target | None]:
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
                and hit[1].population < CAPITAL_RANK
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
                cover[i] = match_parts(plan.matches, token, plan.starts[i], table)
            i += 1
        return cover

    def _country_of_branch(self, plan: Plan, table: dict[str, Target], i: int, end: int) -> None:
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
            and token not in NEVER_NAME
            and token not in self.gz.org_heads
            and not (len(token) > 1 and token.replace(".", "").isupper())
        ):
            kind |= _F_NAME
        if capital and is_title:
            kind |= _F_TITLE
        if low in self.gz.common_words:
            kind |= _F_COMMON
        if token.isupper() and ACRONYM_RE.fullmatch(token):
            kind |= _F_ACRONYM
        if token in self._any_head:
            kind |= _F_HEAD
        if len(self.token_flags) > CACHE_MAX:
            self.token_flags.clear()
        self.token_flags[token] = kind
        return kind

    def _is_name_token(self, text: str) -> bool:
        if not text[:1].isupper() and not text.startswith(("al-", "el-", "bin-", "abu-")):
            return False
        if text in NEVER_NAME or text in self.gz.org_heads:
            return False
        if text.rstrip(".").lower() in self.gz.titles:
            return False
        # Acronyms are organisations or units, not names ("OSCE", "VBIED").
        return not (len(text) > 1 and text.replace(".", "").isupper())

    def _analyse(self, plan: Plan, cover: list[Target | None]) -> None:
        """People, generic organisations and locations, and acronyms inside one phrase."""
        texts = plan.texts
        n = len(texts)
        flags, flag = self.token_flags, self._flag
        kinds = [flags.get(t) or flag(t) for t in texts]
        union = 0
        for kind in kinds:
            union |= kind
        is_title = [kind & _F_TITLE != 0 for kind in kinds]
        is_name = [kind & _F_NAME != 0 and c is None for kind, c in zip(kinds, cover, strict=True)]
        if "May" in texts:
            # The month is a surname right after a name ("Theresa May"), never a run of its own.
            for k in range(1, n):
                if texts[k] == "May" and is_name[k - 1] and cover[k] is None:
                    is_name[k] = True
        if union & _F_TITLE:
            # A title that is also a common surname, closing the phrase right after a known given
            # name, is the surname: "Foreign Minister Julie Bishop", "Sir John Major", "CNN's John
            # King". Only at the phrase end ("John Bishop of Durham" keeps the role), and not
            # "President" or "Minister", which no one is called ("Ali President of the council").
            k = n - 1
            if (
                k > 0
                and texts[k] in _SURNAME_TITLES
                and cover[k] is None
                and is_name[k - 1]
                and texts[k - 1] in self.gz.first_names
            ):
                is_title[k] = False
                is_name[k] = True
        if texts[0] in SERVICE_WORDS and n > 1 and is_title[1] and cover[0] is None:
            plan.matches.append((plan.starts[0], plan.ends[0], self.single_action(texts[0])))  # type: ignore[arg-type]
        if not EVENT_HEADS.isdisjoint(texts):
            # "Operation Inherent Resolve": the words after are an event's name, no person or place.
            for k in range(n - 1):
                if texts[k] in EVENT_HEADS:
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
                        while k < n and texts[k] in NAME_PARTICLES and cover[k] is None:
                            k += 1
                        if k in (j, n) or not is_name[k]:
                            break
                        j = k + 1
                # Leading ordinary words are sentence-initial capitals ("However", "Experts"), but
                # not a particle that starts a surname ("De Wilde said").
                # After a title a known given name that is also a word starts the name: "President
                # Bill Clinton" (but "General Electric Co", "Chief of General Staff Valery ...").
                while (
                    i < j
                    and kinds[i] & _F_COMMON
                    and not (texts[i] in CAP_PARTICLES and i + 1 < j)
                    and not (i > 0 and is_title[i - 1] and i + 2 == j and texts[i] in self.gz.first_names)
                ):
                    i += 1
                if i < j:
                    runs.append((i, j))
                i = max(j, i + 1)
            else:
                i += 1
        loc_heads = self.gz.loc_heads
        lo = 0  # where the words before the current run start: after the person before it
        for a, b in runs:
            # Particles do not count, a capitalised one only inside the name ("Al Gore" is two words).
            size = b - a
            if not ALL_PARTICLES.isdisjoint(texts[a:b]):
                size -= sum(1 for k in range(a, b) if texts[k] in NAME_PARTICLES)
                size -= sum(1 for k in range(a + 1, b) if texts[k] in CAP_PARTICLES)
            if size > 4 or texts[b - 1] in loc_heads:
                continue  # too long for a name, or a place ("Senkaku Islands")
            title = self._title_for(texts, is_title, lo, a, b, size)
            if title is not None:
                plan.persons.append((a, b, title or None))
                lo = b
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
            if (plan.orgs or plan.locs) and (plan.open_runs or plan.runs):
                # A run that is the complement of a body's name is part of it, no person or place
                # of its own: "Zorbak Development" in "Ministry of Zorbak Development said". Not a
                # run after a complete name, which may be someone's: "Bank of Russia Elvira
                # Nabiullina told", nor one before the head: "the Trump Administration".
                spans = [*plan.orgs, *plan.locs]
                plan.open_runs = [r for r in plan.open_runs if not _complement(r, spans, texts)]
                plan.runs = [r for r in plan.runs if not _complement(r, spans, texts)]
        if union & _F_ACRONYM:
            for k in range(n):
                if kinds[k] & _F_ACRONYM and cover[k] is None and not _in_spans(plan, k):
                    target = self.single_action(texts[k])
                    if target.__class__ is Target:
                        plan.matches.append((plan.starts[k], plan.ends[k], target))  # type: ignore[arg-type]

    def _title_for(
        self, texts: list[str], is_title: list[bool], lo: int, a: int, b: int, size: int
    ) -> str | None:
        """The title of a person run ("" for a person without a title), or None when the words of
        the phrase alone do not make it a person. The title is read from `lo` on, the end of the run
        before: in "Dr Jane Goodall and Sheikh Hasina" Hasina's title is "Sheikh"."""
        n = len(texts)
        if b < n and (texts[b] in self.gz.org_heads or texts[b] in self.gz.loc_heads or is_title[b]):
            return None  # "Challenges Department", "Diyala Province", "Interior Minister"
        if a > 0 and is_title[a - 1]:
            return _title_text(texts, lo, a, is_title)
        if a > 0 and texts[a - 1] in CONNECTOR_SET and texts[a] not in self.gz.first_names:
            return None  # the complement of a title: "Director of the National Cancer Registry"
        if b == n and any(is_title[lo:a]):
            # "Permanent US Representative at the OSCE Ian Kelly": the name closes the phrase. One
            # ordinary word there is the end of the complement, not a name: "Chair of the Forum for
            # Security Co-operation" (but "President Bill Clinton", "Chief Art Acevedo").
            if size == 1 and texts[a].replace("-", "").lower() in self.gz.common_words:
                return None
            return _title_text(texts, lo, a, is_title)
        if size >= 2 and texts[a] in self.gz.first_names:
            return ""
        return None

    def _head_spans(
        self,
        plan: Plan,
        cover: list[Target | None],
        is_title: list[bool],
        heads: frozenset[str],
        head_first: frozenset[str],
    ) -> list[tuple[int, int]]:
        """Spans of names built on a head word: "<Caps...> Committee", "Ministry of <Caps...>"."""
        texts = plan.texts
        n = len(texts)
        if texts[0] in SHIP_PREFIXES:
            return []  # "HMS Ocean", "USS Cole": a ship, not a sea or an organisation
        blocked = [False] * n  # people, and organisations found before (a location never overlaps one)
        for a, b, _ in plan.persons:
            for k in range(a, b):
                blocked[k] = True
        for s0, e0 in plan.orgs:
            for k in range(s0, e0):
                blocked[k] = True

        titles = self.gz.titles
        # A plural title names the members of a body, not a person's role: "Foreign Affairs
        # Ministers Council", "Council of Ministers", "Joint Chiefs of Staff".
        role = [
            t and not (texts[k][-1:] == "s" and texts[k][:-1].lower() in titles)
            for k, t in enumerate(is_title)
        ]

        def joinable(k: int) -> bool:
            if blocked[k] or role[k] or texts[k] in NEVER_NAME:
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
            # "Ministry of Foreign Affairs", "Department of the Treasury", "Lake Tharthar", "Office
            # for Disarmament Affairs", "Office on Drugs and Crime".
            reads_on = e < n and (texts[e] == "of" or (word in head_first and texts[e] in ("for", "on")))
            k = e + 1 if reads_on else e
            if k < n and texts[k] == "the" and k > e:
                k += 1
            # Straight on without a connector only from a name's first word ("Bank Melli"): after
            # "OSCE Transnational Threats Department" the capitalised words are someone's name.
            if word in head_first and k < n and (reads_on or (s == h and word not in _READ_ON_ONLY)):
                # A title as the complement's first word names the office, not a person's role:
                # "Ministry of Justice", "Office of the Director of National Intelligence", "Court
                # of Justice"), and so does a title's second word after "Prime", "Deputy" ("Office
                # of the Prime Minister"). A title further on is someone's ("Ministry of Defence
                # Spokesman").
                office = reads_on  # the title words at the complement's start may go on
                while (
                    k < n
                    and (office or not role[k])
                    and not blocked[k]
                    and texts[k] not in self.gz.first_names
                ):
                    if texts[k][:1].isupper() and texts[k] not in NEVER_NAME and texts[k] not in _DATE_WORDS:
                        office = office and role[k] and texts[k] in _TITLE_MODIFIERS
                        k += 1
                        e = k
                    elif texts[k] in ("and", "for", "of") and k + 1 < n and texts[k + 1][:1].isupper():
                        k += 1  # "Ministry of Foreign Affairs and Trade", not "... and the Army"
                    elif (
                        texts[k] in ("for", "of")
                        and k + 2 < n
                        and texts[k + 1] == "the"
                        and texts[k + 2][:1].isupper()
                        and not _another_body(texts, cover, k + 2, head_first)
                    ):
                        k += 2  # "Federal Office for the Protection of the Constitution"
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


def match_parts(
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


def _force_ids(plan: Plan, cover: list[Target | None]) -> None:
    """Ids for organisation spans made of a country and words that `context.forces` reads in lower case
    ("Belgian Police", "Iraqi Security Forces", "U.S. Army"): one entity however they are
    capitalised; a headline in Title Case capitalises every word. Also for the branches of a known
    body, whichever of its names they start with."""
    for s, e in plan.orgs:
        country = cover[s]
        if country is not None and country.type == "organisation" and cover[e - 1] is None:
            # A known body's branch: "UN Office of Counter-Terrorism" and "United Nations Office of
            # Counter-Terrorism" get one id from the body's id and the words after its name.
            k = s
            while k < e and cover[k] is country:
                k += 1
            if plan.force_ids is None:
                plan.force_ids = {}
            plan.force_ids[s] = f"{country.id}-{slugify(' '.join(plan.texts[k:e]))}"
            continue
        if country is None or country.type != "country":
            continue
        k = s
        while k < e and cover[k] is country:
            k += 1
        m = FORCES_RE.fullmatch(" " + " ".join(plan.texts[k:e]).lower())
        if m is not None:
            if plan.force_ids is None:
                plan.force_ids = {}
            plan.force_ids[s] = f"org:{country.id.lower()}-{slugify(m.group(1))}"


def _another_body(texts: list[str], cover: list[Target | None], k: int, head_first: frozenset[str]) -> bool:
    """Whether the words from `k` on hold a body's name of their own, which "of the" does not join
    to the name before it: "... Academy of Sciences", a known organisation or an acronym ("... of
    the Central Committee of the CPC")."""
    for j in range(k, len(texts)):
        target = cover[j]
        if texts[j] in head_first or (target is not None and target.type == "organisation"):
            return True
        if target is None and ACRONYM_RE.fullmatch(texts[j]):
            return True
    return False


def _complement(run: tuple[int, ...], spans: list[tuple[int, int]], texts: list[str]) -> bool:
    """Whether a name run stands right after a connector inside one of the spans."""
    a = run[0]
    return texts[a - 1] in _COMPLEMENT_AFTER and any(s < a and run[1] <= e for s, e in spans)


_COMPLEMENT_AFTER = frozenset(["of", "for", "on", "the"])


def _in_spans(plan: Plan, k: int) -> bool:
    return any(s <= k < e for s, e in plan.orgs) or any(s <= k < e for s, e in plan.locs)


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


def _title_text(texts: list[str], a: int, b: int, is_title: list[bool]) -> str:
    # Two titles joined by "and" belong to two people: "Service Manager and President Bill
    # Clinton" gives Clinton "President"; "Minister of Trade and Industry" stays whole.
    for k in range(b - 2, a - 1, -1):
        if texts[k] == "and" and is_title[k + 1]:
            a = k + 1
            break
    words = texts[a:b]
    # Leading connectors, articles and words that are never a name or title ("May and President
    # Donald Trump" after "Prime Minister Theresa"): no part of the title.
    while words and (words[0] in CONNECTOR_SET or words[0] in NEVER_NAME):
        words = words[1:]
    while words and words[-1] in CONNECTOR_SET:
        words = words[:-1]
    return " ".join(words)
