"""Security relevance and the terrorism topic on the labelled dev set (classify/security_dev.jsonl).

Each line: {"id", "source", "text", "security": true|false|null, "family"}; MUC-3/4 lines also carry
"terror_incident" (true/false) and "incident_types". An article is predicted "security" when any
topic of the taxonomy fires; `security: null` lines are not judged (but are classified and timed).
The terrorism topic is judged on the MUC lines only, against their `terror_incident` field.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.classify import learned
from monitor.evaluation.metrics import Confusion, confusion, recall_by_group

if TYPE_CHECKING:
    from monitor.analyze import Models
    from monitor.classify.rules import Scored

DEV_FILE = Path("classify") / "security_dev.jsonl"
TERRORISM_TOPIC = "terrorism"


@dataclass(frozen=True)
class SecurityScores:
    relevance: Confusion  # security true/false vs "any topic fired"
    families: dict[str, tuple[int, int]]  # family -> (found, positives)
    terrorism: Confusion  # terrorism topic vs MUC terror_incident
    topics: Counter[str] = field(default_factory=Counter)  # how often each topic fired
    documents: int = 0


@dataclass(frozen=True)
class SecurityRun:
    scores: SecurityScores
    classifier_version: str
    seconds: float  # CPU seconds of the classify pass
    rows: list[dict[str, Any]] = field(default_factory=list, repr=False)  # for error listings
    fired: list[Collection[str]] = field(default_factory=list, repr=False)


def load_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score(rows: Sequence[dict[str, Any]], fired: Sequence[Collection[str]]) -> SecurityScores:
    """Scores from the rows and, for each row, the ids of the topics that fired on it."""
    if len(rows) != len(fired):
        raise ValueError(f"{len(rows)} rows but {len(fired)} predictions")
    topics: Counter[str] = Counter()
    for ids in fired:
        topics.update(ids)
    relevance = confusion((row.get("security"), bool(ids)) for row, ids in zip(rows, fired, strict=True))
    families = recall_by_group(
        (row.get("family") or "?", bool(ids))
        for row, ids in zip(rows, fired, strict=True)
        if row.get("security") is True
    )
    terrorism = confusion(
        (row["terror_incident"], TERRORISM_TOPIC in ids)
        for row, ids in zip(rows, fired, strict=True)
        if isinstance(row.get("terror_incident"), bool)
    )
    return SecurityScores(relevance, families, terrorism, topics, len(rows))


def run(
    data_dir: Path,
    classify: Callable[[str, str], Collection[str]] | None = None,
    models: Models | None = None,
) -> SecurityRun:
    """Classifies every dev text on this core, as the pipeline does (`analyze`: cleaning, language,
    title and text: a row's title, or its headline run into the text, see `split_title`), and scores it.
    `classify(title, text)` replaces the chain (tests); otherwise `models` is needed."""
    version = "custom"
    if classify is None:
        from monitor.analyze import analyze

        if models is None:
            raise ValueError("security.run needs the models (or a classify function)")
        chain = models
        version = chain.version

        def classify(title: str, text: str) -> Collection[str]:
            found = analyze(title, text, "text", chain, entities=False)
            return {hit.topic_id for hit in found.topics}

    rows = load_rows(data_dir / DEV_FILE)
    titled = [split_title(row) for row in rows]
    started = time.process_time()
    fired = [classify(title, text) for title, text in titled]
    seconds = time.process_time() - started
    return SecurityRun(score(rows, fired), version, seconds, rows, fired)


# ------------------------------------------------------------------ titles, training, generalisation

# A headline run into the text ("Police Seize Cocaine in Port. The ...", as InSight Crime rows are
# stored): a first sentence this short and in title case is the title, as the pipeline would have it.
_HEADLINE_MAX_WORDS = 18
_HEADLINE_CAPITALISED = 0.6


def split_title(row: dict[str, Any]) -> tuple[str, str]:
    """(title, text) of a dev row as the pipeline would see the article: the row's own `title` when
    it has one, else a title-case first sentence (not an all-capitals wire text such as MUC, and not
    the BBC rows, whose flattened headline has no boundary left), else no title."""
    text: str = row["text"]
    if row.get("title"):
        return str(row["title"]), text
    end = text.find(". ")
    if end > 0:
        head = text[:end]
        words = head.split()
        long_words = [w for w in words if len(w) >= 4 and w[0].isalpha()]
        if (
            len(words) <= _HEADLINE_MAX_WORDS
            and long_words
            and not head.isupper()
            and sum(w[0].isupper() for w in long_words) / len(long_words) >= _HEADLINE_CAPITALISED
        ):
            return head, text[end + 2 :]
    return "", text


def score_rows(rows: Sequence[dict[str, Any]], models: Models) -> list[Scored]:
    """What the rules find in every row (title split as above), through the chain's own cleaning and
    language detection; the learned layer's input, computed once for training and every fold."""
    from monitor.analyze import clean
    from monitor.extract.normalize import normalize_whitespace

    out: list[Scored] = []
    for row in rows:
        title, raw = split_title(row)
        text = clean(raw, "text")
        title = normalize_whitespace(title)
        language = models.languages(f"{title}\n{text}")
        out.append(models.classifier.score(title, text, language))
    return out


def examples(rows: Sequence[dict[str, Any]], scored: Sequence[Scored]) -> list[learned.Example]:
    """Training examples: relevance from `security`, terrorism from MUC `terror_incident` and, for
    news judged not security, False."""
    out = []
    for row, sc in zip(rows, scored, strict=True):
        relevant = row.get("security")
        terror = row.get("terror_incident")
        if not isinstance(terror, bool):
            terror = False if relevant is False else None
        out.append(learned.Example(sc, relevant if isinstance(relevant, bool) else None, terror))
    return out


def train_model(data_dir: Path, models: Models) -> learned.LearnedModel:
    """The learned layer from the dev file (rules only as its input), stamped with the file's hash."""
    path = data_dir / DEV_FILE
    raw = path.read_bytes()
    rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    scored = score_rows(rows, models)
    meta = {
        "code_version": learned.code_version(models.classifier.taxonomy),
        "data": str(DEV_FILE),
        "data_sha256": learned.data_sha256(raw),
        "rows": len(rows),
    }
    return learned.train(examples(rows, scored), meta)


def _topics(chosen: Sequence[tuple[Any, Any]]) -> set[str]:
    return {cand.topic.id for cand, _ in chosen}


@dataclass(frozen=True)
class Generalisation:
    """Leave-one-source-out: per held-out source, the rules alone and rules + learned layer."""

    folds: dict[str, tuple[SecurityScores, SecurityScores, str]]  # source -> (rules, learned, how)
    pooled_rules: SecurityScores
    pooled_learned: SecurityScores
    rules_fired: list[set[str]] = field(default_factory=list, repr=False)
    learned_fired: list[set[str]] = field(default_factory=list, repr=False)
    # The terrorism topic on MUC, 5-fold within MUC (its judgements exist nowhere else).
    terrorism_cv: Confusion | None = None


BBC_SPLITS = 5


def _bbc_split(row_id: Any) -> int:
    return int(hashlib.sha256(str(row_id).encode()).hexdigest(), 16) % BBC_SPLITS


def leave_one_source_out(rows: Sequence[dict[str, Any]], scored: Sequence[Scored]) -> Generalisation:
    """Train on every source but one, classify the one left out. BBC is the only source of news judged
    not security: without it nothing could teach the model what is not, so its fold is split in
    five (by id hash): each fifth is classified by a model trained on all other sources and the
    other four fifths of BBC. The MUC fold's terrorism model has no terror judgements to learn from
    (they are all MUC's), so there the rules decide the terrorism topic; `terrorism_cv` is the
    terrorism topic 5-fold within MUC instead (unseen documents of a seen source)."""
    rules_fired = [{c.topic.id for c in sc.candidates if c.fired} for sc in scored]
    ex = examples(rows, scored)
    learned_fired: list[set[str]] = [set() for _ in rows]
    how: dict[str, str] = {}
    sources = sorted({str(r.get("source")) for r in rows})
    for source in sources:
        held = [i for i, r in enumerate(rows) if r.get("source") == source]
        if source == "bbc":
            parts = [[i for i in held if _bbc_split(rows[i]["id"]) == k] for k in range(BBC_SPLITS)]
            how[source] = f"{BBC_SPLITS}-fold within BBC (the only source of negatives)"
        else:
            parts = [held]
            how[source] = "trained on the other sources"
        for part in parts:
            out = set(part)
            others = [
                i
                for i in range(len(rows))
                if i not in out and (source == "bbc" or rows[i].get("source") != source)
            ]
            try:
                model = learned.train([ex[i] for i in others], {})
            except ValueError as exc:  # e.g. no negatives left: said in the report, rules decide
                how[source] = f"not trainable ({exc}): the rules alone"
                for i in part:
                    learned_fired[i] = rules_fired[i]
                continue
            for i in part:
                learned_fired[i] = _topics(model.choose(scored[i]))
    folds = {}
    for source in sources:
        idx = [i for i, r in enumerate(rows) if r.get("source") == source]
        sub = [rows[i] for i in idx]
        folds[source] = (
            score(sub, [rules_fired[i] for i in idx]),
            score(sub, [learned_fired[i] for i in idx]),
            how[source],
        )
    muc = [i for i, r in enumerate(rows) if isinstance(r.get("terror_incident"), bool)]
    cv_fired: dict[int, set[str]] = {}
    for k in range(BBC_SPLITS):
        fold_rows = {i for i in muc if _bbc_split(rows[i]["id"]) == k}
        try:
            model = learned.train([ex[i] for i in range(len(rows)) if i not in fold_rows], {})
        except ValueError:
            cv_fired.update((i, rules_fired[i]) for i in fold_rows)
            continue
        for i in fold_rows:
            cv_fired[i] = _topics(model.choose(scored[i]))
    cv = score([rows[i] for i in muc], [cv_fired[i] for i in muc]).terrorism if muc else None
    return Generalisation(
        folds, score(rows, rules_fired), score(rows, learned_fired), rules_fired, learned_fired, cv
    )


def load_reviews(path: Path) -> dict[str, dict[str, Any]]:
    """Reviewed dev labels (eval/label_reviews.jsonl): id -> {security?, terror_incident?, reason}."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {str(d["id"]): d for d in (json.loads(line) for line in fh if line.strip())}


def reviewed(rows: Sequence[dict[str, Any]], reviews: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with the reviewed labels in place (copies; the data file is never changed)."""
    out = []
    for row in rows:
        review = reviews.get(str(row.get("id")))
        if review is None:
            out.append(row)
            continue
        new = dict(row)
        for key in ("security", "terror_incident"):
            if key in review:
                new[key] = review[key]
        out.append(new)
    return out
