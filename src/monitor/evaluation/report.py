"""`monitor eval`: run every measurement on the evaluation data, render docs/quality.md, apply the
floors gate.

The report is deterministic for the same code and data except its last section (speed figures and
the date), so a diff of docs/quality.md in review shows exactly what a change did to quality.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from monitor.evaluation import entities, extraction, languages, security
from monitor.evaluation import stories as story_eval
from monitor.evaluation.metrics import Matches, check_floors, raised_floors
from monitor.evaluation.security import Generalisation

if TYPE_CHECKING:
    from monitor.analyze import Models

# Targets of issue 4 and DESIGN.md: (op, threshold). Targets are what we aim for; floors are what
# CI enforces (the best figures reached so far).
SECURITY_F1_TARGET = 0.95
SECURITY_FPR_TARGET = 0.01
FAMILY_RECALL_TARGET = 0.93
ENTITY_F1_TARGETS = {"Location": 0.80, "Organisation": 0.80, "Person": 0.70}
MUST_CONTAIN_TARGET = 0.95
MUST_NOT_CONTAIN_TARGET = 0.90
CLASSIFY_SPEED_TARGET = 1000.0

VIEW_KEYS = {"named": "named", "named+GPE": "named_gpe", "all": "all"}
FLOORS_NOTE = (
    "Minimums that `monitor eval --floors` enforces (exit 1 below any). Raise them with "
    "`monitor eval --raise-floors` after an improvement: a floor becomes max(old, value rounded down "
    "to 3 decimals) and never goes down. Speed floors (docs/s, CPU time on one core) are a third of "
    "the measured value, because machines differ and are noisy: they only catch a real slow-down."
)


@dataclass
class Evaluation:
    security: security.SecurityRun | None = None
    entities: entities.EntityRun | None = None
    extraction: extraction.ExtractionRun | None = None
    # (the module's name, not the field above: a field named `security` shadows it in this class)
    generalisation: Generalisation | None = None  # leave-one-source-out
    generalisation_note: str = ""  # why it was not measured
    model_note: str | None = None  # the learned model missing or trained on other data
    reviews: dict[str, dict[str, Any]] = field(default_factory=dict)  # eval/label_reviews.jsonl
    stories: story_eval.StoryRun | None = None
    languages: languages.LangRun | None = None  # Russian / French dev files (issue 15)
    languages_note: str = ""  # why they were not measured
    missing: list[str] = field(default_factory=list)  # parts whose data was not found
    day: date = field(default_factory=date.today)


class DataMissing(Exception):
    """The evaluation data folder does not exist."""


def missing_message(data_dir: Path) -> str:
    return (
        f"{data_dir} not found: evaluation data is not part of the repository (third-party texts "
        "that may not be redistributed). Put it at ../shared/data or pass --data DIR; nothing measured."
    )


def evaluate(
    data_dir: Path,
    models: Models,
    log: Callable[[str], None] = lambda _: None,
    lang_dir: Path = languages.LANG_DEV_DIR,
) -> Evaluation:
    """Runs every measurement whose data is present under `data_dir`, with the models the pipeline
    uses; the language figures from the dev files built into `lang_dir` (scripts/build_lang_dev.py)."""
    if not data_dir.is_dir():
        raise DataMissing(missing_message(data_dir))
    ev = Evaluation()
    if (data_dir / security.DEV_FILE).is_file():
        log("classifying the security dev set …")
        ev.security = security.run(data_dir, models=models)
        _generalisation(ev, data_dir, models, log)
    else:
        ev.missing.append(str(security.DEV_FILE))
    if (data_dir / entities.RE3D_DIR).is_dir():
        log("extracting entities from re3d …")
        ev.entities = entities.run(data_dir, models.extractor)
    else:
        ev.missing.append(str(entities.RE3D_DIR))
    if (data_dir / extraction.EXTRACT_DIR / "cases.json").is_file():
        log("extracting the main text of the pages …")
        ev.extraction = extraction.run(data_dir)
    else:
        ev.missing.append(str(extraction.EXTRACT_DIR / "cases.json"))
    if (data_dir / story_eval.CORPUS_FILE).is_file() and story_eval.LABELS_FILE.is_file():
        log("clustering the 2017 corpus into stories …")
        ev.stories = story_eval.run(data_dir, models.extractor, models=models)
    else:
        ev.missing.append(str(story_eval.CORPUS_FILE))
    try:
        log("classifying the language dev sets (sib-200, Russian news and entities) …")
        ev.languages = languages.run(lang_dir, models)
    except languages.LangDataMissing as exc:
        ev.languages_note = str(exc)
        log(ev.languages_note)
    return ev


REVIEWS_FILE = Path("eval") / "label_reviews.jsonl"


def _generalisation(ev: Evaluation, data_dir: Path, models: Models, log: Callable[[str], None]) -> None:
    """The learned layer's data check, the reviewed labels, and leave-one-source-out figures (these
    train models, so they need scikit-learn, the `train` extra)."""
    from monitor.analyze import Models as ModelsType
    from monitor.classify import learned
    from monitor.classify.rules import Classifier

    assert ev.security is not None
    raw = (data_dir / security.DEV_FILE).read_bytes()
    ev.model_note = learned.data_mismatch(models.classifier.learned, raw)
    ev.reviews = security.load_reviews(REVIEWS_FILE)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        ev.generalisation_note = "not measured: scikit-learn is not installed (pip install -e '.[train]')"
        return
    log("leave-one-source-out: training a model per held-out source …")
    rules_only = ModelsType(Classifier(models.classifier.taxonomy), models.extractor, models.languages)
    scored = security.score_rows(ev.security.rows, rules_only)
    ev.generalisation = security.leave_one_source_out(ev.security.rows, scored)


# ----------------------------------------------------------------------------------------- metrics


def metrics(ev: Evaluation) -> dict[str, float]:
    """The gated metrics: all higher-is-better, the names floors.json uses."""
    out: dict[str, float] = {}
    if ev.security:
        s = ev.security.scores
        r, t = s.relevance, s.terrorism
        out |= {
            "security.precision": r.precision,
            "security.recall": r.recall,
            "security.f1": r.f1,
            "security.specificity": r.specificity,  # 1 - false-positive rate
            "terrorism_topic.precision": t.precision,
            "terrorism_topic.recall": t.recall,
            "terrorism_topic.f1": t.f1,
        }
        for family, (hit, total) in s.families.items():
            out[f"security.recall.{family}"] = hit / total
        if ev.generalisation:
            g = ev.generalisation.pooled_learned
            out["security.loso.f1"] = g.relevance.f1
            out["security.loso.specificity"] = g.relevance.specificity
            out["terrorism_topic.loso.f1"] = g.terrorism.f1
            if ev.generalisation.terrorism_cv is not None:
                out["terrorism_topic.muc_cv.f1"] = ev.generalisation.terrorism_cv.f1
        if ev.security.seconds > 0:
            out["speed.classify"] = s.documents / ev.security.seconds
    if ev.entities:
        e = ev.entities.scores
        for view, by_type in e.spans.items():
            for typ, m in by_type.items():
                out[f"entities.spans.{VIEW_KEYS[view]}.{typ}.f1"] = m.f1
        for typ, m in e.canonical.items():
            out[f"entities.canonical.{typ}.f1"] = m.f1
        if ev.entities.speed_seconds > 0:
            out["speed.entities"] = ev.entities.speed_docs / ev.entities.speed_seconds
    if ev.extraction:
        x = ev.extraction.scores
        out["extraction.must_contain"] = x.must_contain
        out["extraction.must_not_contain"] = x.must_not_contain
        if ev.extraction.seconds > 0:
            out["speed.extraction"] = x.pages / ev.extraction.seconds
    if ev.stories:
        out |= story_eval.metrics(ev.stories)
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------------------------ render


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _at_least(value: float, target: float) -> str:
    return _mark(value >= target)


def _f(value: float) -> str:
    return f"{value:.3f}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _prf_rows(by_type: dict[str, Matches]) -> list[str]:
    rows = [
        "| type | precision | recall | F1 | predicted | gold | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for typ, m in by_type.items():
        target = ENTITY_F1_TARGETS.get(typ)
        aim = f"F1 ≥ {target:.2f} {_at_least(m.f1, target)}" if target else "–"
        rows.append(
            f"| {typ} | {_f(m.precision)} | {_f(m.recall)} | {_f(m.f1)} | {m.pred} | {m.gold} | {aim} |"
        )
    return rows


def render(ev: Evaluation, data_label: str = "../shared/data") -> str:
    lines = [
        "# Quality report",
        "",
        "<!-- Generated by `make eval` (`monitor eval --write docs/quality.md`); do not edit by hand. -->",
        "",
        f"Measured by `monitor eval` on the evaluation data in `{data_label}` (outside the repository:",
        "third-party texts). Regenerate it with `make eval` and commit it with any change to",
        "classification, entities or extraction, so review shows the effect. Everything above the",
        "*Speed* section is deterministic for the same code and data. CI fails when a metric drops",
        "below its floor in `eval/floors.json`.",
        "",
    ]
    if ev.missing:
        lines += ["Not measured (data not found): " + ", ".join(f"`{m}`" for m in ev.missing), ""]
    lines += _targets_section(ev)
    if ev.security:
        lines += security_section(ev.security)
        lines += generalisation_section(ev)
    if ev.entities:
        lines += entities_section(ev.entities)
    if ev.extraction:
        lines += extraction_section(ev.extraction)
    if ev.stories:
        lines += story_eval.section(ev.stories)
    # Not in `metrics` (no floors): a machine without the mirrors would fail every such floor.
    lines += languages.section(
        ev.languages, ev.languages_note, english=ev.security.scores.relevance if ev.security else None
    )
    lines += _speed_section(ev)
    return "\n".join(lines).rstrip() + "\n"


def _targets_section(ev: Evaluation) -> list[str]:
    rows = ["## Targets", "", "| measure | value | target | |", "| --- | ---: | --- | :-: |"]
    if ev.security:
        s = ev.security.scores
        rows.append(
            f"| security relevance F1 | {_f(s.relevance.f1)} | ≥ {SECURITY_F1_TARGET:.2f} "
            f"| {_at_least(s.relevance.f1, SECURITY_F1_TARGET)} |"
        )
        rows.append(
            f"| false-positive rate on non-security news | {_pct(s.relevance.fpr)} "
            f"| ≤ {_pct(SECURITY_FPR_TARGET)} | {_mark(s.relevance.fpr <= SECURITY_FPR_TARGET)} |"
        )
        for family, (hit, total) in s.families.items():
            rows.append(
                f"| recall, family `{family}` | {_f(hit / total)} | ≥ {FAMILY_RECALL_TARGET:.2f} "
                f"| {_at_least(hit / total, FAMILY_RECALL_TARGET)} |"
            )
    if ev.entities:
        e = ev.entities.scores
        for label, by_type in (("spans, named", e.spans["named"]), ("canonical names", e.canonical)):
            for typ, target in ENTITY_F1_TARGETS.items():
                f1 = by_type[typ].f1
                rows.append(
                    f"| entity F1 {typ} ({label}) | {_f(f1)} | ≥ {target:.2f} | {_at_least(f1, target)} |"
                )
    if ev.extraction:
        x = ev.extraction.scores
        rows.append(
            f"| extraction: must-contain found | {_pct(x.must_contain)} | ≥ {_pct(MUST_CONTAIN_TARGET)} "
            f"| {_at_least(x.must_contain, MUST_CONTAIN_TARGET)} |"
        )
        rows.append(
            f"| extraction: must-not-contain avoided | {_pct(x.must_not_contain)} | "
            f"≥ {_pct(MUST_NOT_CONTAIN_TARGET)} | {_at_least(x.must_not_contain, MUST_NOT_CONTAIN_TARGET)} |"
        )
    rows += [
        "",
        "The speed target (the analysis chain without entities ≥ 1,000 docs/s on one core) is under *Speed*.",
        "",
    ]
    return rows


def security_section(run: security.SecurityRun) -> list[str]:
    s = run.scores
    r, t = s.relevance, s.terrorism
    judged = r.tp + r.fp + r.fn + r.tn
    lines = [
        "## Security relevance",
        "",
        f"`{security.DEV_FILE}`: {s.documents} texts, {r.tp + r.fn} security (`security: true`), "
        f"{r.fp + r.tn} not security (`false`), {s.documents - judged} not judged (`null`, ignored). "
        "Each text goes through the pipeline's own analysis chain (cleaning, language, classification; "
        "a row's headline run into its text, as InSight Crime rows are stored, is passed as the title; "
        "BBC rows have lost their headline boundary and MUC wires have none). "
        "An article is *security* when any topic of the taxonomy fires. "
        f"Classifier `{run.classifier_version}`.",
        "",
        "| precision | recall | F1 | false-positive rate | TP | FP | FN | TN |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {_f(r.precision)} | {_f(r.recall)} | {_f(r.f1)} | {_pct(r.fpr)} "
        f"| {r.tp} | {r.fp} | {r.fn} | {r.tn} |",
        "",
        "Recall per family:",
        "",
        "| family | found | positives | recall | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for family, (hit, total) in s.families.items():
        lines.append(
            f"| {family} | {hit} | {total} | {_f(hit / total)} "
            f"| ≥ {FAMILY_RECALL_TARGET:.2f} {_at_least(hit / total, FAMILY_RECALL_TARGET)} |"
        )
    lines += [
        "",
        f"Topic `{security.TERRORISM_TOPIC}` against the MUC-3/4 `terror_incident` field (MUC texts only: "
        f"{t.tp + t.fn} incidents, {t.fp + t.tn} not):",
        "",
        "| precision | recall | F1 | TP | FP | FN | TN |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {_f(t.precision)} | {_f(t.recall)} | {_f(t.f1)} | {t.tp} | {t.fp} | {t.fn} | {t.tn} |",
        "",
        "Topics fired on the whole set: "
        + ", ".join(f"`{topic}` {n}" for topic, n in sorted(s.topics.items(), key=lambda kv: (-kv[1], kv[0])))
        + ".",
        "",
    ]
    return lines


def _row(name: str, s: security.SecurityScores, terror: bool = True) -> str:
    r, t = s.relevance, s.terrorism
    fpr = _pct(r.fpr) if r.fp + r.tn else "–"
    judged = r.tp + r.fn
    cells = [
        _f(r.precision) if r.tp + r.fp else "–",
        _f(r.recall) if judged else "–",
        _f(r.f1) if judged else "–",
    ]
    tf = _f(t.f1) if terror and t.tp + t.fn else "–"
    return f"| {name} | " + " | ".join(cells) + f" | {fpr} | {tf} |"


def generalisation_section(ev: Evaluation) -> list[str]:
    """Dev (in-sample) beside leave-one-source-out, rules alone and with the learned layer, and the
    same with the reviewed labels."""
    assert ev.security is not None
    run = ev.security
    lines = ["## Generalisation: leave one source out", ""]
    if ev.model_note:
        lines += [f"**Learned model:** {ev.model_note}.", ""]
    g = ev.generalisation
    if g is None:
        return [*lines, f"Leave-one-source-out {ev.generalisation_note}.", ""]
    rows = run.rows
    lines += [
        "The dev figures above are in-sample: the learned layer was trained on these rows. Here each "
        "source is classified by a model trained on the other sources only (`monitor train` with that "
        "source left out); these are the figures that say how the monitor does on news it has not "
        "seen. BBC is the only source of news judged *not* security, so without it a model could not "
        "learn what is not: the BBC fold is split in five by id, and each fifth is classified by a "
        "model trained on the other sources and the other four fifths of BBC (its false-positive rate "
        "is unseen documents, but a seen outlet). The MUC fold has no terrorism judgements left to "
        "learn from, so there the rules decide the `terrorism` topic. *Rules* is the taxonomy alone "
        "(it is not trained, so its figures are the same in and out of sample).",
        "",
        "| figures | precision | recall | F1 | false-positive rate | `terrorism` F1 (MUC) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        _row("dev, rules + learned (in-sample)", run.scores),
        _row("leave-one-source-out, rules alone", g.pooled_rules),
        _row("**leave-one-source-out, rules + learned**", g.pooled_learned),
    ]
    if g.terrorism_cv is not None:
        t = g.terrorism_cv
        lines += [
            "",
            "The `terrorism` topic against MUC `terror_incident`, 5-fold within MUC (each fifth by a model "
            "trained on the other four fifths and all other sources; the judgements exist only in MUC): "
            f"precision {_f(t.precision)}, recall {_f(t.recall)}, **F1 {_f(t.f1)}**.",
            "",
            "| figures | precision | recall | F1 | false-positive rate | `terrorism` F1 (MUC) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
    for source, (rules, learned_scores, how) in g.folds.items():
        lines.append(_row(f"held out `{source}`, rules alone", rules))
        lines.append(_row(f"held out `{source}`, rules + learned ({how})", learned_scores))
    if ev.reviews:
        fixed = security.reviewed(rows, ev.reviews)
        lines += [
            "",
            f"With the {len(ev.reviews)} reviewed labels of `{REVIEWS_FILE}` (labels we disagree with, "
            "each with its reason; the data file is not changed):",
            "",
            "| figures, reviewed labels | precision | recall | F1 | false-positive rate "
            "| `terrorism` F1 (MUC) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            _row("dev, rules + learned (in-sample)", security.score(fixed, run.fired)),
            _row("leave-one-source-out, rules alone", security.score(fixed, g.rules_fired)),
            _row("**leave-one-source-out, rules + learned**", security.score(fixed, g.learned_fired)),
        ]
    return [*lines, ""]


def entities_section(run: entities.EntityRun) -> list[str]:
    e = run.scores
    lines = [
        "## Entities",
        "",
        f"`{entities.RE3D_DIR}`: {e.documents} documents. Extractor mentions map to re3d types: "
        "country, place and generic location → Location; organisation → Organisation; person → "
        'Person; demonym ("Kurdish") → Nationality, but a plural demonym ("Syrians", a group of people) '
        "→ Organisation, as re3d types it.",
        "",
        "### Spans (overlap matching)",
        "",
        "A predicted span is right when it overlaps a gold span of its type; a gold span is found when a "
        "predicted span of its type overlaps it; gold spans are de-duplicated. Gold views: *named* = "
        "spans that contain a capitalised word other than a pronoun or determiner; *named+GPE* = named, "
        "and a country name counts where gold types it Location or Organisation (re3d types a country "
        "by its role in the sentence); *all* = every gold span, pronouns and nominals included (they "
        "need coreference, which the extractor does not attempt).",
        "",
    ]
    for view in entities.VIEWS:
        lines += [f"Gold view *{view}*:", "", *_prf_rows(e.spans[view]), ""]
    lines += [
        "### Canonical names",
        "",
        "Per document and type, the set of canonical names predicted is compared with the set of gold "
        "names (micro-averaged over documents; precision = shared / predicted, recall = shared / gold). "
        "Only names are compared, on both sides: a span written as a name (after a leading determiner, "
        'every word capitalised, a number or a connector: "Army of the Victorious Sect"), not a '
        'description that contains one ("U.S. officials", "the government of Iraq"), which has no '
        "canonical name; descriptions are judged by the span views. Gold spans are read as names: "
        'without a possessive ("Coe’s" → Coe), people without the lower-case role before the name '
        '("lieutenant Muath al-Kasasbeh"), a person or organisation span inside a longer gold name '
        'of its type left out as the same mention annotated twice ("Army" inside "Iraqi Army"), and '
        "a role with no name left out: a title with its complement or ending the span, where the "
        'extractor finds no person in it ("the President of Syria", "his Chief of Staff", '
        '"commander of the Amphibious Task Group", "Navy Capt.", "Inherent Resolve Commander"). '
        "Predicted: the canonical `name` of every such extractor mention in the text. Gold: each such "
        'gold span without a leading "the", canonicalised by the extractor itself: the gazetteer '
        'entry of the whole span ("Iraqi" → Iraq, "U.S." → United States); else the longest '
        'mention of the gold type the extractor finds in the span on its own ("Iraqi Prime Minister '
        'Haider al-Abadi" → Haider al-Abadi); else the span as written, people without leading titles '
        '("Mr Colville" → Colville). A one-word person name becomes the longer gold person name of the '
        'same document it starts or ends, or ends without its article ("Carter" → Ash Carter, '
        '"Abadi" → Haider al-Abadi), as the extractor joins them. A span '
        "that is a country name where gold says Organisation is compared as a Location (the GPE rule). "
        "Names are compared by slug (case, accents, punctuation ignored).",
        "",
        *_prf_rows(e.canonical),
        "",
    ]
    if e.folders:
        lines += [
            "### By folder",
            "",
            "F1 per re3d folder (the sources differ: news, military press releases, encyclopaedia, "
            "diplomatic statements): a rule should help every folder, not the one it was read on. "
            "Spans in the *named* view; canonical names as above.",
            "",
            "| folder | documents | " + " | ".join(f"{t} spans | {t} names" for t in entities.TYPES) + " |",
            "| --- | ---: | " + " | ".join("---: | ---:" for _ in entities.TYPES) + " |",
        ]
        for folder, (n, f_spans, f_canon) in e.folders.items():
            cells = " | ".join(f"{_f(f_spans[t].f1)} | {_f(f_canon[t].f1)}" for t in entities.TYPES)
            lines.append(f"| {folder} | {n} | {cells} |")
        lines.append("")
    return lines


def extraction_section(run: extraction.ExtractionRun) -> list[str]:
    x = run.scores
    return [
        "## Extraction",
        "",
        f"`{extraction.EXTRACT_DIR}/cases.json`: {x.pages} web pages with segments that must / must "
        "not appear in the extracted main text (whitespace normalised as in the output).",
        "",
        "| measure | share | count | target |",
        "| --- | ---: | ---: | --- |",
        f"| must-contain found | {_pct(x.must_contain)} | {x.found}/{x.wanted} "
        f"| ≥ {_pct(MUST_CONTAIN_TARGET)} {_at_least(x.must_contain, MUST_CONTAIN_TARGET)} |",
        f"| must-not-contain avoided | {_pct(x.must_not_contain)} | {x.avoided}/{x.unwanted} "
        f"| ≥ {_pct(MUST_NOT_CONTAIN_TARGET)} {_at_least(x.must_not_contain, MUST_NOT_CONTAIN_TARGET)} |",
        "",
    ]


def _speed_section(ev: Evaluation) -> list[str]:
    lines = [
        "## Speed",
        "",
        f"Measured on {ev.day.isoformat()}. CPU time of one process on one core (so other load on the "
        "machine matters less); these figures vary between machines and runs.",
        "",
        "| stage | documents | CPU seconds | docs/s | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    if ev.security:
        n, sec = ev.security.scores.documents, ev.security.seconds
        rate = n / sec if sec else 0.0
        lines.append(
            f"| classify (`{security.DEV_FILE}`) | {n} | {sec:.2f} | {rate:,.0f} "
            f"| ≥ {CLASSIFY_SPEED_TARGET:,.0f} {_at_least(rate, CLASSIFY_SPEED_TARGET)} |"
        )
    if ev.entities:
        n, sec = ev.entities.speed_docs, ev.entities.speed_seconds
        lines.append(
            f"| entities ({ev.entities.speed_source}) | {n} | {sec:.2f} | {n / sec if sec else 0:,.0f} | – |"
        )
    if ev.extraction:
        n, sec = ev.extraction.scores.pages, ev.extraction.seconds
        lines.append(
            f"| extraction (`{extraction.EXTRACT_DIR}/pages`) | {n} | {sec:.2f} "
            f"| {n / sec if sec else 0:,.0f} | – |"
        )
    return [*lines, ""]


# ------------------------------------------------------------------------------------------ floors


def read_floors(path: Path) -> dict[str, float]:
    """Floors file: a JSON object metric -> minimum; keys starting with "_" are notes."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of metric -> minimum")
    return {k: float(v) for k, v in data.items() if not k.startswith("_")}


