"""Languages other than English (issue 15): Russian first, French as the second language.

The dev files are built outside the repository by `scripts/build_lang_dev.py` from three public
repositories (fetched mirrors; their texts may not be copied here) into a cache folder
(`.monitor/lang-dev/` by default). The repository keeps only ids, labels and reasons, under
`eval/lang/`. Three measures, each through the monitor's own chain (`analyze`, the `Models` the
pipeline uses):

  relevance, parallel  sib-200: the same 1,004 sentences (FLORES) in English, Russian and French,
                       topic-labelled (science, travel, politics, sports, health, entertainment,
                       geography): all non-security except the sentences listed in
                       eval/lang/sib200_reviews.jsonl, read and judged security. One sentence should
                       be judged alike in every language: the false-positive rate and the recall of
                       the reviewed positives per language, and how often ru/fr agree with en.
  relevance, news      NEREL and factRuEval news documents read and labelled security true/false
                       (eval/lang/ru_relevance_labels.jsonl, one reason each; null = not judged).
  entities             Russian named spans, Location / Organisation / Person, overlap matching as
                       for re3d (entities.py), on the dev parts of factRuEval-2016 and NEREL 1.1;
                       canonical ids against NEREL's Wikidata links (B-cubed over linked mentions:
                       do the monitor's ids group the mentions, across documents, as Wikidata does).

Type mapping. factRuEval: Person → Person, Org → Organisation, Location → Location, and LocOrg
(a place acting as a body: "Россия заявила") → Location, as the task's own comparator does with
`-l` ("such entities will be considered locations"). NEREL: PERSON → Person, ORGANIZATION →
Organisation, COUNTRY / CITY / STATE_OR_PROVINCE / DISTRICT / LOCATION → Location (re3d's
Location covers all named places and the extractor's "location" mentions are exactly NEREL's
LOCATION: regions, rivers, mountains); FACILITY, NATIONALITY and the rest have no type of ours.

Parsing (`parse_brat`, `parse_factrueval`) is pure text → spans, so it is tested on hand-written
fixtures; the build script does the git and file I/O.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from monitor.evaluation.entities import gold_type_of, is_named
from monitor.evaluation.metrics import Confusion, Matches, confusion, f1, ratio, recall_by_group

if TYPE_CHECKING:
    from monitor.analyze import Models

LANG_DEV_DIR = Path(".monitor") / "lang-dev"  # the build script's default output (gitignored)
LABELS_DIR = Path("eval") / "lang"
DOCUMENTS_FILE = "ru_documents.jsonl"  # factRuEval + NEREL documents with their gold spans
SIB_FILE = "sib200.jsonl"  # one line per sentence: its text in every built language
MANIFEST_FILE = "manifest.json"
RU_LABELS_FILE = "ru_relevance_labels.jsonl"
SIB_REVIEWS_FILE = "sib200_reviews.jsonl"
NOT_BUILT = "Russian dev data not built: run scripts/build_lang_dev.py"

TYPES = ("Location", "Organisation", "Person")
NEREL_TYPES = {
    "PERSON": "Person",
    "ORGANIZATION": "Organisation",
    "COUNTRY": "Location",
    "CITY": "Location",
    "STATE_OR_PROVINCE": "Location",
    "DISTRICT": "Location",
    "LOCATION": "Location",
}
FACTRUEVAL_TYPES = {"Person": "Person", "Org": "Organisation", "Location": "Location", "LocOrg": "Location"}
# sib-200 languages: English is the reference; the others are compared with it sentence by sentence.
SIB_REFERENCE = "eng"
SIB_LANGUAGES = ("eng", "rus", "fra")
# Entities are judged on the dev parts only: the test parts stay unseen for when rules are tuned.
ENTITY_SPLIT = "dev"


class GoldSpan(NamedTuple):
    start: int
    end: int  # exclusive
    type: str  # one of TYPES
    source_type: str  # the corpus's own type (CITY, LocOrg, ...)
    link: str | None = None  # Wikidata id ("Q649") where the corpus links the mention


class LangDataMissing(Exception):
    """The dev files were not built (or are from an older build)."""


# ------------------------------------------------------------------------------------------ parsing


def parse_brat(ann: str, text: str | None = None) -> list[GoldSpan]:
    """Entity spans of a brat .ann file (NEREL) of our three types, with their Wikidata links.

    A discontinuous span ("Лебединский … комбинаты", offsets "1647 1658;1674 1704") is read as its
    extent: overlap matching only needs where it starts and ends. `text`, when given, is checked:
    a contiguous span must read as the .ann says (offsets are code points into the .txt).
    """
    entities: dict[str, tuple[int, int, str, str]] = {}
    links: dict[str, str] = {}
    for line in ann.splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        if parts[0].startswith("T"):
            head = parts[1].split(" ", 1)
            if len(head) < 2:
                raise ValueError(f"brat line without offsets: {line!r}")
            source_type, offsets = head
            pieces = [tuple(int(x) for x in piece.split()) for piece in offsets.split(";")]
            start, end = min(p[0] for p in pieces), max(p[1] for p in pieces)
            surface = parts[2] if len(parts) > 2 else ""
            if text is not None and len(pieces) == 1 and text[start:end] != surface:
                raise ValueError(f"span {parts[0]} reads {text[start:end]!r}, the .ann says {surface!r}")
            entities[parts[0]] = (start, end, source_type, surface)
        elif parts[0].startswith("N"):
            # "Reference T11 Wikidata:Q13133"; "Wikidata:NULL" means the annotators found no entry.
            fields = parts[1].split()
            if len(fields) == 3 and fields[0] == "Reference" and fields[2].startswith("Wikidata:Q"):
                links[fields[1]] = fields[2].removeprefix("Wikidata:")
    out = {
        GoldSpan(start, end, NEREL_TYPES[source_type], source_type, links.get(tid))
        for tid, (start, end, source_type, _) in entities.items()
        if source_type in NEREL_TYPES
    }
    return sorted(out)


def parse_factrueval(spans: str, objects: str, text: str | None = None) -> list[GoldSpan]:
    """Object mentions of factRuEval-2016 (.objects over .spans) of our three types.

    A mention is a set of spans (name, surname, descriptor: "мэрии" + "Москвы"); it is read as the
    extent of its spans, the way a reader marks "мэрии Москвы". `text`, when given, is checked
    against the token texts the .spans file repeats after its "#".
    """
    span_at: dict[str, tuple[int, int]] = {}
    for line in spans.splitlines():
        data, _, comment = line.partition("#")
        fields = data.split()
        if len(fields) < 4:
            continue
        start, length = int(fields[2]), int(fields[3])
        span_at[fields[0]] = (start, start + length)
        # After "#": the span's token ids, then their texts (field 6 says how many tokens).
        tokens = comment.split()
        n = int(fields[5]) if len(fields) > 5 else 0
        words = tokens[n : 2 * n]
        if text is not None and words and not text[start : start + length].startswith(words[0]):
            raise ValueError(
                f"span {fields[0]} reads {text[start : start + length]!r}, expected {words[0]!r}"
            )
    out = set()
    for line in objects.splitlines():
        fields = line.partition("#")[0].split()
        if len(fields) < 3 or fields[1] not in FACTRUEVAL_TYPES:
            continue
        try:
            extents = [span_at[sid] for sid in fields[2:]]
        except KeyError as exc:
            raise ValueError(f"object {fields[0]} refers to unknown span {exc}") from None
        start, end = min(e[0] for e in extents), max(e[1] for e in extents)
        out.add(GoldSpan(start, end, FACTRUEVAL_TYPES[fields[1]], fields[1]))
    return sorted(out)


def split_headline(text: str) -> tuple[str, str]:
    """(title, body) of a NEREL document, whose first line is the headline when a blank line follows
    it; factRuEval texts have no headline ("", text)."""
    head, sep, rest = text.partition("\n\n")
    if sep and "\n" not in head and len(head) <= 200:
        return head.strip(), rest
    return "", text


def parse_sib_tsv(tsv: str) -> list[tuple[int, str, str]]:
    """(index_id, category, text) rows of a sib-200 split file (header: index_id, category, text)."""
    rows = []
    for i, line in enumerate(tsv.splitlines()):
        if i == 0 or not line.strip():
            continue
        index_id, category, text = line.split("\t", 2)
        rows.append((int(index_id), category, text))
    return rows


# ------------------------------------------------------------------------------------------ loading


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_labels(path: Path) -> dict[str, dict[str, Any]]:
    """id -> label row ({id, security, reason, family?}); an absent file is no labels."""
    return {str(d["id"]): d for d in read_jsonl(path)} if path.is_file() else {}


@dataclass(frozen=True)
class LangData:
    documents: list[dict[str, Any]]  # {id, corpus, split, text, spans: [[start, end, type, source, link]]}
    sentences: list[dict[str, Any]]  # {id, index_id, split, category, text: {lang: sentence}}
    manifest: dict[str, Any]
    labels: dict[str, dict[str, Any]]  # Russian news relevance labels
    sib_reviews: dict[str, dict[str, Any]]  # sib-200 sentences judged security after all


def load(cache_dir: Path, labels_dir: Path = LABELS_DIR) -> LangData:
    files = [cache_dir / DOCUMENTS_FILE, cache_dir / SIB_FILE, cache_dir / MANIFEST_FILE]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise LangDataMissing(f"{NOT_BUILT} (not found: {', '.join(missing)})")
    return LangData(
        documents=read_jsonl(files[0]),
        sentences=read_jsonl(files[1]),
        manifest=json.loads(files[2].read_text(encoding="utf-8")),
        labels=load_labels(labels_dir / RU_LABELS_FILE),
        sib_reviews=load_labels(labels_dir / SIB_REVIEWS_FILE),
    )


def gold_spans(doc: dict[str, Any]) -> list[GoldSpan]:
    return [GoldSpan(*s) for s in doc["spans"]]


# ------------------------------------------------------------------------------------------ scoring


class Predicted(NamedTuple):
    start: int
    end: int
    type: str
    entity_id: str


def _overlaps(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def span_matches(
    gold: Iterable[GoldSpan], preds: Sequence[Predicted], text: str, named: bool
) -> dict[str, Matches]:
    """Overlap-matching counts of one document per type (as entities.span_counts, without the
    GPE rule: Russian gold types a country by the corpus's own scheme, which maps to Location).
    `named`: only gold spans that contain a capitalised word ("правительство" is not a name)."""
    g_all = {g for g in gold if not named or is_named(text[g.start : g.end])}
    out = {}
    for t in TYPES:
        p_t = [p for p in preds if p.type == t]
        g_t = [g for g in g_all if g.type == t]
        ok = sum(any(_overlaps(p, g) for g in g_t) for p in p_t)
        found = sum(any(_overlaps(p, g) for p in p_t) for g in g_t)
        out[t] = Matches(len(p_t), ok, len(g_t), found)
    return out


@dataclass(frozen=True)
class BCubed:
    """B-cubed precision/recall of predicted ids against gold ids over the same mentions."""

    precision: float = 0.0
    recall: float = 0.0
    mentions: int = 0  # linked gold mentions
    found: int = 0  # of them, overlapped by a predicted mention of their type
    entities: int = 0  # distinct gold ids

    @property
    def f1(self) -> float:
        return f1(self.precision, self.recall)


def bcubed(items: Sequence[tuple[str, str | None]]) -> BCubed:
    """(gold id, predicted id or None) per linked gold mention, over the whole corpus (so one id
    must serve a person in every document). Precision averages over found mentions: of the mentions
    sharing my predicted id, how many share my gold id; recall over all: of the mentions sharing my
    gold id, how many also got my predicted id (a mention not found shares nothing)."""
    if not items:
        return BCubed()
    by_gold = Counter(g for g, _ in items)
    by_pred = Counter(p for _, p in items if p is not None)
    both = Counter((g, p) for g, p in items if p is not None)
    found = [(g, p) for g, p in items if p is not None]
    precision = sum(both[(g, p)] / by_pred[p] for g, p in found) / len(found) if found else 0.0
    recall = sum(both[(g, p)] / by_gold[g] for g, p in found) / len(items)
    return BCubed(precision, recall, len(items), len(found), len(by_gold))


def linked_items(gold: Iterable[GoldSpan], preds: Sequence[Predicted]) -> list[tuple[str, str | None]]:
    """(gold Wikidata id, the id of the longest overlapping predicted mention of the type) per
    linked gold mention of a document."""
    out = []
    for g in gold:
        if g.link is None:
            continue
        over = [p for p in preds if p.type == g.type and _overlaps(p, g)]
        best = max(over, key=lambda p: (min(p.end, g.end) - max(p.start, g.start), -p.start), default=None)
        out.append((g.link, best.entity_id if best else None))
    return out


@dataclass(frozen=True)
class SibScores:
    by_language: dict[str, Confusion]  # language -> relevance confusion (reviewed positives)
    agreement: dict[str, float]  # language -> share of sentences decided as English decides them
    topics: dict[str, Counter[str]]  # language -> topic -> how often it fired
    sentences: int
    positives: int
    detected: dict[str, Counter[str]] = field(default_factory=dict)  # language -> detected language


@dataclass(frozen=True)
class LangRun:
    sib: SibScores
    news: Confusion  # Russian news documents, labelled
    news_families: dict[str, tuple[int, int]]
    news_topics: Counter[str]
    label_counts: dict[str, int]  # true / false / null
    spans: dict[str, dict[str, dict[str, Matches]]]  # corpus -> view -> type -> counts
    canonical: dict[str, BCubed]  # type -> B-cubed over NEREL dev linked mentions
    documents: dict[str, int]  # corpus -> dev documents judged for entities
    gold_by_type: dict[str, dict[str, int]]  # corpus -> type -> gold spans (all views)
    manifest: dict[str, Any] = field(default_factory=dict)
    classifier_version: str = ""


def _topics(models: Models, title: str, text: str) -> tuple[set[str], str | None]:
    from monitor.analyze import analyze

    found = analyze(title, text, "text", models, entities=False)
    return {hit.topic_id for hit in found.topics}, found.language


def _predictions(models: Models, text: str) -> list[Predicted]:
    """The extractor's mentions in the text (title empty: gold offsets are into the whole text)."""
    out = []
    for m in models.extractor.mentions("", text):
        t = gold_type_of(m.type, m.kind, m.surface)
        if t in TYPES:
            out.append(Predicted(m.start, m.end, t, m.entity_id))
    return out


def score_sib(
    sentences: Sequence[dict[str, Any]], reviews: dict[str, dict[str, Any]], models: Models
) -> SibScores:
    langs = [lang for lang in SIB_LANGUAGES if all(lang in s["text"] for s in sentences)]
    gold = [reviews.get(s["id"], {}).get("security", False) for s in sentences]
    decided: dict[str, list[bool]] = {}
    topics: dict[str, Counter[str]] = {}
    detected: dict[str, Counter[str]] = {}
    for lang in langs:
        fired_all, detected[lang], topics[lang] = [], Counter(), Counter()
        for s in sentences:
            fired, language = _topics(models, "", s["text"][lang])
            fired_all.append(bool(fired))
            topics[lang].update(fired)
            detected[lang][language or "none"] += 1
        decided[lang] = fired_all
    by_language = {lang: confusion(zip(gold, decided[lang], strict=True)) for lang in langs}
    ref = decided.get(SIB_REFERENCE)
    agreement = {
        lang: ratio(sum(a == b for a, b in zip(ref, decided[lang], strict=True)), len(ref))
        for lang in langs
        if ref is not None and lang != SIB_REFERENCE
    }
    return SibScores(by_language, agreement, topics, len(sentences), sum(g is True for g in gold), detected)


def run(cache_dir: Path, models: Models, labels_dir: Path = LABELS_DIR) -> LangRun:
    """Every language measure on the built dev files; LangDataMissing when they are not built."""
    data = load(cache_dir, labels_dir)
    sib = score_sib(data.sentences, data.sib_reviews, models)

    # Russian news relevance: the labelled documents, headline as title, as the pipeline sees them.
    by_id = {d["id"]: d for d in data.documents}
    unknown = sorted(set(data.labels) - set(by_id))
    if unknown:
        raise LangDataMissing(
            f"{len(unknown)} labelled ids not in {cache_dir / DOCUMENTS_FILE} (first: {unknown[0]}): "
            "rebuild with scripts/build_lang_dev.py"
        )
    pairs, families, news_topics = [], [], Counter[str]()
    for doc_id, label in sorted(data.labels.items()):
        title, body = split_headline(by_id[doc_id]["text"])
        fired, _ = _topics(models, title, body)
        news_topics.update(fired)
        pairs.append((label.get("security"), bool(fired)))
        if label.get("security") is True:
            families.append((label.get("family") or "?", bool(fired)))
    counts = Counter(str(label.get("security")).lower() for label in data.labels.values())

    # Entities on the dev parts.
    spans: dict[str, dict[str, dict[str, Matches]]] = {}
    gold_by_type: dict[str, dict[str, int]] = {}
    documents: Counter[str] = Counter()
    items: dict[str, list[tuple[str, str | None]]] = {t: [] for t in TYPES}
    for doc in data.documents:
        if doc["split"] != ENTITY_SPLIT:
            continue
        corpus = doc["corpus"]
        documents[corpus] += 1
        gold = gold_spans(doc)
        preds = _predictions(models, doc["text"])
        views = spans.setdefault(corpus, {v: dict.fromkeys(TYPES, Matches()) for v in ("named", "all")})
        for view in ("named", "all"):
            for t, m in span_matches(gold, preds, doc["text"], named=view == "named").items():
                views[view][t] += m
        per_type = gold_by_type.setdefault(corpus, dict.fromkeys(TYPES, 0))
        for g in gold:
            per_type[g.type] += 1
        for t in TYPES:
            items[t] += linked_items([g for g in gold if g.type == t], preds)
    return LangRun(
        sib=sib,
        news=confusion(pairs),
        news_families=recall_by_group(families),
        news_topics=news_topics,
        label_counts=dict(sorted(counts.items())),
        spans=dict(sorted(spans.items())),
        canonical={t: bcubed(items[t]) for t in TYPES},
        documents=dict(sorted(documents.items())),
        gold_by_type=dict(sorted(gold_by_type.items())),
        manifest=data.manifest,
        classifier_version=models.version,
    )


def metrics(run: LangRun) -> dict[str, float]:
    """Figures a floor could hold later (names as floors.json would use them). Not merged into the
    gated metrics yet: no floors for languages until the Russian classifier lands, and a machine
    without the mirrors would then fail "not measured"."""
    out = {}
    for lang, c in run.sib.by_language.items():
        out[f"lang.sib.{lang}.specificity"] = c.specificity
    out["lang.ru_news.f1"] = run.news.f1
    for corpus, views in run.spans.items():
        for t, m in views["named"].items():
            out[f"lang.entities.{corpus}.{t}.f1"] = m.f1
    for t, b in run.canonical.items():
        out[f"lang.entities.canonical.{t}.f1"] = b.f1
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------------------------ render


def _f(value: float) -> str:
    return f"{value:.3f}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


LANG_NAMES = {"eng": "English", "rus": "Russian", "fra": "French"}


def section(run: LangRun | None, note: str = "", english: Confusion | None = None) -> list[str]:
    """The "Languages" section of docs/quality.md; with `run` None, `note` says why not measured.
    `english`: the English dev figure (classify/security_dev.jsonl) for comparison."""
    lines = ["## Languages", ""]
    if run is None:
        return [*lines, f"**{note or NOT_BUILT}.** No language figures measured.", ""]
    sources = run.manifest.get("sources", {})
    lines += [
        "Dev files built by `scripts/build_lang_dev.py` from "
        + ", ".join(f"`{name}` @ {str(s.get('commit', '?'))[:8]}" for name, s in sorted(sources.items()))
        + f" (texts in the cache, outside the repository; ids, labels and reasons in `{LABELS_DIR}/`). "
        f"Classifier `{run.classifier_version}`; every text goes through the pipeline's own chain "
        "(`analyze`: cleaning, language, classification); an article is *security* when any topic fires.",
        "",
        "### Relevance on parallel sentences (sib-200)",
        "",
        f"The same {run.sib.sentences} FLORES sentences in each language, topic-labelled by sib-200 "
        "(science/technology, travel, politics, sports, health, entertainment, geography): not security, "
        f"except {run.sib.positives} we read and judged security (`{LABELS_DIR}/{SIB_REVIEWS_FILE}`, "
        "with reasons). A sentence is short, so this is a strict test of false positives; the goal is "
        "the same decision in every language (false-positive rate within 0.03 of English).",
        "",
        "| language | false-positive rate | FP | TN | recall of the security sentences | TP | FN "
        "| same decision as English | detected language |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for lang, c in run.sib.by_language.items():
        agree = _pct(run.sib.agreement[lang]) if lang in run.sib.agreement else "–"
        det = run.sib.detected.get(lang, Counter())
        detected = ", ".join(f"{k} {v}" for k, v in det.most_common(3))
        recall = _f(c.recall) if c.tp + c.fn else "–"
        lines.append(
            f"| {LANG_NAMES.get(lang, lang)} | {_pct(c.fpr)} | {c.fp} | {c.tn} | {recall} | {c.tp} | {c.fn} "
            f"| {agree} | {detected} |"
        )
    ref = run.sib.by_language.get(SIB_REFERENCE)
    if ref is not None:
        gaps = [
            f"{LANG_NAMES.get(lang, lang)} {c.fpr - ref.fpr:+.3f}"
            for lang, c in run.sib.by_language.items()
            if lang != SIB_REFERENCE
        ]
        lines += ["", "False-positive rate minus English: " + ", ".join(gaps) + " (goal: within ±0.03)."]
    n = run.news
    judged = n.tp + n.fp + n.fn + n.tn
    lines += [
        "",
        "### Relevance on Russian news (NEREL, factRuEval)",
        "",
        f"`{LABELS_DIR}/{RU_LABELS_FILE}`: {sum(run.label_counts.values())} documents read and labelled "
        f"({run.label_counts.get('true', 0)} security, {run.label_counts.get('false', 0)} not, "
        f"{run.label_counts.get('none', 0)} not judged), one reason each; the headline is the title.",
        "",
        "| figures | precision | recall | F1 | false-positive rate | TP | FP | FN | TN |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| Russian news | {_f(n.precision)} | {_f(n.recall)} | {_f(n.f1)} | {_pct(n.fpr)} "
        f"| {n.tp} | {n.fp} | {n.fn} | {n.tn} |",
    ]
    if english is not None:
        e = english
        lines.append(
            f"| English dev set (for comparison) | {_f(e.precision)} | {_f(e.recall)} | {_f(e.f1)} "
            f"| {_pct(e.fpr)} | {e.tp} | {e.fp} | {e.fn} | {e.tn} |"
        )
    if judged and run.news_families:
        lines += [
            "",
            "Recall per family: "
            + ", ".join(f"{fam} {hit}/{total}" for fam, (hit, total) in run.news_families.items())
            + ".",
        ]
    fired = ", ".join(
        f"`{t}` {k}" for t, k in sorted(run.news_topics.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    lines += ["", f"Topics fired on these documents: {fired or 'none'}.", ""]
    lines += [
        "### Russian entities",
        "",
        "Dev parts only (the test parts are kept unseen): "
        + ", ".join(f"{corpus} {k} documents" for corpus, k in run.documents.items())
        + ". Types: factRuEval Person / Org / Location / LocOrg → Person / Organisation / Location / "
        "Location (as its comparator's `-l`); NEREL PERSON → Person, ORGANIZATION → Organisation, "
        "COUNTRY, CITY, STATE_OR_PROVINCE, DISTRICT, LOCATION → Location. A factRuEval mention is the "
        'extent of its spans ("мэрии Москвы"), a discontinuous NEREL span its extent; NEREL\'s nested '
        "spans all count. Overlap matching as for re3d (without the GPE rule); *named* = gold spans "
        "with a capitalised word.",
        "",
        "| corpus | type | precision | recall | F1 (named) | predicted | gold (named) | gold (all) "
        "| F1 (all) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for corpus, views in run.spans.items():
        for t in TYPES:
            m, a = views["named"][t], views["all"][t]
            lines.append(
                f"| {corpus} | {t} | {_f(m.precision)} | {_f(m.recall)} | {_f(m.f1)} | {m.pred} | {m.gold} "
                f"| {a.gold} | {_f(a.f1)} |"
            )
    lines += [
        "",
        "Canonical ids against NEREL's Wikidata links (dev, the mentions linked to a Wikidata item): "
        'B-cubed over the whole part, so one id must gather a person\'s inflected mentions ("Обамы", '
        '"Барак Обама") in every document, and never two people. A mention gets the id of the longest '
        "overlapping predicted mention of its type; one not found has none (it lowers recall).",
        "",
        "| type | B³ precision | B³ recall | F1 | linked mentions | found | Wikidata items |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t, b in run.canonical.items():
        lines.append(
            f"| {t} | {_f(b.precision)} | {_f(b.recall)} | {_f(b.f1)} | {b.mentions} | {b.found} "
            f"| {b.entities} |"
        )
    lines += [
        "",
        "No floors for these figures yet: they are the baseline before the Russian classifier and "
        "entity matching.",
        "",
    ]
    return lines
