"""`monitor eval`: metric arithmetic, the scorers on small fixtures written for this project, the
floors gate and the "data missing" path. No file from ../shared/data is read here."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from monitor.analyze import Models
from monitor.cli import main as cli_main
from monitor.evaluation import entities, extraction, security
from monitor.evaluation.metrics import (
    Confusion,
    Matches,
    check_floors,
    confusion,
    floor_value,
    raised_floors,
    recall_by_group,
)
from monitor.evaluation.report import Evaluation, metrics, read_floors, render, run_command

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eval"


# -- metric arithmetic -------------------------------------------------------------------------------


def test_precision_recall_f1_and_fpr() -> None:
    c = Confusion(tp=8, fp=2, fn=4, tn=38)
    assert c.precision == pytest.approx(0.8)
    assert c.recall == pytest.approx(8 / 12)
    assert c.f1 == pytest.approx(2 * 0.8 * (8 / 12) / (0.8 + 8 / 12))
    assert c.fpr == pytest.approx(2 / 40)
    assert c.specificity == pytest.approx(38 / 40)


def test_empty_counts_give_zero_not_an_error() -> None:
    c = Confusion()
    assert (c.precision, c.recall, c.f1, c.fpr, c.specificity) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert Matches().f1 == 0.0


def test_confusion_ignores_unjudged_rows() -> None:
    pairs = [(True, True), (True, False), (False, True), (False, False), (None, True), (None, False)]
    assert confusion(pairs) == Confusion(tp=1, fp=1, fn=1, tn=1)


def test_recall_by_group() -> None:
    pairs = [("crime", True), ("terror", False), ("crime", False), ("terror", True), ("crime", True)]
    assert recall_by_group(pairs) == {"crime": (2, 3), "terror": (1, 2)}


def test_matches_add_up() -> None:
    total = Matches(3, 2, 4, 3) + Matches(1, 1, 2, 0)
    assert total == Matches(4, 3, 6, 3)
    assert total.precision == pytest.approx(0.75)
    assert total.recall == pytest.approx(0.5)


# -- security relevance ------------------------------------------------------------------------------


def _stub_classifier(rows: list[dict]) -> dict[str, list[str]]:
    return {row["text"]: row["fired"] for row in rows}


def test_security_scores_on_fixture() -> None:
    rows = security.load_rows(FIXTURES / "security_dev.jsonl")
    scores = security.score(rows, [row["fired"] for row in rows])
    assert scores.relevance == Confusion(tp=3, fp=1, fn=1, tn=3)
    assert scores.relevance.f1 == pytest.approx(0.75)
    assert scores.relevance.fpr == pytest.approx(0.25)
    assert scores.families == {"organised_crime": (2, 2), "terrorism": (1, 2)}
    assert scores.terrorism == Confusion(tp=1, fp=1, fn=1, tn=1)
    assert scores.topics["terrorism"] == 2
    assert scores.documents == 10


def test_security_run_reads_the_dev_file(tmp_path: Path) -> None:
    (tmp_path / "classify").mkdir()
    shutil.copy(FIXTURES / "security_dev.jsonl", tmp_path / security.DEV_FILE)
    fired = _stub_classifier(security.load_rows(FIXTURES / "security_dev.jsonl"))
    run = security.run(tmp_path, classify=lambda title, text: fired[text])
    assert run.scores.relevance == Confusion(tp=3, fp=1, fn=1, tn=3)
    assert len(run.fired) == 10


def test_score_rejects_mismatched_predictions() -> None:
    with pytest.raises(ValueError, match="2 rows but 1 predictions"):
        security.score([{"security": True}, {"security": False}], [[]])


# -- entities ----------------------------------------------------------------------------------------


@pytest.fixture()
def re3d_doc() -> entities.Doc:
    docs = entities.load_re3d(FIXTURES / "re3d")
    assert len(docs) == 1
    return docs[0]


def _pred(
    text: str, surface: str, typ: str, name: str, nth: int = 0, country: bool = False
) -> entities.Predicted:
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return entities.Predicted(start, start + len(surface), typ, surface, country, name)


def _fixture_preds(text: str) -> list[entities.Predicted]:
    return [
        _pred(text, "Defence", "Location", "Defence"),  # wrong
        _pred(text, "Anna Berg", "Person", "Anna Berg"),
        _pred(text, "Berg", "Person", "Anna Berg", nth=1),
        _pred(text, "Border Agency", "Organisation", "Border Agency"),
        _pred(text, "Tallinn", "Location", "Tallinn"),
        _pred(text, "Estonian", "Nationality", "Estonia"),
    ]


def test_is_named() -> None:
    assert entities.is_named("Anna Berg") and entities.is_named("the Border Agency")
    assert not entities.is_named("He") and not entities.is_named("the team")


def test_span_counts_named_and_all_views(re3d_doc: entities.Doc) -> None:
    doc, gold = re3d_doc
    counts = entities.span_counts(gold, _fixture_preds(doc["text"]))
    named = counts["named"]
    assert named["Person"] == Matches(pred=2, pred_ok=2, gold=2, gold_found=2)
    # both gold spans ("Border Agency", "the Border Agency") overlap the one prediction
    assert named["Organisation"] == Matches(pred=1, pred_ok=1, gold=2, gold_found=2)
    # the repeated gold "Tallinn" counts once; "Defence" is a false positive
    assert named["Location"] == Matches(pred=2, pred_ok=1, gold=1, gold_found=1)
    assert named["Location"].f1 == pytest.approx(2 / 3)
    assert named["Nationality"] == Matches(1, 1, 1, 1)
    # "He" and "the team" only count in the all view
    assert counts["all"]["Person"] == Matches(pred=2, pred_ok=2, gold=3, gold_found=2)
    assert counts["all"]["Organisation"] == Matches(pred=1, pred_ok=1, gold=3, gold_found=2)


def test_gpe_rule_accepts_a_country_where_gold_says_organisation() -> None:
    gold = [{"begin": 0, "end": 5, "type": "Organisation", "value": "Syria"}]
    preds = [entities.Predicted(0, 5, "Location", "Syria", True, "Syria")]
    counts = entities.span_counts(gold, preds)
    assert counts["named"]["Location"] == Matches(pred=1, pred_ok=0, gold=0, gold_found=0)
    assert counts["named"]["Organisation"] == Matches(pred=0, pred_ok=0, gold=1, gold_found=0)
    assert counts["named+GPE"]["Location"] == Matches(pred=1, pred_ok=1, gold=0, gold_found=0)
    assert counts["named+GPE"]["Organisation"] == Matches(pred=0, pred_ok=0, gold=1, gold_found=1)


def test_canonical_names_compare_sets_per_document(re3d_doc: entities.Doc) -> None:
    doc, gold = re3d_doc
    known = {("Estonian", "Nationality"): ("Nationality", "Estonia")}

    def canonical(text: str, typ: str) -> tuple[str, str]:
        return known.get((text, typ), (typ, text))

    gold_set = entities.gold_canonical(gold, canonical)
    # "Berg" joins "Anna Berg"; "the Border Agency" loses "the"; pronouns and nominals are left out
    assert gold_set == {
        ("Person", "anna-berg"),
        ("Organisation", "border-agency"),
        ("Location", "tallinn"),
        ("Nationality", "estonia"),
    }
    counts = entities.set_counts(gold_set, entities.predicted_canonical(_fixture_preds(doc["text"])))
    assert counts["Person"] == Matches(1, 1, 1, 1)
    assert counts["Location"] == Matches(pred=2, pred_ok=1, gold=1, gold_found=1)
    scores = entities.score([re3d_doc], [_fixture_preds(doc["text"])], canonical)
    assert scores.canonical["Location"].precision == pytest.approx(0.5)
    assert scores.spans["named"]["Person"].f1 == pytest.approx(1.0)


def test_gold_surname_without_its_arabic_article_joins_the_full_name() -> None:
    text = "Haider al-Abadi met Ash Carter. Abadi and Carter agreed."
    gold = [
        {"begin": text.index(v), "end": text.index(v) + len(v), "type": "Person", "value": v}
        for v in ("Haider al-Abadi", "Ash Carter", "Abadi", "Carter")
    ]
    names = entities.gold_canonical(gold, lambda t, typ: (typ, t))
    assert names == {("Person", "haider-al-abadi"), ("Person", "ash-carter")}


def test_gold_role_before_a_body_is_kept_whole() -> None:
    # "commander of the ..." is a role: the lower-case words are not cut off as before a name
    v = "commander of the Zorbak Task Group"
    gold = [{"begin": 0, "end": len(v), "type": "Person", "value": v}]
    assert entities.gold_canonical(gold, lambda t, typ: (typ, t)) == set()
    # while a role before a name is cut off
    v = "lieutenant Zorbak Blint"
    gold = [{"begin": 0, "end": len(v), "type": "Person", "value": v}]
    assert entities.gold_canonical(gold, lambda t, typ: (typ, t)) == {("Person", "zorbak-blint")}


def test_extractor_canonicaliser_uses_the_gazetteer_and_drops_titles(models: Models) -> None:
    canonical = entities.extractor_canonicaliser(models.extractor)
    assert canonical("Iraqi", "Nationality") == ("Nationality", "Iraq")
    assert canonical("Syria", "Organisation") == ("Location", "Syria")  # the GPE rule
    assert canonical("Mr Colville", "Person") == ("Person", "Colville")
    # roles without a name are no person's name; a surname that is also a title still is one
    assert canonical("Navy Capt.", "Person") is None
    assert canonical("his Chief of Staff", "Person") is None
    assert canonical("Zorbak Task Force Commander", "Person") is None
    assert canonical("Foreign Minister Karen Bishop", "Person") == ("Person", "Karen Bishop")
    assert canonical("Zxqv Institute of Nothing", "Organisation")[0] == "Organisation"


# -- extraction --------------------------------------------------------------------------------------


def test_extraction_scores_with_a_stub_extractor() -> None:
    run = extraction.run(FIXTURES, extract=lambda data, url: data.decode("utf-8"))
    s = run.scores
    assert (s.found, s.wanted, s.avoided, s.unwanted, s.pages) == (2, 3, 1, 2, 2)
    assert s.must_contain == pytest.approx(2 / 3)
    assert s.must_not_contain == pytest.approx(0.5)
    assert any("The customs service seized" in m for m in s.misses)


# -- floors ------------------------------------------------------------------------------------------


def test_floor_value_rounds_down() -> None:
    assert floor_value(0.97599) == 0.975
    assert floor_value(0.95) == 0.95  # 0.95 * 1000 is 949.999… in binary
    assert floor_value(1.0) == 1.0


def test_a_drop_below_a_floor_is_named() -> None:
    floors = {"security.f1": 0.97, "security.recall.terrorism": 0.9, "extraction.must_contain": 0.9}
    current = {"security.f1": 0.969, "security.recall.terrorism": 0.95, "extraction.must_contain": 0.9}
    failures = check_floors(current, floors)
    assert len(failures) == 1
    assert failures[0].startswith("security.f1: 0.9690 is below its floor 0.97")


def test_an_unmeasured_floor_fails() -> None:
    assert check_floors({}, {"entities.canonical.Person.f1": 0.5}) == [
        "entities.canonical.Person.f1: not measured (floor 0.5)"
    ]


def test_raise_floors_never_lowers_a_floor() -> None:
    floors = {"a.f1": 0.9, "b.f1": 0.5, "kept.f1": 0.7, "speed.classify": 900.0}
    current = {"a.f1": 0.8, "b.f1": 0.6789, "new.f1": 0.4321, "speed.classify": 1500.0}
    new = raised_floors(floors, current)
    assert new["a.f1"] == 0.9  # went down: the floor stays
    assert new["b.f1"] == 0.678  # went up: rounded down to 3 decimals
    assert new["new.f1"] == 0.432
    assert new["kept.f1"] == 0.7  # not measured: kept
    assert new["speed.classify"] == 900.0  # half of 1500 is below the old floor
    assert raised_floors({}, {"speed.classify": 1502.0})["speed.classify"] == 500.0  # a third
    assert all(new[k] >= v for k, v in floors.items())


# -- the command -------------------------------------------------------------------------------------


def test_missing_data_exits_2_with_a_clear_message(tmp_path: Path, models: Models) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_command(tmp_path / "nowhere", models, out=out, err=err)
    assert code == 2
    assert "nowhere not found: evaluation data is not part of the repository" in err.getvalue()
    assert out.getvalue() == ""


def test_raise_floors_needs_a_floors_file(data_dir: Path, models: Models) -> None:
    err = io.StringIO()
    assert run_command(data_dir, models, raise_floors=True, out=io.StringIO(), err=err) == 2
    assert "--raise-floors needs --floors" in err.getvalue()


def test_cli_eval_missing_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["eval", "--data", str(tmp_path / "absent")]) == 2
    assert "not found: evaluation data is not part of the repository" in capsys.readouterr().err


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    """An evaluation folder holding only the classify fixture (entities and extraction missing)."""
    data = tmp_path / "data"
    (data / "classify").mkdir(parents=True)
    shutil.copy(FIXTURES / "security_dev.jsonl", data / security.DEV_FILE)
    return data


def test_run_command_fails_on_a_floor_and_writes_the_report(
    data_dir: Path, tmp_path: Path, models: Models
) -> None:
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"_about": "note", "security.f1": 1.01, "security.specificity": 0.0}))
    report = tmp_path / "docs" / "quality.md"
    out, err = io.StringIO(), io.StringIO()
    code = run_command(data_dir, models, write=report, floors_path=floors, out=out, err=err)
    assert code == 1
    assert "security.f1:" in err.getvalue() and "below its floor 1.01" in err.getvalue()
    assert "security.specificity" not in err.getvalue()
    text = report.read_text(encoding="utf-8")
    assert text == out.getvalue()
    assert "## Security relevance" in text and "Not measured (data not found)" in text
    assert "## Speed" in text and "## Entities" not in text


def test_run_command_raise_floors_keeps_higher_floors(data_dir: Path, tmp_path: Path, models: Models) -> None:
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"security.f1": 1.01, "security.precision": 0.0}))
    code = run_command(
        data_dir, models, floors_path=floors, raise_floors=True, out=io.StringIO(), err=io.StringIO()
    )
    assert code == 1  # the impossible floor stays and still fails
    new = read_floors(floors)
    assert new["security.f1"] == 1.01
    assert new["security.precision"] >= 0.0
    assert "security.recall.organised_crime" in new and "speed.classify" in new
    assert "_about" in json.loads(floors.read_text())


def test_report_is_deterministic_above_speed() -> None:
    rows = security.load_rows(FIXTURES / "security_dev.jsonl")
    scores = security.score(rows, [row["fired"] for row in rows])
    a = Evaluation(security=security.SecurityRun(scores, "v1", 0.5))
    b = Evaluation(security=security.SecurityRun(scores, "v1", 0.7))
    head = lambda text: text.split("## Speed")[0]  # noqa: E731
    assert head(render(a)) == head(render(b))
    assert render(a) != render(b)
    text = render(a)
    assert "| security relevance F1 | 0.750 | ≥ 0.95 | ✗ |" in text
    assert "| organised_crime | 2 | 2 | 1.000 | ≥ 0.93 ✓ |" in text
    assert metrics(a)["security.recall.terrorism"] == pytest.approx(0.5)
    assert metrics(a)["speed.classify"] == pytest.approx(20.0)
