"""What the extractor reports: `Mention`, one span of a title or text and the entity it names, and
the cheap ways every phase makes one."""

from __future__ import annotations

import functools
from typing import Literal, NamedTuple

from monitor.entities.gazetteer import slugify

# "location": a named place that has no canonical id here (regions such as "Central Asia", villages
# found by context such as "near Daquq"). Reported as mentions only, never as entities.
MentionType = Literal["country", "place", "organisation", "person", "location"]


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
new_mention = functools.partial(tuple.__new__, Mention)


def named(start: int, end: int, kind: str, entity_id: str, surface: str, source: str) -> Mention:
    """A mention by name (the surface is also its name), without country or title."""
    return new_mention((start, end, kind, entity_id, surface, surface, "name", source, None, None))


def named_org(start: int, end: int, surface: str, source: str) -> Mention:
    """An organisation named by its own words ("3rd Battalion", "CTF 150"): its id is its slug."""
    return named(start, end, "organisation", "org:" + slugify(surface), surface, source)
