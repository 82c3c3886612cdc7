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
from monitor.entities.gazetteer import slugify
from monitor.entities.mention import named, named_org
from monitor.entities.patterns import ALL_PARTICLES, CAP_PARTICLES, CAPITAL_RANK, NAME_PARTICLES, ORG_CUES


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
    bare = _bare_surname(parts[-1])
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


def _bare_surname(word: str) -> str:
    """An Arabic surname without its article, as news writes it on later mentions ("al-Assad" ->
    "Assad"); "" when there is none."""
    if len(word) > 5 and word[2] == "-" and word[:2] in ("al", "Al", "el", "El"):
        return word[3:]
    return ""