def write_floors(path: Path, floors: dict[str, float]) -> None:
    body = {"_about": FLOORS_NOTE, **dict(sorted(floors.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def run_command(
    data_dir: Path,
    models: Models,
    write: Path | None = None,
    floors_path: Path | None = None,
    raise_floors: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
    lang_dir: Path = languages.LANG_DEV_DIR,
) -> int:
    """`monitor eval`: 0 when every floor holds, 1 when a metric is below its floor, 2 when the data
    folder is missing or the floors file is unreadable."""
    out = out or sys.stdout  # looked up at call time so redirections (and pytest's capture) apply
    err = err or sys.stderr
    if raise_floors and not floors_path:
        print("--raise-floors needs --floors FILE", file=err)
        return 2
    try:
        floors = read_floors(floors_path) if floors_path and floors_path.exists() else {}
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        print(f"{floors_path}: {exc}", file=err)
        return 2
    try:
        ev = evaluate(data_dir, models, log=lambda msg: print(msg, file=err), lang_dir=lang_dir)
    except DataMissing as exc:
        print(exc, file=err)
        return 2
    report = render(ev, data_label=str(data_dir))
    out.write(report)
    if write:
        write.parent.mkdir(parents=True, exist_ok=True)
        write.write_text(report, encoding="utf-8")
        print(f"wrote {write}", file=err)
    current = metrics(ev)
    if raise_floors and floors_path:
        new = raised_floors(floors, current)
        write_floors(floors_path, new)
        changed = [k for k in new if new[k] != floors.get(k)]
        print(f"{floors_path}: {len(changed)} floor(s) raised or added", file=err)
        floors = new
    failures = check_floors(current, floors)
    if failures:
        print(f"{len(failures)} metric(s) below their floor in {floors_path}:", file=err)
        for failure in failures:
            print(f"  {failure}", file=err)
        return 1
    if floors:
        print(f"all {len(floors)} floors met ({floors_path})", file=err)
    return 0
