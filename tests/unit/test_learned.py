"""The learned layer on top of the taxonomy (monitor.classify.learned)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from monitor.classify import learned
from monitor.classify.rules import Classifier, load_classifier
from monitor.evaluation.security import split_title

FIXTURES = Path(__file__).parents[1] / "fixtures" / "classify" / "unseen_false_positives.jsonl"


def _fixtures() -> list[dict[str, object]]:
    return [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def packaged() -> Classifier:
    return load_classifier()


def test_the_package_ships_a_model_for_its_taxonomy(packaged: Classifier) -> None:
    assert packaged.learned is not None
    assert packaged.learned.meta["code_version"] == learned.code_version(packaged.taxonomy)
    assert len(packaged.learned.meta["data_sha256"]) == 64
    assert "+m" in packaged.version  # stored results say which model judged them


@pytest.mark.parametrize("case", _fixtures(), ids=lambda c: str(c["id"]))
def test_unseen_kinds_of_false_positive(packaged: Classifier, case: dict[str, str | bool]) -> None:
    hits = packaged.classify(str(case["title"]), str(case["text"]), "en")
    assert bool(hits) is case["security"], [(h.topic_id, [e.term for e in h.evidence]) for h in hits]
    for hit in hits:
        assert hit.evidence  # every tag keeps its explanation


def test_hard_drugs_evidence_names_the_group_and_shows_the_word(packaged: Classifier) -> None:
    text = "Police seized 40 kilos of heroin from a drug gang."
    hits = packaged.classify("Police seize heroin", text, "en")
    terms = {e.term: e for h in hits for e in h.evidence}
    assert "cocaine" not in terms
    assert [form for form, _ in terms["hard drugs"].forms] == ["heroin"]


def _model(words: dict[str, float], bias: float) -> learned.LearnedModel:
    return learned.LearnedModel(learned.Linear(bias, {}, words), None, {"code_version": "x"}, "0" * 64)


def test_a_topic_the_model_adds_names_the_words_that_carried_it() -> None:
    rules = load_classifier(learned=False)
    title, text = "Night of fear", "Residents heard gunfire and an attack on the barracks was repelled."
    assert rules.classify(title, text, "en") == []  # "attack" alone does not fire terrorism
    sure = Classifier(rules.taxonomy, _model({"gunfire": 8.0, "barracks": 4.0, "the": -1.0}, 0.0))
    hits = sure.classify(title, text, "en")
    assert hits, "the model's words should add the best candidate topic"
    added = hits[0].evidence[-1]
    assert added.term == learned.LEARNED_TERM
    assert [form for form, _ in added.forms] == ["gunfire", "barracks"]
    assert hits[0].evidence[0].term != learned.LEARNED_TERM  # the rule evidence comes first


def test_a_model_sure_it_is_not_security_vetoes_the_rules() -> None:
    rules = load_classifier(learned=False)
    title, text = "Bomb attack", "A car bomb attack killed ten people near the market."
    assert rules.classify(title, text, "en")
    never = Classifier(rules.taxonomy, _model({}, -20.0))
    assert never.classify(title, text, "en") == []


def test_missing_model_is_said(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(learned, "packaged_model_text", lambda: None)
    with caplog.at_level(logging.WARNING, logger="monitor.classify.learned"):
        classifier = load_classifier()
    assert classifier.learned is None
    assert "no learned model" in caplog.text and "monitor train" in caplog.text


def test_model_for_other_rules_is_refused_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, packaged: Classifier
) -> None:
    assert packaged.learned is not None
    doc = json.loads(learned.model_json(packaged.learned))
    doc["code_version"] = "1999.1+deadbeef/features-0"
    monkeypatch.setattr(learned, "packaged_model_text", lambda: json.dumps(doc))
    with caplog.at_level(logging.WARNING, logger="monitor.classify.learned"):
        classifier = load_classifier()
    assert classifier.learned is None
    assert "1999.1+deadbeef" in caplog.text and "retrain" in caplog.text


def test_data_mismatch_is_said(packaged: Classifier) -> None:
    assert packaged.learned is not None
    note = learned.data_mismatch(packaged.learned, b"other data\n")
    assert note is not None and "monitor train" in note
    assert learned.data_mismatch(None, b"") is not None


def _examples() -> list[learned.Example]:
    rules = load_classifier(learned=False)
    out = []
    for case in _fixtures():
        scored = rules.score(str(case["title"]), str(case["text"]), "en")
        out.extend([learned.Example(scored, bool(case["security"]), None)] * 3)
    return out


def test_training_is_deterministic() -> None:
    pytest.importorskip("sklearn")
    one = learned.train(_examples(), {"code_version": "t"})
    two = learned.train(_examples(), {"code_version": "t"})
    assert one.file_hash == two.file_hash
    assert learned.parse_model(learned.model_json(one)).file_hash == one.file_hash
    assert one.relevance.words  # it learned something from the words


def test_training_needs_both_classes() -> None:
    pytest.importorskip("sklearn")
    positives = [e for e in _examples() if e.relevant]
    with pytest.raises(ValueError, match="positive and negative"):
        learned.train(positives, {})


def test_split_title_takes_a_title_case_headline_only() -> None:
    row = {"text": "Police Seize Record Cocaine Haul in Port. Officers found the drugs on Monday."}
    title, text = split_title(row)
    assert (title, text) == (
        "Police Seize Record Cocaine Haul in Port",
        "Officers found the drugs on Monday.",
    )
    wire = {"text": "LIMA, 3 JAN 90 -- [TEXT] TERRORISTS ATTACKED A POST. THE ARMY SAID."}
    assert split_title(wire)[0] == ""
    prose = {"text": "more than a week after the attack the police said nothing. later they spoke."}
    assert split_title(prose)[0] == ""
    assert split_title({"title": "T", "text": "body"}) == ("T", "body")


def test_leave_one_source_out_classifies_each_source_with_a_model_that_never_saw_it() -> None:
    pytest.importorskip("sklearn")
    from monitor.evaluation.security import leave_one_source_out

    rules = load_classifier(learned=False)
    rows: list[dict[str, object]] = []
    for n, case in enumerate(_fixtures() * 4):
        source = "bbc" if not case["security"] else ("wire" if n % 2 else "crime")
        rows.append({**case, "id": f"{case['id']}-{n}", "source": source})
    scored = [rules.score(str(r["title"]), str(r["text"]), "en") for r in rows]
    result = leave_one_source_out(rows, scored)
    assert set(result.folds) == {"bbc", "crime", "wire"}
    assert "within BBC" in result.folds["bbc"][2]
    # Every row got a prediction from its fold, and the pooled scores count every judged row.
    r = result.pooled_learned.relevance
    assert r.tp + r.fp + r.fn + r.tn == len(rows)
    assert len(result.learned_fired) == len(rows)


def _two_models(relevance_bias: float, terror_bias: float, words: dict[str, float]) -> learned.LearnedModel:
    return learned.LearnedModel(
        learned.Linear(relevance_bias, {}, {}),
        learned.Linear(terror_bias, {}, words, word_value=learned.TERROR_WORD_VALUE),
        {"code_version": "x", "format": learned.FORMAT},
        "0" * 64,
    )


def test_the_terrorism_model_reads_the_whole_body_not_only_the_lead() -> None:
    rules = load_classifier(learned=False)
    filler = " ".join(["the", "report", "said"] * 70)  # 210 words: past the lead
    scored = rules.score("", f"{filler} the gunmen fled towards the garrison", "en")
    assert "garrison" not in learned.word_tokens(scored)
    assert "garrison" in learned.terror_tokens(scored)


def test_a_sure_terrorism_model_adds_the_topic_when_relevance_does_not_veto() -> None:
    rules = load_classifier(learned=False)
    title, text = "Night of fear", "Residents heard gunfire and an attack on the bus station was reported."
    assert rules.classify(title, text, "en") == []  # "attack" alone does not fire terrorism
    # Relevance 0.5: above VETO, below ADD, so on its own it would add nothing.
    unsure = Classifier(rules.taxonomy, _two_models(0.0, -5.0, {}))
    assert unsure.classify(title, text, "en") == []
    sure = Classifier(rules.taxonomy, _two_models(0.0, 0.0, {"bus": 8.0, "residents": 4.0}))
    hits = sure.classify(title, text, "en")
    assert [h.topic_id for h in hits] == ["terrorism"]
    assert hits[0].evidence[0].term == "attack*"  # the rule evidence first
    added = hits[0].evidence[-1]
    assert added.term == learned.LEARNED_TERM
    assert [form for form, _ in added.forms] == ["bus", "residents"]
    assert added.weight == round(learned.TERROR_WORD_VALUE * 12.0, 3)


def test_a_vetoing_relevance_model_still_wins_over_the_terrorism_model() -> None:
    rules = load_classifier(learned=False)
    title, text = "Night of fear", "Residents heard gunfire and an attack on the bus station was reported."
    never = Classifier(rules.taxonomy, _two_models(-20.0, 20.0, {}))
    assert never.classify(title, text, "en") == []


def test_word_value_is_kept_in_the_model_file() -> None:
    model = _two_models(0.5, -1.0, {"bus": 2.0})
    again = learned.parse_model(learned.model_json(model))
    assert again.terrorism is not None
    assert again.terrorism.word_value == learned.TERROR_WORD_VALUE
    assert again.relevance.word_value == learned.WORD_VALUE
    assert again.terrorism.margin({}, {"bus"}) == -1.0 + learned.TERROR_WORD_VALUE * 2.0
    # A file written before the field existed reads with the relevance model's word value.
    doc = json.loads(learned.model_json(model))
    del doc["terrorism"]["word_value"]
    assert learned.parse_model(json.dumps(doc)).terrorism.word_value == learned.WORD_VALUE  # type: ignore[union-attr]


def test_strong_rule_evidence_keeps_terrorism_against_the_model() -> None:
    rules = load_classifier(learned=False)
    title = "Suicide bomber strikes"
    text = "A suicide bomber killed nine people, the militant group behind the attack said."
    doubting = Classifier(rules.taxonomy, _two_models(5.0, -20.0, {}))
    assert [h.topic_id for h in doubting.classify(title, text, "en")] == ["terrorism"]
    weak = "Residents said an attack by gunmen killed nine people."  # fired, but not twice over
    assert "terrorism" in {h.topic_id for h in rules.classify("", weak, "en")}
    assert "terrorism" not in {h.topic_id for h in doubting.classify("", weak, "en")}
