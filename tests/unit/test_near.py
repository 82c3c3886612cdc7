"""dedupe.near: MinHash near-duplicates of syndicated copies, over a sliding window."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from monitor.dedupe import near
from monitor.dedupe.near import NearDuplicateIndex, Signature, estimate, signature

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stories"
ORIGINAL = (FIXTURES / "wire_original.txt").read_text(encoding="utf-8")
OTHER = (FIXTURES / "same_topic_other.txt").read_text(encoding="utf-8")
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
FOOTER = (
    "Copyright 2026 The Northern Courier. All rights reserved. Follow us on social media and sign up for"
    " our free morning newsletter to receive the most important stories of the day in your inbox."
)


def truncated(text: str, share: float = 0.6) -> str:
    words = text.split()
    return " ".join(words[: int(len(words) * share)]) + " ... Read more"


def paragraphs_reordered(text: str) -> str:
    paras = text.strip().split("\n")
    return "\n".join(paras[3:] + paras[:3])


def words_changed(text: str, n: int = 5, seed: int = 7) -> str:
    rng = random.Random(seed)
    words = text.split()
    for i in rng.sample(range(len(words)), n):
        words[i] = "changed"
    return " ".join(words)


def index_with_original() -> NearDuplicateIndex:
    index = NearDuplicateIndex(window=timedelta(days=7), threshold=0.7)
    assert index.add("orig", ORIGINAL, T0) is None
    return index


@pytest.mark.parametrize(
    "copy",
    [
        pytest.param(ORIGINAL, id="headline-only"),  # the title is not part of the signature
        pytest.param(truncated(ORIGINAL), id="truncated-60"),
        pytest.param(f"Republished with permission.\n{ORIGINAL}\n{FOOTER}", id="boilerplate-added"),
        pytest.param("\n".join(ORIGINAL.split("\n")[1:-1]), id="boilerplate-removed"),
        pytest.param(paragraphs_reordered(ORIGINAL), id="paragraphs-reordered"),
        pytest.param(words_changed(ORIGINAL), id="words-changed"),
        pytest.param(ORIGINAL.upper().replace(".", " ."), id="case-and-spacing"),
        pytest.param(f"{words_changed(truncated(ORIGINAL, 0.7), 2)}\n{FOOTER}", id="combined"),
    ],
)
def test_copies_point_at_the_original(copy: str) -> None:
    index = index_with_original()
    assert index.add("copy", copy, T0 + timedelta(hours=5)) == "orig"


def test_a_copy_below_the_containment_threshold_is_not_called_a_copy() -> None:
    """The documented limit: a 60 % truncation with 5 edited words and a footer as long as a
    paragraph keeps only ~65 % of its shingles in the original (exact containment 0.65 < 0.7)."""
    index = index_with_original()
    assert (
        index.add("copy", f"{words_changed(truncated(ORIGINAL))}\n{FOOTER}", T0 + timedelta(hours=1)) is None
    )


def test_containment_not_jaccard_decides_for_truncated_copies() -> None:
    a, b = near.compute_signature(ORIGINAL), near.compute_signature(truncated(ORIGINAL, 0.5))
    jaccard, containment = estimate(a, b)
    assert jaccard < 0.7 <= containment  # Jaccard alone would miss it


def test_different_story_on_the_same_topic_is_not_a_duplicate() -> None:
    index = index_with_original()
    assert index.add("other", OTHER, T0 + timedelta(hours=1)) is None
    _, containment = estimate(near.compute_signature(ORIGINAL), near.compute_signature(OTHER))
    assert containment < 0.2


def test_shared_boilerplate_does_not_make_different_articles_copies() -> None:
    index = NearDuplicateIndex()
    short_texts = [
        "Police in the capital arrested three men suspected of planning an arson attack on a depot.",
        "The parliament approved a new law on drones that restricts flights near airports and prisons.",
        "A fire at a chemical plant in the port city injured four workers and forced road closures.",
        "The central bank kept interest rates unchanged and warned about rising food prices this spring.",
    ]
    answers = [
        index.add(f"s{i}", f"{text} {FOOTER}", T0 + timedelta(minutes=i))
        for i, text in enumerate(short_texts)
    ]
    assert answers[2:] == [None, None]  # once the footer is known as shared, it is no evidence


def test_first_copy_wins_and_copies_of_copies_point_at_the_original() -> None:
    index = index_with_original()
    assert index.add("copy1", truncated(ORIGINAL, 0.8), T0 + timedelta(hours=1)) == "orig"
    assert index.add("copy2", truncated(ORIGINAL, 0.7), T0 + timedelta(hours=2)) == "orig"


def test_feeding_twice_gives_the_same_answer_and_no_new_entry() -> None:
    index = index_with_original()
    assert index.add("orig", ORIGINAL, T0 + timedelta(hours=1)) is None
    assert index.add("copy", truncated(ORIGINAL), T0 + timedelta(hours=2)) == "orig"
    assert index.add("copy", truncated(ORIGINAL), T0 + timedelta(hours=3)) == "orig"
    assert len(index) == 2


def test_window_eviction_bounds_memory_and_forgets_old_originals() -> None:
    index = NearDuplicateIndex(window=timedelta(hours=24))
    index.add("orig", ORIGINAL, T0)
    assert index.add("late-copy", truncated(ORIGINAL), T0 + timedelta(hours=25)) is None
    assert "orig" not in index
    assert len(index) == 1
    # memory: a long stream keeps only one window of documents
    for i in range(200):
        index.add(
            f"n{i}",
            f"{OTHER} item {i} " + " ".join(f"w{i}x{j}" for j in range(30)),
            T0 + timedelta(hours=26 + i),
        )
    assert len(index) <= 25
    assert not any(key for table in index._bands for key, bucket in table.items() if not bucket)
    assert all(
        e.doc_id in index for table in index._bands for bucket in table.values() for e in bucket.values()
    )


def test_short_texts_are_never_near_duplicates() -> None:
    index = NearDuplicateIndex()
    assert index.add("a", "Police said.", T0) is None
    assert index.add("b", "Police said.", T0) is None
    assert index.add("empty", "", T0) is None


def test_signature_round_trip_rebuilds_the_same_index() -> None:
    sig = signature(ORIGINAL)
    assert len(sig) == near.SIGNATURE_BYTES
    restored = Signature.from_bytes(sig)
    assert np.array_equal(restored.values, near.compute_signature(ORIGINAL).values)
    assert restored.to_bytes() == sig
    rebuilt = NearDuplicateIndex()
    assert rebuilt.add_signature("orig", sig, T0) is None
    assert rebuilt.add_signature("copy", signature(truncated(ORIGINAL)), T0 + timedelta(hours=1)) == "orig"
    with pytest.raises(ValueError, match="bytes"):
        Signature.from_bytes(sig[:-1])
    with pytest.raises(ValueError, match="format"):
        Signature.from_bytes(b"XX9" + sig[3:])


def test_signature_is_the_same_in_another_process() -> None:
    """Python's str hash is salted per process; the signature must not depend on it."""
    code = (
        "import sys; from monitor.dedupe.near import signature; "
        "sys.stdout.write(signature(open(sys.argv[1], encoding='utf-8').read()).hex())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(FIXTURES / "wire_original.txt")],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout
    assert out == signature(ORIGINAL).hex()


_ORIGINAL_DIGEST = "f9e1c5f37669732984207e60894cb625763921ef07b90a34a55808126e601419"


@pytest.mark.parametrize(
    ("text", "digest"),
    [
        (ORIGINAL, _ORIGINAL_DIGEST),  # ASCII: the byte path
        # the same words through the code-point path: typographic apostrophes, soft hyphens
        (ORIGINAL.replace("'", "\u2019").replace(" the ", " the\u00ad "), _ORIGINAL_DIGEST),
        # 9 shingles: most bins empty and filled from their neighbours
        (
            "Bewaffnete griffen am Dienstag einen Grenzposten an; zwei Wächter starben, "
            "sagten die „Behörden“.",
            "c8e88f032caec3d9d01ac7c54c735fd538bc8ce8e90c37c1c4f7600841efef7f",
        ),
    ],
)
def test_signature_bytes_are_stable(text: str, digest: str) -> None:
    """Signatures are stored beside articles and rebuild the index after a restart: pinned bytes."""
    assert hashlib.sha256(signature(text)).hexdigest() == digest


def test_deterministic_answers_for_the_same_stream() -> None:
    rng = random.Random(3)
    stream = []
    for i in range(30):
        base = OTHER if i % 2 else ORIGINAL
        stream.append(
            (f"d{i}", words_changed(truncated(base, rng.uniform(0.5, 1.0)), 3, i), T0 + timedelta(hours=i))
        )

    def answers() -> list[str | None]:
        index = NearDuplicateIndex()
        return [index.add(d, t, s) for d, t, s in stream]

    first = answers()
    assert first == answers()
    assert first[0] is None and first[1] is None
    assert set(first[2:]) == {"d0", "d1"}


def test_common_value_table_agrees_with_the_exact_set_and_late_arrivals_leave_cleanly() -> None:
    """The numpy slot table of common values must answer exactly as the set of common keys, through
    additions and evictions, also when documents arrive out of order."""
    rng = random.Random(5)
    index = NearDuplicateIndex(window=timedelta(hours=12))
    texts = [ORIGINAL, OTHER, truncated(ORIGINAL, 0.7), f"{OTHER}\n{FOOTER}", f"{ORIGINAL}\n{FOOTER}"]
    stream = []
    for i in range(120):
        base = texts[i % len(texts)]
        late = timedelta(hours=rng.choice([0, 0, 0, -20]))  # some arrive after their window
        stream.append((f"d{i}", words_changed(base, 2, i), T0 + timedelta(hours=i / 2) + late))
    first = [index.add(d, t, s) for d, t, s in stream]
    again = NearDuplicateIndex(window=timedelta(hours=12))
    assert [again.add(d, t, s) for d, t, s in stream] == first
    rows = np.stack([near.compute_signature(t).values for _, t, _ in stream[:20]])
    expected = [
        sum(1 << i for i, v in enumerate(row.tolist()) if (i << 32 | v) in index._common_keys) for row in rows
    ]
    assert index._common_masks(rows) == expected
    assert any(expected)  # the footer and the syndicated texts made some values common
    assert int(index._slot_count.sum()) == len(index._common_keys)
    assert all(e.doc_id in index for table in index._bands for b in table.values() for e in b.values())
    assert not any(not b for table in index._bands for b in table.values())


def test_an_index_restored_from_stored_answers_answers_the_next_documents_alike() -> None:
    # A new run warms its index with the window's stored signatures and answers (no search), then
    # adds the new documents: it must answer them as the index that saw everything did.
    rng = random.Random(5)
    stream = []
    for i in range(40):
        base = (ORIGINAL, OTHER, f"{OTHER} {FOOTER}")[i % 3]
        text = words_changed(truncated(base, rng.uniform(0.45, 1.0)), 4, i)
        stream.append((f"d{i}", signature(text), T0 + timedelta(hours=3 * i)))
    whole = NearDuplicateIndex(window=timedelta(days=2))
    answers = [whole.add_signature(d, sig, seen) for d, sig, seen in stream]
    masks = [whole.copy_mask(d) for d, _, _ in stream]  # stored beside the answers
    assert 0 < sum(a is not None for a in answers) < len(answers)
    assert [m is not None for m in masks[-10:]] == [a is not None for a in answers[-10:]]
    for cut in (10, 25):
        for with_masks in (True, False):  # without: articles stored before the masks were
            restored = NearDuplicateIndex(window=timedelta(days=2))
            for (d, sig, seen), answer, mask in zip(stream[:cut], answers[:cut], masks[:cut], strict=True):
                restored.restore_signature(d, sig, seen, answer, mask if with_masks else None)
            assert [restored.add_signature(d, sig, seen) for d, sig, seen in stream[cut:]] == answers[cut:]
            assert restored._groups_with == whole._groups_with  # the shared-value counts, exactly
