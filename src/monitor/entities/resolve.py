"""Resolution across the article: what a name run is once every phrase of the article is known.

A run that repeats a person's full name, surname or given name is that person ("Abykayev" after
"Nurtai Abykayev"), and so is a town named like one ("Garland" after "Merrick Garland"); a run after
an organisation noun is an organisation ("the company Zublin"); a run introduced as a place is a
location ("in Daquq"). Each short form of a person then joins the full name it is part of, which
gives the person's id.
"""

from __future__ import annotations

import functools

from monitor.entities.context import Phrase, place_cue, prev_word
from monitor.entities.gazetteer import Gazetteer, slugify
from monitor.entities.mention import Mention, named, named_org
from monitor.entities.patterns import (
    ACRONYM_RE,
    ALL_PARTICLES,
    CAP_PARTICLES,
    CAPITAL_RANK,
    GUESSED,
    NAME_PARTICLES,
    ORG_CUES,
)


def resolve_runs(phrases: list[Phrase], title: str, text: str) -> None:
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
        _places_named_like_people(phrases, names, title, text)
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
            if prev_word(body, start) in ORG_CUES:
                end = ph.offset + plan.ends[b - 1]
                surface = body[start:end]
                ph.extra.append(named_org(start, end, surface, ph.source))
            elif maybe_place:
                end = ph.offset + plan.ends[b - 1]
                if place_cue(body, start, end):
                    surface = body[start:end]
                    loc_id = "loc:" + slugify(surface)
                    ph.extra.append(named(start, end, "location", loc_id, surface, ph.source))


def full_names(phrases: list[Phrase]) -> dict[str, str]:
    """The full name each short form of a person of the article stands for: a one-word mention
    ("President Putin", "Karim") joins the full name it is part of, and so gets its id. The first
    person with that short form keeps it."""
    full_of: dict[str, str] = {}
    for ph in phrases:
        texts = ph.plan.texts
        for a, b, _ in ph.persons:
            if b - a > 1:
                full = " ".join(texts[a:b])
                for short in _short_forms(tuple(texts[a:b])):
                    full_of.setdefault(short, full)
    return full_of


def _places_named_like_people(phrases: list[Phrase], names: set[str], title: str, text: str) -> None:
    """A lone city name that is the surname of a person of this article is that person
    ("Garland" after "Merrick Garland"); capitals and countries keep their meaning."""
    for ph in phrases:
        if not ph.single:
            continue
        plan = ph.plan
        body = title if ph.source == "title" else text
        keep = []
        for start, end, target in plan.matches:
            if target.type == "place" and target.population < CAPITAL_RANK and body[start:end] in names:
                idx = len(plan.texts)
                plan.starts.append(start)
                plan.ends.append(end)
                plan.texts.append(body[start:end])
                ph.persons.append((idx, idx + 1, None))
            else:
                keep.append((start, end, target))
        plan.matches[:] = keep


@functools.lru_cache(maxsize=65536)  # names repeat across articles
def _short_forms(words: tuple[str, ...]) -> tuple[str, ...]:
    """The forms a later mention of a person may take: the surname, alone and with its particles
    ("Wilde", "De Wilde", "Van der Berg" for "Rafael van der Berg"), the surname without its Arabic
    article ("Assad") and the given name. Nothing but the name itself for a one-word name."""
    if ALL_PARTICLES.isdisjoint(words):  # most names: no particle, nothing to leave out
        parts: tuple[str, ...] | list[str] = words
    else:
        parts = [
            t
            for k, t in enumerate(words)
            if t not in NAME_PARTICLES and not (k > 0 and t in CAP_PARTICLES and k + 1 < len(words))
        ]
        if not parts:
            return ()
    out = [parts[-1]]
    bare = bare_surname(parts[-1])
    if bare:
        out.append(bare)  # "Assad" after "Bashar al-Assad"
    if len(parts) > 1:
        out.append(parts[0])
        # The surname with the particles before it ("De Wilde"), capitalised as a sentence starts it.
        k = len(words) - 1
        while k > 1 and (words[k - 1] in NAME_PARTICLES or words[k - 1] in CAP_PARTICLES):
            k -= 1
        if k < len(words) - 1:
            tail = " ".join(words[k:])
            out.append(tail)
            out.append(tail[0].upper() + tail[1:])
    return tuple(out)


