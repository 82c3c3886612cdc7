"""Entities in Cyrillic text: the same ids as the English text gives (countries by ISO code, cities
by GeoNames id, organisations by their English entry, people by their English spelling)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.entities import EntityExtractor, build_extractor
from monitor.entities.morph_ru import given_nominative, surname_nominative
from monitor.entities.translit import to_latin
from monitor.models import Entity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "entities"
SEED = Path(__file__).resolve().parents[3] / "shared" / "data" / "seed" / "osce_astana_conference.txt"


@pytest.fixture(scope="module")
def ex() -> EntityExtractor:
    return build_extractor(None)


def by_id(entities: list[Entity]) -> dict[str, Entity]:
    return {e.id: e for e in entities}


# My translation of the start of the seed article (tests/fixtures/entities/*.ru.txt), and the ids
# that the English original gives for the same names.
SHARED_IDS = {
    "KZ",
    "RU",
    "US",
    "TJ",
    "geonames:1526273",  # Astana
    "geonames:264371",  # Athens
    "geonames:2761369",  # Vienna
    "org:osce",
    "org:eu",
    "person:nurtai-abykayev",
    "person:kanat-saudabayev",
    "person:vladimir-chizhov",
}


def test_russian_translation_gives_the_english_ids(ex: EntityExtractor) -> None:
    text = (FIXTURES / "osce_astana_conference.ru.txt").read_text(encoding="utf-8")
    found = by_id(ex.extract("Первая антитеррористическая конференция ОБСЕ прошла в Казахстане", text))
    assert set(found) >= SHARED_IDS
    assert found["KZ"].count >= 4  # Казахстан, Казахстана, Казахстану
    assert set(found["org:osce"].mentions) == {
        "ОБСЕ",
        "Организации по безопасности и сотрудничеству в Европе",
    }
    assert found["person:nurtai-abykayev"].count == 3  # the lone "Абыкаева" counts for him
    assert found["person:ilya-rogachev"].mentions == ("Ильи Рогачёва",)
    assert found["KG"].mentions == ("Киргизии",) and found["TM"].mentions == ("Туркмении",)
    assert "org:knb-kz" in found  # Комитета национальной безопасности Казахстана


@pytest.mark.skipif(not SEED.exists(), reason="shared seed data not available")
def test_english_seed_gives_the_same_ids(ex: EntityExtractor) -> None:
    english = set(by_id(ex.extract("", SEED.read_text(encoding="utf-8"))))
    assert english >= SHARED_IDS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Делегация прибыла в Казахстан.", "KZ"),
        ("Делегация Казахстана прибыла.", "KZ"),
        ("В Казахстане прошли выборы.", "KZ"),
        ("Переговоры с Казахстаном продолжились.", "KZ"),
        ("Переговоры с Россией продолжились.", "RU"),
        ("Посол США выступил.", "US"),
        ("Делегация прибыла из Нур-Султана.", "geonames:1526273"),
        ("Взрыв произошёл в Бишкеке.", "geonames:1528675"),
        ("Талибы вошли в Кабул.", "org:taliban"),
        ("Боевики ИГИЛ атаковали город.", "org:isis"),
        ("Боевики «Исламского государства» атаковали город.", "org:isis"),
        ("Заседание Совета Безопасности ООН прошло вчера.", "org:un-security-council"),
        ("Страны ОДКБ и ШОС провели учения.", "org:csto"),
        ("Ситуация в Центральной Азии осложнилась.", "loc:central-asia"),
        ("Қазақстан және Ресей.", "KZ"),  # Kazakh, from pycountry's kk catalogue
    ],
)
def test_cyrillic_names_in_any_case(ex: EntityExtractor, text: str, expected: str) -> None:
    assert expected in {m.entity_id for m in ex.mentions("", text)}


def test_people_in_case_forms_get_the_english_id(ex: EntityExtractor) -> None:
    text = (
        "Президент Казахстана Касым-Жомарт Токаев встретился с Сергеем Лавровым. "
        "Министр обороны Сергей Шойгу прибыл позже. Мария Захарова заявила, что Токаев приглашён."
    )
    found = by_id(ex.extract("", text))
    assert found["person:kassym-jomart-tokayev"].count == 2
    assert {"person:sergei-lavrov", "person:sergei-shoigu", "person:maria-zakharova"} <= set(found)


def test_english_and_russian_text_of_one_person_share_an_id(ex: EntityExtractor) -> None:
    english = {
        e.id for e in ex.extract("", "Kazakh security chief Nurtai Abykayev said the threat was real.")
    }
    russian = {e.id for e in ex.extract("", "Глава КНБ Нуртай Абыкаев заявил, что угроза реальна.")}
    assert "person:nurtai-abykayev" in english & russian


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Нуртай Абыкаев", "Nurtai Abykayev"),
        ("Нурсултан Назарбаев", "Nursultan Nazarbayev"),
        ("Касым-Жомарт Токаев", "Kassym-Jomart Tokayev"),
        ("Сергей Шойгу", "Sergei Shoigu"),
        ("Сергей Лавров", "Sergei Lavrov"),
        ("Дмитрий Песков", "Dmitry Peskov"),
        ("Владимир Зеленский", "Vladimir Zelensky"),
        ("Шавкат Мирзиёев", "Shavkat Mirziyoyev"),
        ("Михаил Горбачёв", "Mikhail Gorbachev"),
        ("Евгений Пригожин", "Yevgeny Prigozhin"),
        ("Ильхам Алиев", "Ilham Aliyev"),
    ],
)
def test_transliteration_follows_english_media(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic) == latin


def test_case_forms_of_names() -> None:
    assert [surname_nominative(w) for w in ("Абыкаева", "Абыкаеву", "Абыкаевым", "Зеленского")] == [
        "Абыкаев",
        "Абыкаев",
        "Абыкаев",
        "Зеленский",
    ]
    assert surname_nominative("Захаровой", feminine=True) == "Захарова"
    assert surname_nominative("Шойгу") == "Шойгу"
    assert [given_nominative(w) for w in ("Сергея", "Нуртая", "Нурсултаном")] == [
        "Сергей",
        "Нуртай",
        "Нурсултан",
    ]


def test_english_text_has_no_cyrillic_mentions(ex: EntityExtractor) -> None:
    found = by_id(ex.extract("", "Kazakhstan hosted the OSCE conference in Astana."))
    assert set(found) == {"KZ", "org:osce", "geonames:1526273"}
