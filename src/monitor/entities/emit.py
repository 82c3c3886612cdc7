"""Emission: the mentions of an article from its phrases, in order, and its entities (mentions of one
id grouped into an `Entity`)."""

from __future__ import annotations

import dataclasses
import operator

from monitor.entities.context import Phrase, person_title
from monitor.entities.gazetteer import slugify
from monitor.entities.mention import Mention, named, named_org, new_mention
from monitor.entities.patterns import ORDINAL_BEFORE_RE
from monitor.entities.plan import PlainOccurrence, Plan
from monitor.models import Entity

# Sort keys of a mention as itemgetters, which keep the sorts in C.
_POSITION = operator.itemgetter(0, 1, 2, 3)  # start, end, type, id of a mention
_SPAN = operator.itemgetter(0, 1, 2)  # start, end, type
_SOURCE = operator.itemgetter(7)
_TYPE_ORDER = {"country": 0, "place": 1, "organisation": 2, "person": 3}


def emit_mentions(
    phrases: list[Phrase],
    plain: list[PlainOccurrence],
    full_of: dict[str, str],
    headline: str,
    text: str,
    titles: frozenset[str] | None = None,
) -> list[Mention]:
    """The mentions of an article: those of the plain occurrences, then those of each phrase (its
    plan's, what its context added, its people), unordered. `full_of`: the full name of each
    short form of a person (`resolve.full_names`), which gives the person's id. With `titles`, a
    person without a title in its phrase gets the role written around it (`context.person_title`)."""
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
            short = False
            if b - a == 1 or name in full_of:  # "Putin", "De Wilde"
                short = name in full_of
                name = full_of.get(name, name)
            start, end = offset + plan.starts[a], offset + plan.ends[b - 1]
            # A short form of a full name ("Putin said") is not looked at: the full name has the
            # role, and short forms are most of the mentions of people.
            if role is None and titles is not None and not short:
                # Beyond the phrase: ", the head of ..."; "the head of the <phrase> <name>".
                head = start if ph.single or a == 0 else offset + plan.starts[0]
                role = person_title(body, start, end, titles, head)
            person_id = "person:" + slugify(name)
            out.append(
                new_mention(
                    (start, end, "person", person_id, name, body[start:end], "name", source, role, None)
                )
            )
    return out  # unordered: `in_order` sorts them all, `entities` only the groups that need it


def _emit_plan(out: list[Mention], plan: Plan, offset: int, body: str, source: str) -> None:
    """The mentions a plan gives by itself (gazetteer matches, organisations, locations), at `offset`."""
    for start, end, t in plan.matches:
        start += offset
        end += offset
        out.append(
            new_mention((start, end, t.type, t.id, t.name, body[start:end], t.kind, source, None, t.country))
        )
    if plan.orgs:
        force_ids = plan.force_ids
        for s, e in plan.orgs:
            start, end = offset + plan.starts[s], offset + plan.ends[e - 1]
            surface = _strip_the(body[start:end])
            start = end - len(surface)
            if force_ids and s in force_ids:
                out.append(named(start, end, "organisation", force_ids[s], surface, source))
                continue
            if s == 0 and start > 0 and body[start - 1] == " ":
                ordinal = ORDINAL_BEFORE_RE.search(body, max(0, start - 12), start)
                if ordinal is not None:  # "321st Field Artillery Regiment"
                    start = ordinal.start()
                    surface = body[start:end]
            out.append(named_org(start, end, surface, source))
    for s, e in plan.locs:
        start, end = offset + plan.starts[s], offset + plan.ends[e - 1]
        surface = _strip_the(body[start:end])
        start = end - len(surface)
        out.append(named(start, end, "location", "loc:" + slugify(surface), surface, source))


def in_order(mentions: list[Mention]) -> list[Mention]:
    """The mentions in order: title first, then by position (start, end, type, id). Without title
    mentions, `mentions` itself is sorted and returned."""
    titled = [m for m in mentions if m.source == "title"]
    if titled:
        body_mentions = [m for m in mentions if m.source == "text"]
        return sorted(titled, key=_POSITION) + sorted(body_mentions, key=_POSITION)
    mentions.sort(key=_POSITION)
    return mentions


def entities(mentions: list[Mention], titled: bool) -> list[Entity]:
    """The entities of the mentions (of any order) of an article with a title when `titled`:
    locations are mentions only. Ordered by type (country, place, organisation, person), then
    mention count (most first), then name: stable for equal input."""
    groups: dict[str, list[Mention]] = {}
    for m in mentions:
        if m.type != "location":
            group = groups.get(m.entity_id)
            if group is None:  # not setdefault: that builds a list for every mention
                groups[m.entity_id] = [m]
            else:
                group.append(m)
    # Each group in the order `in_order` gives (it decides the surface order, the title and the
    # displayed name): sorting the groups of two or more costs less than sorting all mentions.
    # The id is the same within a group; equal keys keep their order, as in the full sort.
    for ms in groups.values():
        if len(ms) > 1:
            ms.sort(key=_SPAN)
            if titled:  # "title" before "text"; reverse keeps equal keys in order
                ms.sort(key=_SOURCE, reverse=True)
    found = [_entity(ms) for ms in groups.values()]
    return sorted(found, key=lambda e: (_TYPE_ORDER[e.type], -e.count, e.name, e.id))


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


def _strip_the(s: str) -> str:
    return s[4:] if s.startswith(("The ", "the ")) else s