def bare_surname(word: str) -> str:
    """An Arabic surname without its article, as news writes it on later mentions ("al-Assad" ->
    "Assad"); "" when there is none."""
    if len(word) > 5 and word[2] == "-" and word[:2] in ("al", "Al", "el", "El"):
        return word[3:]
    return ""


def join_acronyms(mentions: list[Mention], title: str, text: str, gz: Gazetteer) -> list[Mention]:
    """An acronym defined in the article names the same organisation as its full name:
    "Islamic Revolutionary Guard Corps (IRGC)" and a later "the IRGC" are one entity, and so are
    "the EU Agency for Cybersecurity (ENISA)" and "ENISA". Also the other way round, "the IRGC
    (Islamic Revolutionary Guard Corps)". The id kept is the gazetteer's, where one side has one
    (the canonical entry), else the full name's; both sides in the gazetteer under different ids
    stay apart (two known bodies, not a definition). Every mention of the replaced id follows."""
    replace: dict[str, tuple[str, str]] = {}  # entity id -> (id, name) it becomes
    if "(" not in text and "(" not in title:
        _join_branches(mentions, gz, replace)
        if not replace:
            return mentions  # most articles define nothing
        return [m if m.entity_id not in replace else _renamed(m, replace) for m in mentions]
    orgs_by_end: dict[tuple[str, int], list[Mention]] = {}
    orgs_by_start: dict[tuple[str, int], Mention] = {}
    for m in mentions:
        if m.type == "organisation":
            orgs_by_end.setdefault((m.source, m.end), []).append(m)
            key_start = (m.source, m.start)
            old = orgs_by_start.get(key_start)
            if old is None or old.end < m.end:
                orgs_by_start[key_start] = m
    reshaped: dict[int, Mention] = {}  # full names cut to what their acronym spells, by id()
    for m in mentions:
        if m.type != "organisation" or not ACRONYM_RE.fullmatch(m.surface):
            continue
        body = title if m.source == "title" else text
        if body[m.start - 1 : m.start] == "(" and body[m.end : m.end + 1] == ")" and m.start >= 2:
            # "Full Name (ACR)": the full name ends right before " (". Of the names ending there
            # the shortest it spells: "Philippine National Police (PNP)", not the "Women and
            # Children Protection Centre of the Philippine National Police" around it.
            ending = orgs_by_end.get((m.source, m.start - 2), ())
            if any(f.entity_id == m.entity_id for f in ending):
                continue
            loose = _known(gz, m.surface, m.entity_id)
            fits = [f for f in ending if _initials_fit(m.surface, f.surface, loose)]
            full = min(fits, key=lambda f: f.end - f.start) if fits else None
        elif body[m.end : m.end + 2] == " (":
            # "ACR (Full Name)": the full name fills the parentheses.
            full = orgs_by_start.get((m.source, m.end + 2))
            if full is not None and body[full.end : full.end + 1] != ")":
                full = None
        else:
            continue
        if full is None or full.entity_id == m.entity_id or ACRONYM_RE.fullmatch(full.surface):
            continue
        acronym_known = _known(gz, m.surface, m.entity_id)
        full_known = _known(gz, full.surface, full.entity_id)
        if acronym_known and full_known:
            continue  # two bodies of the gazetteer: "the Council of Europe (EU)" is no definition
        if not _initials_fit(m.surface, full.surface, loose=acronym_known):
            continue
        if acronym_known:
            replace[full.entity_id] = (m.entity_id, m.name)
            continue
        cut = 0 if full_known else _spelled_start(m.surface, full.surface)
        if cut:
            # The acronym spells the end of a name found too long: "the US-based National Hockey
            # League (NHL)" names the "National Hockey League".
            surface = full.surface[cut:]
            new_id = "org:" + slugify(surface)
            reshaped[id(full)] = full._replace(
                start=full.start + cut, entity_id=new_id, name=surface, surface=surface
            )
            replace[full.entity_id] = replace[m.entity_id] = (new_id, surface)
        else:
            replace[m.entity_id] = (full.entity_id, full.name)
    _join_branches(mentions, gz, replace)
    if not replace:
        return mentions
    out = []
    for m in mentions:
        if reshaped and id(m) in reshaped:
            out.append(reshaped[id(m)])
            continue
        new = replace.get(m.entity_id)
        out.append(m if new is None else m._replace(entity_id=new[0], name=new[1]))
    return out


