"""Entity extraction on re3d (entities/re3d/*/documents.json + entities.json, character offsets into
each document's `text`), judged two ways.

Spans (overlap matching, as scripts/eval_entities.py always did): country/place/generic-location
mentions are Location, organisations Organisation, people Person, demonyms ("Kurdish") Nationality.
A predicted span is right when it overlaps a gold span of its type; a gold span is found when a
predicted span of its type overlaps it. Gold spans are de-duplicated (annotators repeat them).
Three gold views:
  named      gold spans that name something (a capitalised word that is not a pronoun or a
             determiner): what a gazetteer/name extractor is built for;
  named+GPE  as named, and a country name is right where gold calls it Location or Organisation
             (re3d types a country by its role: "Syria accuses Israel" is Organisation);
  all        every gold span, including "we", "the city", "he" (that needs coreference).

Canonical names: per document and type, the *set* of canonical names, compared as sets (micro
averaged over documents). Predicted: the canonical `name` of every extractor mention in the text
(what `extract` aggregates on). Gold: each named gold span, "the" dropped, canonicalised by the
extractor itself (see `extractor_canonicaliser`); one-word person names joined to the longer gold
name of the document they start or end. Names are compared by their slug (case, accents and
punctuation ignored).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from monitor.evaluation.metrics import Matches

RE3D_DIR = Path("entities") / "re3d"
CORPUS_FILE = Path("corpus") / "news_articles_2017.jsonl"
TYPES = ("Location", "Organisation", "Person", "Nationality")
VIEWS = ("named", "named+GPE", "all")
# Speed: caches are filled on this many corpus articles, then this many unseen ones are timed (the
# steady state of a worker: its caches are warm, its documents new).
SPEED_WARMUP_DOCS = 1000
SPEED_DOCS = 1000

# Words that do not make a gold span a *name* even when capitalised (sentence starts).
_NOT_NAMES = frozenset(
    """i me my myself we us our ours he him his she her it its they them their the a an this that
    these those here there who which""".split()  # noqa: SIM905 (a word list reads better as text)
)
# The extractor's name particles (entities.extract._NAME_PARTICLES): not a first or last name.
_NAME_PARTICLES = frozenset(
    "bin ibn al el van von de da der den la le du dos del di".split()  # noqa: SIM905 (as above)
)

# Lower-case words that stand inside names ("Organization for Security and Co-operation in Europe").
_NAME_CONNECTORS = _NAME_PARTICLES | frozenset(
    "of the and for in on at della y &".split()  # noqa: SIM905 (as above)
)

Doc = tuple[dict[str, Any], list[dict[str, Any]]]  # (document, its gold entities)


class Predicted(NamedTuple):
    start: int
    end: int
    type: str  # one of TYPES
    surface: str
    country_name: bool  # a country named by name (not a demonym): the GPE rule applies
    name: str  # canonical name


@dataclass(frozen=True)
class EntityScores:
    spans: dict[str, dict[str, Matches]]  # view -> type -> counts
    canonical: dict[str, Matches]  # type -> counts of canonical-name sets
    documents: int
    # re3d folder (BBC Online, CENTCOM, ...) -> (documents, named spans by type, canonical by type):
    # a change should help every kind of source, not the one it was tuned on.
    folders: dict[str, tuple[int, dict[str, Matches], dict[str, Matches]]] = field(default_factory=dict)


@dataclass(frozen=True)
class EntityRun:
    scores: EntityScores
    speed_docs: int
    speed_seconds: float
    speed_source: str


def gold_type_of(mention_type: str, kind: str, surface: str = "") -> str:
    """re3d type of an extractor mention ("" for none). A demonym written as a plural noun
    ("Syrians", "the Kurds") names a people, a group of persons, which re3d types Organisation
    (27 of the 29 such spans in the corpus); the adjective ("Syrian") is a Nationality."""
    if kind == "demonym":
        if surface.endswith("s") and not surface.endswith("ss"):  # not "Swiss"
            return "Organisation"
        return "Nationality"
    return {
        "country": "Location",
        "place": "Location",
        "location": "Location",
        "organisation": "Organisation",
        "person": "Person",
    }.get(mention_type, "")


def is_named(value: str) -> bool:
    return any(w[:1].isupper() and w.lower() not in _NOT_NAMES for w in value.split())


def is_proper_name(value: str) -> bool:
    """Whether a gold span is written as a name: after a leading determiner or pronoun, every word
    is capitalised, a number or a name connector ("Army of the Victorious Sect", "al-Qaeda in
    Iraq", "292 Iraqis"). Descriptions that only contain a name ("U.S. officials", "the government
    of Iraq", "commander of U.S. Central Command", "ISIL-held buildings") have no canonical name:
    they are judged by the span views."""
    words = value.split()
    while words and words[0].lower() in _NOT_NAMES:
        words = words[1:]
    capitalised = False
    for word in words:
        w = word.lstrip("\"'“‘(")
        if w[:1].isupper():
            capitalised = True
        elif not (w[:1].isdigit() or w.lower() in _NAME_CONNECTORS or (w[3:4].isupper() and w[2:3] == "-")):
            return False
    return capitalised


def load_re3d(root: Path) -> list[Doc]:
    docs: dict[str, dict[str, Any]] = {}
    ents: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for line in (folder / "documents.json").read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                d["_folder"] = folder.name  # for per-folder figures; not part of the data
                docs[d["_id"]] = d
        for line in (folder / "entities.json").read_text(encoding="utf-8").splitlines():
            if line.strip():
                e = json.loads(line)
                ents[e["documentId"]].append(e)
    return [(docs[k], ents[k]) for k in sorted(docs)]


def _overlaps(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Whether two (start, end, …) spans share a character."""
    return a[0] < b[1] and b[0] < a[1]


def span_counts(
    gold_entities: Iterable[dict[str, Any]], preds: Sequence[Predicted]
) -> dict[str, dict[str, Matches]]:
    """Overlap-matching counts of one document, per view and type."""
    gold_all = {(e["begin"], e["end"], e["type"], e["value"]) for e in gold_entities if e["type"] in TYPES}
    out: dict[str, dict[str, Matches]] = {}
    for view in VIEWS:
        gold = [g for g in gold_all if view == "all" or is_named(g[3])]
        gpe = view == "named+GPE"
        out[view] = {}
        for t in TYPES:
            p_t = [p for p in preds if p.type == t]
            g_t = [g for g in gold if g[2] == t]
            # GPE rule: a country name is right where gold has Location or Organisation, and it
            # also finds gold Organisation spans.
            g_ok = [g for g in gold if g[2] in ("Location", "Organisation")] if gpe else g_t
            ok = [p for p in p_t if any(_overlaps(p, g) for g in (g_ok if p.country_name else g_t))]
            finders = p_t + [p for p in preds if p.country_name] if gpe and t == "Organisation" else p_t
            found = [g for g in g_t if any(_overlaps(p, g) for p in finders)]
            out[view][t] = Matches(len(p_t), len(ok), len(g_t), len(found))
    return out


def span_errors(
    gold_entities: Iterable[dict[str, Any]], preds: Sequence[Predicted], typ: str
) -> tuple[list[str], list[str]]:
    """Surface texts of the wrong predictions and of the missed gold spans of one type, in the
    *named* view (for tuning: scripts/eval_entities.py --show-errors)."""
    gold = {
        (e["begin"], e["end"], e["value"]) for e in gold_entities if e["type"] == typ and is_named(e["value"])
    }
    p_t = [p for p in preds if p.type == typ]
    wrong = sorted({p.surface for p in p_t if not any(_overlaps(p, g) for g in gold)})
    missed = sorted({g[2] for g in gold if not any(_overlaps(p, g) for p in p_t)})
    return wrong, missed


# (span text, gold type) -> (type, name); None for a span that names no one ("President of Syria").
Canonicaliser = Callable[[str, str], tuple[str, str] | None]


def gold_canonical(gold_entities: Iterable[dict[str, Any]], canonical: Canonicaliser) -> set[tuple[str, str]]:
    """(type, slug) of every named gold span of a document, normalised by `canonical`; a one-word
    person name then becomes the longer gold person name of the document it starts or ends, as the
    extractor joins "Carter" to "Ash Carter" (and "Abadi", the surname without its article, to
    "Haider al-Abadi").

    Before that, three corrections of how re3d writes spans, none of which is a name of its own:
    a person or organisation span inside a longer gold name of the same type is a part annotated
    twice ("Army" inside "Iraqi Army", "Abu" inside "Abu Musab al-Zarqawi"), and only the longer
    span counts (not for places: "Virginia" in "Woodbridge, Virginia" and "Mosul" in "Mosul Dam"
    are places of their own); a
    possessive is not part of a name ("Coe's" is Coe); a person's leading lower-case words are a
    role ("lieutenant Muath al-Kasasbeh", "suicide bomber Sajida al-Rishawi"), not the name.
    """
    from monitor.entities.gazetteer import slugify
    from monitor.entities.resolve import bare_surname

    names = []
    for e in gold_entities:
        if e["type"] in TYPES:
            v = _strip_possessive(" ".join(e["value"].split()))
            if e["type"] == "Person":
                v = _strip_role(v)
            if is_proper_name(v):
                names.append((e["begin"], e["end"], e["type"], v))
    resolved = []
    for b, e, t, v in names:
        if t in ("Person", "Organisation") and any(
            o[2] == t and o[0] <= b and e <= o[1] and o[1] - o[0] > e - b and "," not in o[3] for o in names
        ):
            continue  # part of a longer name of its type
        got = canonical(_strip_the(v), t)
        if got is not None:
            resolved.append(got)
    full_of: dict[str, str] = {}
    people = sorted({n for t, n in resolved if t == "Person"}, key=lambda n: (-len(n.split()), n))
    for name in people:  # longest name first: it wins
        parts = [w for w in name.split() if w not in _NAME_PARTICLES]
        if len(parts) > 1:
            full_of.setdefault(parts[0], name)
            full_of.setdefault(parts[-1], name)
            # The surname without its Arabic article, as the extractor joins it ("Abadi" after
            # "Haider al-Abadi", `resolve.bare_surname`).
            bare = bare_surname(parts[-1])
            if bare:
                full_of.setdefault(bare, name)
    return {
        (t, slugify(full_of.get(n, n) if t == "Person" and len(n.split()) == 1 else n)) for t, n in resolved
    }


def _strip_possessive(value: str) -> str:
    return value[:-2] if value.endswith(("'s", "’s")) else value


def _strip_role(value: str) -> str:
    """A person span without the lower-case words before the name ("lieutenant Muath al-Kasasbeh"
    -> "Muath al-Kasasbeh"); name particles ("al-Tanawi", "bin Laden") stay. A role with its
    complement ("commander of the Amphibious Task Group") is no role before a name: it stays."""
    words = value.split()
    i = 0
    while (
        i < len(words) - 1
        and words[i][:1].islower()
        and not (words[i + 1] in _NAME_CONNECTORS and words[i + 1] not in _NAME_PARTICLES)
        and words[i].lower() not in _NOT_NAMES
        and words[i] not in _NAME_PARTICLES
        and not (words[i][3:4].isupper() and words[i][2:3] == "-")
    ):
        i += 1
    return " ".join(words[i:]) if i else value


def extractor_canonicaliser(extractor: Any) -> Canonicaliser:
    """Canonical (type, name) of a gold span the way the extractor names things: the gazetteer
    target of the whole span ("Iraqi" -> Iraq); else the longest mention of the gold type that the
    extractor finds in the span text on its own ("Iraqi Prime Minister Haider al-Abadi" -> Haider
    al-Abadi); else the span as written, people without leading titles ("Mr Colville" -> Colville).
    A person span that is a role without a name gives None: a title with its complement after it
    or ending the span, where the extractor finds no person ("his Chief of Staff", "Navy Capt.").
    A span that is a country name where gold says Organisation is compared as a Location (the GPE
    rule; not a country inside a longer span: "the government of Iraq" stays an organisation)."""
    from monitor.entities.gazetteer import tokenize_key

    gz = extractor.gz

    def lookup(text: str) -> Any:
        key = tokenize_key(text)
        target = gz.table.get(key)
        if target is None and text.isupper():
            target = gz.upper_table.get(key)
        return target

    def canonical(text: str, gold_type: str) -> tuple[str, str] | None:
        role = False
        if gold_type == "Person":
            words = text.split()
            while len(words) > 1 and words[0].lower() in _NOT_NAMES:
                words = words[1:]  # "his Chief of Staff"
            while len(words) > 1 and words[0].lower().rstrip(".") in gz.titles:
                words = words[1:]
            if words[0].lower() in _NAME_CONNECTORS and words[0] not in _NAME_PARTICLES:
                return None  # a role: "President of Syria", "Minister of Foreign Affairs of Iraq"
            text = " ".join(words)
            # A title that ends the span or has its complement after it, where the extractor
            # finds no person in the span, is a role without a name: "Navy Capt.", "Inherent
            # Resolve Commander", "UN High Commissioner for Human Rights".
            role = any(
                w.lower().rstrip(".") in gz.titles
                and (k == len(words) - 1 or words[k + 1] in _NAME_CONNECTORS)
                for k, w in enumerate(words)
            )
        else:
            target = lookup(text)
            if target is not None:
                gpe = gold_type == "Organisation" and target.type == "country" and target.kind == "name"
                return ("Location" if gpe else gold_type), target.name
        best = None
        for m in extractor.mentions("", text):
            if gold_type_of(m.type, m.kind, m.surface) != gold_type:
                continue
            if best is None or m.end - m.start > best[0]:
                best = (m.end - m.start, m.name)
        if best is None and role:
            return None
        return gold_type, best[1] if best else text

    return canonical


def predicted_canonical(preds: Iterable[Predicted]) -> set[tuple[str, str]]:
    from monitor.entities.gazetteer import slugify

    # The same test as for gold: a mention written as a description ("Iraqi security forces")
    # has no canonical name to compare.
    return {(p.type, slugify(p.name)) for p in preds if is_proper_name(p.surface)}


def set_counts(gold: set[tuple[str, str]], predicted: set[tuple[str, str]]) -> dict[str, Matches]:
    out = {}
    for t in TYPES:
        g = {k for k in gold if k[0] == t}
        p = {k for k in predicted if k[0] == t}
        hit = len(g & p)
        out[t] = Matches(len(p), hit, len(g), hit)
    return out


def _strip_the(s: str) -> str:
    return s[4:] if s.startswith(("The ", "the ")) else s


def predictions(extractor: Any, doc: dict[str, Any]) -> list[Predicted]:
    """The extractor's mentions in the document body (gold offsets are into `text` only)."""
    out = []
    for m in extractor.mentions(doc.get("title") or "", doc["text"]):
        t = gold_type_of(m.type, m.kind, m.surface)
        if m.source == "text" and t:
            is_country = m.type == "country" and m.kind == "name"
            out.append(Predicted(m.start, m.end, t, m.surface, is_country, m.name))
    return out


def score(
    docs: Sequence[Doc], preds: Sequence[Sequence[Predicted]], canonicaliser: Canonicaliser
) -> EntityScores:
    spans = {view: dict.fromkeys(TYPES, Matches()) for view in VIEWS}
    canonical = dict.fromkeys(TYPES, Matches())
    folders: dict[str, tuple[int, dict[str, Matches], dict[str, Matches]]] = {}
    for (doc, ents), doc_preds in zip(docs, preds, strict=True):
        folder = doc.get("_folder", "")
        n, f_spans, f_canon = folders.get(folder) or (
            0,
            dict.fromkeys(TYPES, Matches()),
            dict.fromkeys(TYPES, Matches()),
        )
        for view, by_type in span_counts(ents, doc_preds).items():
            for t, counts in by_type.items():
                spans[view][t] += counts
                if view == "named":
                    f_spans[t] += counts
        for t, counts in set_counts(
            gold_canonical(ents, canonicaliser), predicted_canonical(doc_preds)
        ).items():
            canonical[t] += counts
            f_canon[t] += counts
        folders[folder] = (n + 1, f_spans, f_canon)
    return EntityScores(spans, canonical, len(docs), dict(sorted(folders.items())))


def _speed(extractor: Any, data_dir: Path, docs: Sequence[Doc]) -> tuple[int, float, str]:
    corpus = data_dir / CORPUS_FILE
    if corpus.is_file():
        rows = []
        with corpus.open(encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                rows.append((d.get("title") or "", d.get("text") or ""))
                if len(rows) == SPEED_WARMUP_DOCS + SPEED_DOCS:
                    break
        warm, timed = rows[:SPEED_WARMUP_DOCS], rows[SPEED_WARMUP_DOCS:]
        source = f"{len(timed)} unseen articles of {CORPUS_FILE} after {len(warm)} others warmed the caches"
    else:
        warm, timed = [], [(d.get("title") or "", d["text"]) for d, _ in docs]
        source = f"the {len(timed)} re3d documents again ({CORPUS_FILE} not found)"
    for title, text in warm:
        extractor.extract(title, text)
    started = time.process_time()
    for title, text in timed:
        extractor.extract(title, text)
    return len(timed), time.process_time() - started, source


def run(data_dir: Path, extractor: Any) -> EntityRun:
    """The extractor itself on re3d's character-offset spans (a component measure: the spans need
    its mentions, which the analysis chain aggregates into entities)."""
    docs = load_re3d(data_dir / RE3D_DIR)
    preds = [predictions(extractor, doc) for doc, _ in docs]
    scores = score(docs, preds, extractor_canonicaliser(extractor))
    n, seconds, source = _speed(extractor, data_dir, docs)
    return EntityRun(scores, n, seconds, source)
