"""Language dev sets (issue 15): the corpus conversions, the scores, and the report when the dev
files were not built."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.analyze import Models
from monitor.evaluation import languages as lang
from monitor.evaluation.report import Evaluation, evaluate, render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lang"


def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _surfaces(spans: list[lang.GoldSpan], text: str) -> set[tuple[str, str]]:
    return {(s.type, text[s.start : s.end]) for s in spans}


def test_brat_spans_of_our_types_with_links_and_extents() -> None:
    text = _read("nerel_sample.txt")
    spans = lang.parse_brat(_read("nerel_sample.ann"), text)
    assert _surfaces(spans, text) == {
        ("Location", "Кабуле"),
        ("Location", "Афганистана"),
        ("Organisation", "Министерства обороны Афганистана"),
        ("Organisation", "Талибан"),
        ("Organisation", "НАТО"),
        ("Organisation", "полиция Кабула и штаб НАТО"),  # discontinuous: its extent
        ("Person", "Ашраф Гани"),
    }
    assert sum(s.type == "Location" for s in spans) == 4  # three Кабуле, one Афганистана
    links = {text[s.start : s.end] + f"@{s.start}": s.link for s in spans if s.link}
    assert links == {"Кабуле@8": "Q100", "Кабуле@32": "Q100", "Талибан@150": "Q200", "Ашраф Гани@170": "Q300"}
    assert {s.source_type for s in spans} == {"CITY", "COUNTRY", "ORGANIZATION", "PERSON"}


def test_brat_offsets_are_checked_against_the_text() -> None:
    with pytest.raises(ValueError, match="T1 reads"):
        lang.parse_brat("T1\tCITY 0 6\tКабуле\n", "Москва и Кабул")


def test_factrueval_mentions_are_the_extent_of_their_spans() -> None:
    text = _read("factrueval_sample.txt")
    spans = lang.parse_factrueval(_read("factrueval_sample.spans"), _read("factrueval_sample.objects"), text)
    assert _surfaces(spans, text) == {
        ("Organisation", "МИД России"),
        ("Location", "России"),  # LocOrg counts as a place
        ("Person", "Сергей Лавров"),
        ("Location", "Минск"),
        ("Location", "Доме правительства"),
        ("Organisation", "правительства"),
    }
    assert {s.source_type for s in spans if text[s.start : s.end] == "России"} == {"LocOrg"}
    assert all(s.link is None for s in spans)


def test_factrueval_unknown_span_and_wrong_offset_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown span"):
        lang.parse_factrueval("", "20 Org 99 # x\n")
    with pytest.raises(ValueError, match="expected 'Минск'"):
        lang.parse_factrueval("5 loc_name 0 5 1 1  # 1 Минск\n", "", "Казань")


def test_headline_and_sib_rows() -> None:
    assert lang.split_headline("Заголовок\n\nТекст.\n\nЕщё.") == ("Заголовок", "Текст.\n\nЕщё.")
    assert lang.split_headline("Первая строка\nвторая\n\nТекст.")[0] == ""
    tsv = "index_id\tcategory\ttext\n7\tpolitics\tThe protest started.\n8\tsports\tA goal.\n"
    assert lang.parse_sib_tsv(tsv) == [(7, "politics", "The protest started."), (8, "sports", "A goal.")]


def test_span_matches_overlap_and_named_view() -> None:
    text = "правительство Москвы и Сергей Лавров"
    gold = [
        lang.GoldSpan(0, 13, "Organisation", "ORGANIZATION"),  # "правительство": not a name
        lang.GoldSpan(14, 20, "Location", "CITY"),
        lang.GoldSpan(23, 36, "Person", "PERSON"),
    ]
    preds = [
        lang.Predicted(14, 20, "Location", "RU-MOW"),
        lang.Predicted(30, 36, "Organisation", "org:lavrov"),
    ]
    named = lang.span_matches(gold, preds, text, named=True)
    assert named["Location"] == lang.Matches(1, 1, 1, 1)
    assert named["Organisation"] == lang.Matches(1, 0, 0, 0)
    assert named["Person"] == lang.Matches(0, 0, 1, 0)
    assert lang.span_matches(gold, preds, text, named=False)["Organisation"].gold == 1


def test_bcubed_rewards_one_id_per_entity() -> None:
    perfect = lang.bcubed([("Q1", "a"), ("Q1", "a"), ("Q2", "b")])
    assert (perfect.precision, perfect.recall) == (1.0, 1.0)
    merged = lang.bcubed([("Q1", "a"), ("Q2", "a")])  # two people under one id
    assert merged.precision == 0.5 and merged.recall == 1.0
    split = lang.bcubed([("Q1", "a"), ("Q1", "b"), ("Q1", None)])  # inflected forms apart, one missed
    assert split.precision == 1.0 and split.recall == pytest.approx(2 / 9)
    assert (split.mentions, split.found, split.entities) == (3, 2, 1)
    assert lang.bcubed([]).f1 == 0.0


def test_missing_dev_files_say_how_to_build_them(tmp_path: Path) -> None:
    with pytest.raises(lang.LangDataMissing, match=re.escape(lang.NOT_BUILT)):
        lang.load(tmp_path / "lang-dev")
    lines = "\n".join(lang.section(None, ""))
    assert "## Languages" in lines and lang.NOT_BUILT in lines


def test_report_has_a_languages_section_when_nothing_was_built(tmp_path: Path, models: Models) -> None:
    data = tmp_path / "data"
    data.mkdir()
    messages: list[str] = []
    ev = evaluate(data, models, log=messages.append, lang_dir=tmp_path / "not-built")
    assert ev.languages is None
    assert any(m.startswith(lang.NOT_BUILT) for m in messages)
    report = render(ev)
    section = report[report.index("## Languages") :]
    assert f"**{lang.NOT_BUILT}" in section and "No language figures measured" in section
    assert "## Languages" in render(Evaluation(languages_note="x"))


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_run_on_a_tiny_built_cache(tmp_path: Path, models: Models) -> None:
    """The whole measure through the real chain, on dev files shaped as the build script writes them."""
    cache, labels = tmp_path / "lang-dev", tmp_path / "labels"
    cache.mkdir()
    labels.mkdir()
    text = _read("nerel_sample.txt")
    spans = lang.parse_brat(_read("nerel_sample.ann"), text)
    _write_jsonl(
        cache / lang.DOCUMENTS_FILE,
        [
            {
                "id": "nerel:dev:x",
                "corpus": "nerel",
                "split": "dev",
                "text": text,
                "spans": [list(s) for s in spans],
            }
        ],
    )
    bomb = (
        "A suicide bomber killed twelve soldiers at an army checkpoint, and the Taliban claimed the attack."
    )
    sentences = [
        {
            "id": "sib:1",
            "index_id": 1,
            "split": "dev",
            "category": "politics",
            "text": {"eng": bomb, "rus": "Смертник убил двенадцать солдат на армейском блокпосту."},
        },
        {
            "id": "sib:2",
            "index_id": 2,
            "split": "dev",
            "category": "sports",
            "text": {"eng": "The team won the cup final.", "rus": "Команда выиграла финал кубка."},
        },
    ]
    _write_jsonl(cache / lang.SIB_FILE, sentences)
    (cache / lang.MANIFEST_FILE).write_text('{"sources": {"x/y": {"commit": "abc"}}}', encoding="utf-8")
    _write_jsonl(
        labels / lang.SIB_REVIEWS_FILE, [{"id": "sib:1", "security": True, "reason": "a suicide bombing"}]
    )
    _write_jsonl(
        labels / lang.RU_LABELS_FILE,
        [{"id": "nerel:dev:x", "security": True, "family": "terrorism", "reason": "a suicide bombing"}],
    )

    run = lang.run(cache, models, labels)
    eng, rus = run.sib.by_language["eng"], run.sib.by_language["rus"]
    assert (eng.tp, eng.fn, eng.fp, eng.tn) == (1, 0, 0, 1)  # English: the bombing found, the cup not
    assert rus.tp + rus.fn == 1 and rus.fp + rus.tn == 1
    assert run.sib.positives == 1 and run.documents == {"nerel": 1}
    assert run.label_counts == {"true": 1}
    assert run.gold_by_type["nerel"] == {"Location": 4, "Organisation": 4, "Person": 1}
    assert run.canonical["Person"].mentions == 1 and run.canonical["Location"].entities == 1
    section = "\n".join(lang.section(run))
    assert "| English | 0.0 % | 0 | 1 |" in section and "x/y` @ abc" in section


def _git_repo(root: Path, files: dict[str, str]) -> Path:
    """A one-commit git repository holding `files` (path -> text); returns its .git directory."""
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body, encoding="utf-8")
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "fixture"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root, check=True
        )
    return root / ".git"


def test_build_script_writes_the_cache_from_git_mirrors(tmp_path: Path) -> None:
    """scripts/build_lang_dev.py end to end on three tiny mirrors laid out as the real ones."""
    fre = _git_repo(
        tmp_path / "fre",
        {f"devset/book_1.{ext}": _read(f"factrueval_sample.{ext}") for ext in ("txt", "spans", "objects")},
    )
    nerel = _git_repo(
        tmp_path / "nerel",
        {
            "NEREL-v1.1/dev/42_text.txt": _read("nerel_sample.txt"),
            "NEREL-v1.1/dev/42_text.ann": _read("nerel_sample.ann"),
            "NEREL-v1.1/train/kabul.txt": _read("nerel_sample.txt"),
            "NEREL-v1.1/train/kabul.ann": _read("nerel_sample.ann"),
        },
    )
    header = "index_id\tcategory\ttext\n"
    sib_files = {}
    for code, texts in (("eng_Latn", ("A goal.", "Rain.")), ("rus_Cyrl", ("Гол.", "Дождь."))):
        sib_files[f"data/annotated/{code}/train.tsv"] = header + f"3\tsports\t{texts[0]}\n"
        sib_files[f"data/annotated/{code}/dev.tsv"] = header + f"9\tgeography\t{texts[1]}\n"
        sib_files[f"data/annotated/{code}/test.tsv"] = header
    sib = _git_repo(tmp_path / "sib", sib_files)
    out = tmp_path / "lang-dev"
    script = Path(__file__).resolve().parents[2] / "scripts" / "build_lang_dev.py"
    args = ["--out", str(out), "--factrueval", str(fre), "--nerel", str(nerel), "--sib", str(sib)]
    done = subprocess.run(
        [sys.executable, str(script), *args, "--languages", "rus"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    docs = {d["id"]: d for d in lang.read_jsonl(out / lang.DOCUMENTS_FILE)}
    assert sorted(docs) == ["factrueval:dev:book_1", "nerel:dev:42", "nerel:train:kabul"]
    assert len(docs["nerel:dev:42"]["spans"]) == 9 and len(docs["factrueval:dev:book_1"]["spans"]) == 6
    sentences = lang.read_jsonl(out / lang.SIB_FILE)
    assert [(s["id"], s["split"], s["text"]) for s in sentences] == [
        ("sib:3", "train", {"eng": "A goal.", "rus": "Гол."}),
        ("sib:9", "dev", {"eng": "Rain.", "rus": "Дождь."}),
    ]
    manifest = json.loads((out / lang.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["documents"] == {"factrueval:dev": 1, "nerel:dev": 1, "nerel:train": 1}
    assert manifest["linked_spans"]["nerel:dev:Location"] == 2
    assert len(manifest["sources"]["nerel-ds/NEREL"]["commit"]) == 40
    missing = subprocess.run(
        [sys.executable, str(script), *args[:-2], "--sib", str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0 and "mirror not found" in missing.stderr