def _spelled_start(acronym: str, full: str) -> int:
    """Where in `full` the name the acronym spells starts, when that is a later word: the word
    from which the capitalised words give as many letters as the acronym has (a word in capitals
    gives all of its letters: "UK Independence Party" spells UKIP); 0 for the whole name."""
    letters = sum(1 for c in acronym if c.isalpha())
    starts = []
    pos = 0
    for word in full.split(" "):
        starts.append((pos, word))
        pos += len(word) + 1
    gives = [(len(w) if w.isupper() else 1) if w[:1].isupper() else 0 for _, w in starts]
    if sum(gives) == letters:
        return 0
    for k in range(1, len(starts)):
        if starts[k][1][:1] == acronym[0] and sum(gives[k:]) == letters:
            return starts[k][0]
    return 0


def _known(gz: Gazetteer, surface: str, entity_id: str) -> bool:
    """Whether a mention's id is a gazetteer entry's, not one made from its own words."""
    target = gz.table.get(surface)
    return target is not None and target.id == entity_id and target.precedence != GUESSED


def _initials_fit(acronym: str, full: str, loose: bool) -> bool:
    """Whether an acronym may stand for a name: its first letter starts a word of the name and at
    least half of its letters start words of it ("DGSI" for "General Directorate for Internal
    Security", in another language's word order), and the name has at most two capitalised words
    more than the acronym has letters. `loose` (a known acronym, "ENISA" for its newer
    name "EU Agency for Cybersecurity"): the first letter only."""
    words = [w[0] for w in full.replace("-", " ").split() if w[:1].isupper()]
    initials = set(words)
    letters = [c for c in acronym if c.isalpha()]
    if not letters or letters[0] not in initials or len(words) > len(letters) + 2:
        return False  # "PNP" spells no seven-word name
    return loose or 2 * sum(1 for c in letters if c in initials) >= len(letters)


def _renamed(m: Mention, replace: dict[str, tuple[str, str]]) -> Mention:
    new_id, name = replace[m.entity_id]
    return m._replace(entity_id=new_id, name=name)


def _join_branches(mentions: list[Mention], gz: Gazetteer, replace: dict[str, tuple[str, str]]) -> None:
    """A body's branch named again without its body is the same branch: "the Forum for Security
    Co-operation" after "the OSCE Forum for Security Co-operation" (the words before the shorter
    name must be a known organisation's name). Adds to `replace`."""
    orgs = {m.surface: m for m in mentions if m.type == "organisation" and " " in m.surface}
    if len(orgs) < 2:
        return
    for surface, m in orgs.items():
        for other, long in orgs.items():
            if len(other) > len(surface) + 1 and other.endswith(" " + surface):
                body = gz.table.get(other[: -len(surface) - 1])
                if body is not None and body.type == "organisation" and m.entity_id != long.entity_id:
                    replace.setdefault(m.entity_id, (long.entity_id, long.name))
                    break
