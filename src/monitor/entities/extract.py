"""Entity extraction: countries, places, organisations and people in a news text.

How it works, and why it is fast (on one core, ~3 KB news texts: about 1,000 a second for texts
never seen before, about 2,000 once the per-word and per-phrase caches know most of their phrases;
`scripts/eval_entities.py` measures both). One phase per module:
1. `phrases`: one precompiled regex (`patterns.PHRASE_RE`) finds the *capitalised phrases* of the
   text ("Foreign Affairs Minister Kanat Saudabayev", "Organization for Security and Co-operation in
   Europe"). Lower-case running text is never looked at again, apart from the word right before and
   after a phrase. One-word phrases, the majority, go through a per-word cache.
2. `plan`: inside a longer phrase, tokens are matched against the gazetteer by longest match with
   dict look-ups (no per-entity loop over the text); the plan is cached per phrase text. What is
   left are runs of name-like tokens. A run is a person when a title or role is next to it or it
   starts with a known given name; runs ending in an organisation head word ("... National Security
   Committee", "Ministry of ...") are organisations, runs ending in a place head word ("Diyala
   Province") are locations, and unknown acronyms (NHS, KCNA) are organisations.
3. `context`: the words around an occurrence decide what its plan left open: a verb of saying
   before or after a run makes a person, "in"/"near" a location, "troops" after a country its forces.
4. `resolve`: across the article, later mentions of a known surname or given name count for that
   person, and the short forms of a name join the full name; an acronym defined in the text
   ("Islamic Revolutionary Guard Corps (IRGC)") joins its full name.
5. `emit`: the mentions, in order, and the entities they group into.
6. `cyrillic`: a title or text with Cyrillic letters also goes through the Cyrillic finder
   (lemma-keyed table, people by title, dictionary tags and surname endings), whose ids are the
   English ones ("Казахстана" -> KZ, "Нуртай Абыкаев" -> person:nurtai-abykayev). English texts
   pay an `isascii` test (and a regex search when not ASCII).
Texts written entirely in capitals (old wire reports) only get gazetteer matches: nothing there tells
a name from a word.
"""

from __future__ import annotations

from pathlib import Path

from monitor.entities.context import Phrase
from monitor.entities.cyrillic import CYRILLIC_RE, CyrillicFinder
from monitor.entities.emit import emit_mentions, entities, in_order
from monitor.entities.gazetteer import Gazetteer, build_gazetteer, cached_gazetteer
from monitor.entities.mention import Mention, MentionType
from monitor.entities.phrases import PhraseFinder
from monitor.entities.plan import PlainOccurrence, Planner
from monitor.entities.resolve import full_names, join_acronyms, resolve_runs
from monitor.models import Entity

__all__ = ["EntityExtractor", "Mention", "MentionType", "build_extractor"]


class EntityExtractor:
    """Build once (tables and regexes compiled up front), then call `extract` or `mentions`. Keeps
    per-word, per-phrase and per-token caches that grow with use (bounded): keep the extractor."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self.gz = gazetteer or build_gazetteer()
        self._planner = Planner(self.gz)
        self._finder = PhraseFinder(self._planner)
        self._cyrillic = CyrillicFinder(self.gz.cyrillic_table)

    def mentions(self, title: str, text: str) -> list[Mention]:
        """All mentions in title and text, in order (title first), spans relative to their source."""
        return in_order(self._unordered_mentions(title, text))

    def extract(self, title: str, text: str) -> list[Entity]:
        """Entities of the article, ordered by type (country, place, organisation, person), then
        mention count (most first), then name: stable for equal input."""
        return entities(self._unordered_mentions(title, text), titled=bool(title))

    def cache_state(self) -> tuple[dict, dict, dict]:
        """Copies of the per-word, per-phrase and per-token caches (for benchmarks)."""
        finder = self._finder
        return dict(finder.single_cache), dict(finder.plan_cache), dict(self._planner.token_flags)

    def restore_cache_state(self, state: tuple[dict, dict, dict] | None) -> None:
        """Puts caches back as `cache_state` returned them; None empties them."""
        single, plans, flags = state or ({}, {}, {})
        self._finder.single_cache, self._finder.plan_cache, self._planner.token_flags = single, plans, flags

    def _unordered_mentions(self, title: str, text: str) -> list[Mention]:
        phrases: list[Phrase] = []
        plain: list[PlainOccurrence] = []  # occurrences whose plan says all there is
        for source, body in (("title", title), ("text", text)):
            if body:
                phrases.extend(self._finder.phrases(body, source, plain))
        resolve_runs(phrases, title, text)
        found = emit_mentions(phrases, plain, full_names(phrases), title, text, self.gz.titles)
        # `isascii` first: it is done in C at memory speed, where the regex scan alone cost 3 % of
        # the English extraction (16 ms per 1,000 articles); 9 in 10 English articles are ASCII.
        if (not text.isascii() and CYRILLIC_RE.search(text)) or (
            not title.isascii() and CYRILLIC_RE.search(title)
        ):
            found.extend(self._cyrillic.mentions(title, text))
        return join_acronyms(found, title, text, self.gz)


def build_extractor(cache_dir: Path | None) -> EntityExtractor:
    """A new extractor with the packaged gazetteer, loaded from its pickle in `cache_dir` (~0.2 s)
    or built (~3.6 s) and kept there for the next process; None builds it every time. Each call
    makes a new extractor: the caller keeps it, and its caches, for as long as it extracts."""
    return EntityExtractor(cached_gazetteer(cache_dir))
