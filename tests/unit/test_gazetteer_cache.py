"""The gazetteer cache: built once, loaded by later processes, rebuilt when unusable."""

from __future__ import annotations

from pathlib import Path

from monitor.entities import EntityExtractor, build_extractor
from monitor.entities.gazetteer import cached_gazetteer

TEXT = "Border guards from Kyrgyzstan met OSCE officials in Bishkek, the Kazakh delegation said."


def test_cached_gazetteer_gives_the_same_extractor(tmp_path: Path) -> None:
    built = cached_gazetteer(tmp_path)
    (cache_file,) = tmp_path.glob("gazetteer-*.pickle")
    loaded = cached_gazetteer(tmp_path)  # from the file this time
    assert loaded is not built
    assert EntityExtractor(loaded).extract("", TEXT) == EntityExtractor(built).extract("", TEXT)
    assert {e.id for e in EntityExtractor(loaded).extract("", TEXT)} >= {"KG", "KZ", "org:osce"}

    cache_file.write_bytes(b"not a pickle")  # damaged: rebuilt and rewritten, never an error
    again = cached_gazetteer(tmp_path)
    assert EntityExtractor(again).extract("", TEXT) == EntityExtractor(built).extract("", TEXT)
    assert cache_file.read_bytes()[:1] == b"\x80"  # a pickle again


def test_build_extractor_makes_a_new_extractor_from_the_cached_gazetteer(tmp_path: Path) -> None:
    first = build_extractor(tmp_path)  # builds the gazetteer and writes its pickle
    (cache_file,) = tmp_path.glob("gazetteer-*.pickle")
    written = cache_file.stat().st_mtime_ns
    second = build_extractor(tmp_path)  # loads it: the file is left as it is
    assert second is not first and second.gz is not first.gz
    assert cache_file.stat().st_mtime_ns == written
    assert second.extract("", TEXT) == first.extract("", TEXT)
    assert second.mentions("", TEXT) == first.mentions("", TEXT)


def test_language_model_cache_answers_as_the_packaged_model(tmp_path: Path) -> None:
    from monitor.extract.language import _load_identifier

    german = "Die Regierung hat am Montag neue Maßnahmen gegen den Terrorismus in Berlin beschlossen."
    packaged = _load_identifier(None)
    unpacked = _load_identifier(tmp_path)  # unpacks and writes the cache
    (cache_file,) = tmp_path.glob("py3langid-*.pickle")
    cached = _load_identifier(tmp_path)  # from the file this time
    assert packaged.classify(german)[0] == unpacked.classify(german)[0] == cached.classify(german)[0] == "de"

    cache_file.write_bytes(b"garbage")  # damaged: unpacked again and rewritten, never an error
    assert _load_identifier(tmp_path).classify(german)[0] == "de"
    assert cache_file.read_bytes()[:1] == b"\x80"
