"""Entity extraction: outcomes on texts written for these tests, the project fixture and the seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.entities import EntityExtractor, Mention, build_extractor
from monitor.models import Entity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "entities"
SEED = Path(__file__).resolve().parents[3] / "shared" / "data" / "seed" / "osce_astana_conference.txt"


@pytest.fixture(scope="module")
def ex() -> EntityExtractor:
    return build_extractor(None)  # the gazetteer built here: no cache folder shared between tests


def ids(entities: list[Entity]) -> set[str]:
    return {e.id for e in entities}


def by_id(entities: list[Entity]) -> dict[str, Entity]:
    return {e.id: e for e in entities}


# -- countries --------------------------------------------------------------------------------------


def test_countries_from_names_variants_and_demonyms(ex: EntityExtractor) -> None:
    text = (
        "Kazakh courts banned the group. Officials in Kirghizia and the Russian Federation agreed, "
        "while the U.S. and Britain sent observers. Burma and Ivory Coast stayed away. "
        "An Afghan delegation met Colombian police."
    )
    found = by_id(ex.extract("", text))
    assert {"KZ", "KG", "RU", "US", "GB", "MM", "CI", "AF", "CO"} <= set(found)
    assert found["KZ"].name == "Kazakhstan"
    assert found["KZ"].mentions == ("Kazakh",)
    assert found["KG"].name == "Kyrgyzstan"


def test_demonym_mentions_are_marked(ex: EntityExtractor) -> None:
    ms = [m for m in ex.mentions("", "Russian diplomats visited Russia.") if m.type == "country"]
    assert [(m.surface, m.kind) for m in ms] == [("Russian", "demonym"), ("Russia", "name")]
    assert all(m.entity_id == "RU" for m in ms)


def test_lowercase_us_and_common_words_are_not_countries(ex: EntityExtractor) -> None:
    text = "Let us hope the turkey is served on china plates, he told us. The US embassy was closed."
    found = by_id(ex.extract("", text))
    assert "TR" not in found and "CN" not in found
    assert found["US"].count == 1


def test_given_name_that_is_a_country_followed_by_surname_is_a_person(ex: EntityExtractor) -> None:
    found = ids(ex.extract("", "The striker Jordan Henderson scored twice, said coach Chad Peterson."))
    assert "JO" not in found and "TD" not in found


# -- places -----------------------------------------------------------------------------------------


def test_towns_named_like_people_are_not_places(ex: EntityExtractor) -> None:
    text = "President Bush met Alan Garcia. Later Garcia flew home."
    found = ex.extract("", text)
    assert [e.type for e in found] == ["person", "person"]
    assert by_id(found)["person:alan-garcia"].count == 2


def test_capitalised_preposition_makes_a_place(ex: EntityExtractor) -> None:
    text = "Near Qasr Dabil, one strike hit a bunker. Outside Marjeh, two more followed."
    locs = {m.surface for m in ex.mentions("", text) if m.type == "location"}
    assert {"Qasr Dabil", "Marjeh"} <= locs


def test_capitals_and_cities_with_country(ex: EntityExtractor) -> None:
    found = {e.name: e for e in ex.extract("", "Talks moved from Astana to Vienna, then to Kabul and Mosul.")}
    assert {"Astana", "Vienna", "Kabul", "Mosul"} <= set(found)
    assert found["Astana"].country == "KZ" and found["Astana"].id.startswith("geonames:")
    assert found["Vienna"].country == "AT"


def test_place_variants_resolve_to_one_city(ex: EntityExtractor) -> None:
    a = by_id(ex.extract("", "Shelling hit Kiev."))
    b = by_id(ex.extract("", "Shelling hit Kyiv."))
    assert ids(list(a.values())) == ids(list(b.values()))


def test_unknown_place_after_preposition_is_a_location_mention_not_an_entity(ex: EntityExtractor) -> None:
    text = "Fighting was reported near Zarqabad and in the village of Qasrawi."
    locs = [m.surface for m in ex.mentions("", text) if m.type == "location"]
    assert locs == ["Zarqabad", "Qasrawi"]
    assert ex.extract("", text) == []


# -- organisations ----------------------------------------------------------------------------------


def test_organisations_by_acronym_and_long_name(ex: EntityExtractor) -> None:
    text = (
        "The Organization for Security and Co-operation in Europe met NATO and the UN Security Council. "
        "The OSCE later briefed Interpol; Daesh and al-Qaida were discussed, as was the Islamic State."
    )
    found = by_id(ex.extract("", text))
    assert found["org:osce"].count == 2
    assert {"org:nato", "org:un-security-council", "org:interpol", "org:isis", "org:al-qaeda"} <= set(found)
    assert found["org:isis"].count == 2


def test_acronyms_that_are_words_only_match_in_capitals(ex: EntityExtractor) -> None:
    found = ids(ex.extract("", "Experts who studied it said the WHO would act."))
    assert "org:who" in found
    assert ids(ex.extract("", "Experts who studied it said so.")) == set()


def test_generic_organisations_from_head_words(ex: EntityExtractor) -> None:
    text = "The Kazakh Ministry of Foreign Affairs and the Tajik Border Troops issued statements."
    found = by_id(ex.extract("", text))
    assert "org:kazakh-ministry-of-foreign-affairs" in found
    assert "org:tj-border-troops" in found  # a country's forces: as "Tajik border troops"
    assert "KZ" in found  # the demonym inside the name still counts for the country


def test_state_forces_are_organisations(ex: EntityExtractor) -> None:
    found = by_id(ex.extract("", "Iraqi security forces retook the town."))
    assert "org:iq-security-forces" in found


def test_state_bodies_and_led_coalitions_are_organisations(ex: EntityExtractor) -> None:
    text = (
        "The US-led coalition struck again, Syrian state media said. Iraqi officials and "
        "U.S. service members met; the U.S.-led coalition paid."
    )
    surfaces = {m.surface for m in ex.mentions("", text) if m.type == "organisation"}
    assert {"US-led coalition", "Syrian state media", "Iraqi officials", "U.S. service members"} <= surfaces
    assert "U.S.-led coalition" in surfaces
    assert "US" in ids(ex.extract("", text))  # the country still counts


def test_units_with_an_ordinal_are_organisations(ex: EntityExtractor) -> None:
    text = "Troops of the 3rd Battalion and the 101st Airborne Division joined the U.S. 5th Fleet."
    surfaces = {m.surface for m in ex.mentions("", text) if m.type == "organisation"}
    assert {"3rd Battalion", "101st Airborne Division", "5th Fleet"} <= surfaces
    # Without an ordinal a lone head word stays nothing.
    assert not [m for m in ex.mentions("", "The Battalion moved.") if m.type == "organisation"]


def test_armed_service_named_by_one_word(ex: EntityExtractor) -> None:
    text = "The Navy said nothing, Army Lt. Gen. Tom Pryce told reporters."
    found = {m.surface: m.type for m in ex.mentions("", text)}
    assert found["Navy"] == "organisation"
    assert found["Army"] == "organisation"


def test_name_after_an_organisation_noun_is_an_organisation(ex: EntityExtractor) -> None:
    text = "The dam was built by the German company Brennwerk and the militant group Jund Qarrab was blamed."
    orgs = {m.surface for m in ex.mentions("", text) if m.type == "organisation"}
    assert {"Brennwerk", "Jund Qarrab"} <= orgs
    assert not [m for m in ex.mentions("", text) if m.type == "person"]


def test_long_unknown_acronyms_are_organisations(ex: EntityExtractor) -> None:
    found = by_id(ex.extract("", "Officers from NAVCENT and USCENTCOM attended."))
    assert {"org:navcent", "org:uscentcom"} <= set(found)


def test_named_operations_are_neither_organisations_nor_people(ex: EntityExtractor) -> None:
    text = "The strikes were part of Operation Desert Hammer, and Exercise Eager Lion follows."
    kinds = {m.type for m in ex.mentions("", text)}
    assert "organisation" not in kinds
    assert "person" not in kinds


# -- people -----------------------------------------------------------------------------------------


def test_people_with_titles_and_later_surname_mentions(ex: EntityExtractor) -> None:
    text = (
        "Foreign Minister Anvar Qodirov opened the session. Later, Qodirov said the plan was ready. "
        "Rashid Normatov, the agency's spokesman, agreed. Normatov added little."
    )
    found = by_id(ex.extract("", text))
    qodirov = found["person:anvar-qodirov"]
    assert qodirov.count == 2
    assert qodirov.title == "Foreign Minister"
    assert qodirov.name == "Anvar Qodirov"
    assert found["person:rashid-normatov"].count == 2


def test_title_before_name_with_organisation_in_between(ex: EntityExtractor) -> None:
    text = "The Head of the Anti-Drug Department of the OSCE Pavel Ignatov spoke."
    person = by_id(ex.extract("", text))["person:pavel-ignatov"]
    assert person.title == "Head of the Anti-Drug Department of the OSCE"


def test_speech_verb_marks_a_person(ex: EntityExtractor) -> None:
    assert "person:dana-vorobyova" in ids(ex.extract("", '"It is real," explained Dana Vorobyova.'))
    assert "person:dana-vorobyova" in ids(ex.extract("", "Dana Vorobyova noted that it was real."))


def test_lone_name_after_a_verb_of_saying_is_a_person(ex: EntityExtractor) -> None:
    text = '"We train together," said Okonkwo. Another drill follows, says Marwick, next year.'
    people = {e.id for e in ex.extract("", text) if e.type == "person"}
    assert people == {"person:okonkwo", "person:marwick"}


def test_surname_without_its_arabic_article_joins_the_person(ex: EntityExtractor) -> None:
    text = "President Bashar al-Assad spoke. Later Assad left, and pro-government media praised Assad."
    person = by_id(ex.extract("", text))["person:bashar-al-assad"]
    assert person.count == 3


def test_arabic_given_names_start_people(ex: EntityExtractor) -> None:
    text = "The farm's owner, Jamal Qudsi, hires workers. The ministry was founded by Bassel Haddad in 1990."
    people = {e.id for e in ex.extract("", text) if e.type == "person"}
    assert {"person:jamal-qudsi", "person:bassel-haddad"} <= people


def test_no_people_from_sentence_starts_places_or_organisations(ex: EntityExtractor) -> None:
    text = "However Police Chief Omarov said nothing. Experts noted the risk. The European Union said no."
    people = [e for e in ex.extract("", text) if e.type == "person"]
    assert [p.id for p in people] == ["person:omarov"]


def test_all_caps_text_gives_no_garbage_people(ex: EntityExtractor) -> None:
    text = (
        "SAN SALVADOR, 12 JAN 90 -- [TEXT] THE ARMED FORCES PRESS COMMITTEE REPORTED THAT FMLN "
        "GUERRILLAS ATTACKED A POST IN SAN MIGUEL DEPARTMENT. COLONEL RENE EMILIO PONCE SAID THE "
        "ATTACK WAS REPELLED. US OFFICIALS IN WASHINGTON DECLINED TO COMMENT."
    )
    found = ex.extract("", text)
    assert not [e for e in found if e.type == "person"]
    assert "org:fmln" in ids(found)
    assert {"San Salvador", "Washington"} <= {e.name for e in found}
    assert "US" not in ids(found)  # "US" in capitals is also the pronoun


def test_title_case_headline_gives_no_people(ex: EntityExtractor) -> None:
    found = ex.extract("Security Chiefs Hold Talks In Astana", "Delegates met on Monday.")
    assert [e.type for e in found] == ["place"]


# -- API contract -----------------------------------------------------------------------------------


def test_order_is_type_then_count_then_name_and_deterministic(ex: EntityExtractor) -> None:
    text = "Russia and Iran met in Vienna. Russia spoke first; the OSCE and NATO listened. Iran left."
    first = ex.extract("Talks", text)
    assert first == ex.extract("Talks", text)
    assert [e.id for e in first][:2] == ["IR", "RU"]  # equal counts: by name
    types = [e.type for e in first]
    assert types == sorted(types, key=["country", "place", "organisation", "person"].index)


def test_mentions_have_spans_into_their_source(ex: EntityExtractor) -> None:
    title, text = "NATO summit", "Leaders met in Brussels."
    for m in ex.mentions(title, text):
        assert isinstance(m, Mention)
        body = title if m.source == "title" else text
        assert body[m.start : m.end] == m.surface


def test_empty_input(ex: EntityExtractor) -> None:
    assert ex.extract("", "") == []


# -- fixture article and seed ------------------------------------------------------------------------


def _split_article(raw: str) -> tuple[str, str]:
    title, _, body = raw.partition("\n")
    return title.strip(), body


def test_project_fixture_article(ex: EntityExtractor) -> None:
    expected = json.loads((FIXTURES / "border_meeting.expected.json").read_text(encoding="utf-8"))
    found = ex.extract(*_split_article((FIXTURES / "border_meeting.txt").read_text(encoding="utf-8")))
    have = by_id(found)
    names = {e.name for e in found if e.type == "place"}
    for etype, wanted in expected["must"].items():
        if etype == "place":
            assert set(wanted) <= names, set(wanted) - names
        else:
            assert set(wanted) <= set(have), set(wanted) - set(have)
    for pid, title in expected["person_titles"].items():
        assert have[pid].title == title
    for eid, count in expected["min_counts"].items():
        assert have[eid].count >= count, eid
    assert not set(expected["must_not"]) & set(have)


@pytest.mark.skipif(not SEED.is_file(), reason="shared seed data not present")
def test_seed_article(ex: EntityExtractor) -> None:
    found = ex.extract(*_split_article(SEED.read_text(encoding="utf-8")))
    have = by_id(found)
    names = {e.name for e in found}
    assert {"KZ", "RU", "US", "KG", "TJ", "TM"} <= set(have)
    assert {"Astana", "Vienna", "Athens"} <= names
    assert {"org:osce", "org:eu"} <= set(have)
    people = {e.id for e in found if e.type == "person"}
    assert {
        "person:nurtai-abykayev",
        "person:kanat-saudabayev",
        "person:ilya-rogachev",
        "person:raphael-perl",
        "person:ian-kelly",
        "person:vladimir-chizhov",
    } == people
    assert have["person:nurtai-abykayev"].title == "Chairman of the Kazakhstan National Security Committee"
    assert have["person:kanat-saudabayev"].title == "Foreign Affairs Minister"


# -- how re3d judges the extractor (monitor.evaluation.entities) -------------------------------------


def test_plural_demonym_is_a_group_of_people_for_re3d() -> None:
    from monitor.evaluation.entities import gold_type_of

    assert gold_type_of("country", "demonym", "Syrians") == "Organisation"
    assert gold_type_of("country", "demonym", "Syrian") == "Nationality"
    assert gold_type_of("country", "demonym", "Swiss") == "Nationality"


def test_canonical_names_compare_names_not_descriptions() -> None:
    from monitor.evaluation.entities import is_proper_name

    for name in ("Army of the Victorious Sect", "al-Qaeda in Iraq", "the Pentagon", "292 Iraqis"):
        assert is_proper_name(name), name
    descriptions = ("U.S. officials", "the government of Iraq", "ISIL-held buildings", "the Iraqi commander")
    for description in descriptions:
        assert not is_proper_name(description), description


def test_provinces_and_states_are_places_with_their_country(ex: EntityExtractor) -> None:
    text = (
        "Troops moved from Al Anbar into northern Salah ad Din Province. Strikes hit Dayr az Zawr. "
        "Fighting went on in Helmand and in Donetsk Oblast. Gunmen attacked villages in Plateau State."
    )
    places = {m.surface: (m.entity_id, m.country) for m in ex.mentions("", text) if m.type == "place"}
    assert places["Al Anbar"] == ("iso3166-2:IQ-AN", "IQ")
    assert places["Salah ad Din Province"] == ("iso3166-2:IQ-SD", "IQ")
    assert places["Dayr az Zawr"][1] == "SY"
    assert places["Helmand"] == ("iso3166-2:AF-HEL", "AF")
    assert places["Donetsk Oblast"] == ("iso3166-2:UA-14", "UA")
    assert places["Plateau State"] == ("iso3166-2:NG-PL", "NG")


def test_province_names_that_are_words_or_names_are_not_places(ex: EntityExtractor) -> None:
    text = (
        "Meta said on Monday that Sheikh Sabah met officials from the West and the Gulf. Bayern won, "
        "and the Florida Department of Law Enforcement said a Falcon jet landed on the Plateau."
    )
    assert not [m for m in ex.mentions("", text) if m.entity_id.startswith("iso3166-2:")]
    assert "org:florida-department-of-law-enforcement" in ids(ex.extract("", text))


def test_arabic_article_before_its_sun_letter_joins_a_name(ex: EntityExtractor) -> None:
    found = {m.surface for m in ex.mentions("", "Clashes near Ar Raqqah and As Sulaymaniyah.")}
    assert {"Ar Raqqah", "As Sulaymaniyah"} <= found
    # English "as" between names does not join them.
    assert {"Iran", "Turkey"} <= {m.surface for m in ex.mentions("", "Iran as Turkey said.")}


def test_gold_names_drop_parts_possessives_and_roles() -> None:
    from monitor.evaluation.entities import gold_canonical

    def span(begin: int, value: str, typ: str) -> dict:
        return {"begin": begin, "end": begin + len(value), "type": typ, "value": value}

    gold = [
        span(0, "Iraqi Army", "Organisation"),
        span(6, "Army", "Organisation"),  # the same mention, annotated twice
        span(20, "lieutenant Omar Haddad", "Person"),
        span(50, "Haddad’s", "Person"),
        span(70, "Woodbridge, Virginia", "Location"),
        span(82, "Virginia", "Location"),  # a place of its own
    ]
    names = gold_canonical(gold, lambda text, typ: (typ, text))
    assert names == {
        ("Organisation", "iraqi-army"),
        ("Person", "omar-haddad"),
        ("Location", "woodbridge-virginia"),
        ("Location", "virginia"),
    }


def test_roles_without_a_name_have_no_canonical_name(ex: EntityExtractor) -> None:
    from monitor.evaluation.entities import extractor_canonicaliser

    canonical = extractor_canonicaliser(ex)
    assert canonical("President of Syria", "Person") is None
    assert canonical("Mr Colville", "Person") == ("Person", "Colville")


def test_a_quoted_nickname_inside_a_name_leaves_one_person(ex: EntityExtractor) -> None:
    text = (
        '"We will strike again," said Col. John "J.D." Kettering, the task force spokesman. '
        "Sgt. Richard 'Tex' Holloway was wounded. The \"Desert Hawks\" brigade withdrew."
    )
    people = {e.name for e in ex.extract("", text) if e.type == "person"}
    assert {"John Kettering", "Richard Holloway"} <= people
    assert not people & {"John", "Kettering", "Richard", "Holloway", "J.D.", "Tex"}


# -- capitalisation and name particles ------------------------------------------------------------


def test_state_body_is_one_entity_however_capitalised(ex: EntityExtractor) -> None:
    title = "Dutch Police Detain Two Men After Port Raid"
    text = "Dutch police detained two men in Rotterdam. Later the Dutch Police released one of them."
    orgs = [e for e in ex.extract(title, text) if e.type == "organisation"]
    assert [(e.id, e.count) for e in orgs] == [("org:nl-police", 3)]
    assert orgs[0].name == "Dutch police"  # the running text's form, not the headline's


def test_capitalised_name_particles_work_like_lower_case_ones(ex: EntityExtractor) -> None:
    text = (
        "Rafael Van der Berg said the port was closed. Mayor Lotte De Smet agreed, and "
        "Youssef Al Amin said the same. Later Van der Berg and De Smet left."
    )
    found = by_id(ex.extract("", text))
    assert found["person:rafael-van-der-berg"].mentions == ("Rafael Van der Berg", "Van der Berg")
    assert found["person:lotte-de-smet"].mentions == ("Lotte De Smet", "De Smet")
    assert "person:youssef-al-amin" in found
    lower = by_id(ex.extract("", "Rafael van der Berg said the port was closed."))
    assert "person:rafael-van-der-berg" in lower


def test_role_before_a_name_in_commas(ex: EntityExtractor) -> None:
    text = "The Minister of Justice, Joris Peeters, visited the court on Monday."
    person = by_id(ex.extract("", text))["person:joris-peeters"]
    assert person.title == "Minister of Justice"


# -- organisation names ---------------------------------------------------------------------------


def test_lower_case_arabic_article_before_a_known_organisation(ex: EntityExtractor) -> None:
    found = by_id(ex.extract("", "Police said al-Shabaab and al Qaeda claimed the bombing."))
    assert found["org:al-qaeda"].mentions == ("al Qaeda",)
    assert "org:al-shabaab" in found


def test_nested_head_words_make_one_organisation(ex: EntityExtractor) -> None:
    text = "Officers of the 3rd Special Forces Group and the Joint Forces Land Component Command met."
    orgs = {e.id for e in ex.extract("", text) if e.type == "organisation"}
    assert orgs == {"org:3rd-special-forces-group", "org:joint-forces-land-component-command"}


def test_and_joins_field_names_not_a_name_and_a_ministry(ex: EntityExtractor) -> None:
    orgs = {
        e.id
        for e in ex.extract("", "Hamdan and Health Ministry officials met the Trade and Industry Ministry.")
    }
    assert "org:health-ministry" in orgs and "org:trade-and-industry-ministry" in orgs
    assert not any(i.startswith("org:hamdan") for i in orgs)


def test_armed_group_named_army_of(ex: EntityExtractor) -> None:
    found = by_id(ex.extract("", "Fighters of the Army of the Righteous Path shelled the town."))
    assert "org:army-of-the-righteous-path" in found


def test_numbered_task_force_after_its_acronym(ex: EntityExtractor) -> None:
    found = ids(ex.extract("", "The destroyer joined CTF 151 in the Gulf of Aden, NATO 2030 aside."))
    assert "org:ctf-151" in found and "org:ctf" not in found
    assert "org:nato" in found


def test_country_of_an_organisations_branch_counts(ex: EntityExtractor) -> None:
    found = by_id(ex.extract("", "Leaders of al-Qaeda in Iraq were killed in a raid."))
    assert found["org:al-qaeda"].mentions == ("al-Qaeda in Iraq",)
    assert found["IQ"].mentions == ("Iraq",)


# -- names on news not seen before: acronyms, titles, long bodies ----------------------------------


def test_acronym_defined_in_the_text_is_the_full_names_entity(ex: EntityExtractor) -> None:
    text = (
        "Officers of the Northern Border Protection Command (NBPC) stopped a convoy on Monday. "
        "A day later the NBPC said the drivers had been released."
    )
    orgs = [e for e in ex.extract("", text) if e.type == "organisation"]
    assert len(orgs) == 1
    assert orgs[0].name == "Northern Border Protection Command"
    assert orgs[0].count == 3
    assert set(orgs[0].mentions) == {"Northern Border Protection Command", "NBPC"}


def test_acronym_first_with_its_full_name_in_parentheses(ex: EntityExtractor) -> None:
    text = "The QRDF (Quick Reaction Defence Force) moved north. The QRDF lost two vehicles."
    orgs = [e for e in ex.extract("", text) if e.type == "organisation"]
    assert [(e.name, e.count) for e in orgs] == [("Quick Reaction Defence Force", 3)]


def test_parentheses_after_a_body_that_do_not_spell_it_stay_apart(ex: EntityExtractor) -> None:
    # A news agency or another body's acronym in parentheses is no definition.
    text = "The Harbour Police Directorate (ZX) gave no figures; the Customs Union (KLM) did."
    found = ids(ex.extract("", text))
    assert {"org:harbour-police-directorate", "org:zx", "org:customs-union", "org:klm"} <= found


def test_gazetteer_acronym_and_its_full_name_are_one_entity(ex: EntityExtractor) -> None:
    text = (
        "The EU Agency for Cybersecurity published a warning for ports. Later ENISA added "
        "that the French General Directorate for Internal Security had seen the same tools; "
        "the DGSI declined to comment. The EU Border Assistance Mission and EUBAM are one mission."
    )
    found = by_id(ex.extract("", text))
    assert found["org:enisa"].count == 2
    assert found["org:dgsi"].count == 2
    assert found["org:eubam"].count == 2
    assert not {"org:eu-agency-for-cybersecurity", "org:directorate-for-internal-security"} & set(found)


def test_gazetteer_acronym_defined_in_the_text(ex: EntityExtractor) -> None:
    text = "Commanders of the Islamic Revolutionary Guard Corps (IRGC) met. The IRGC denied it."
    orgs = [e for e in ex.extract("", text) if e.type == "organisation"]
    assert [(e.id, e.count) for e in orgs] == [("org:irgc", 3)]


def test_surname_alone_after_the_full_name_is_the_same_person(ex: EntityExtractor) -> None:
    text = "Prime Minister Haider al-Abadi visited the front. Later Abadi said the offensive would go on."
    people = [e for e in ex.extract("", text) if e.type == "person"]
    assert [(e.id, e.name, e.count) for e in people] == [("person:haider-al-abadi", "Haider al-Abadi", 2)]
    text = "Interior Minister Marta Kowalczyk arrived late. Kowalczyk told reporters she was tired."
    people = [e for e in ex.extract("", text) if e.type == "person"]
    assert [(e.id, e.count) for e in people] == [("person:marta-kowalczyk", 2)]


@pytest.mark.parametrize(
    ("text", "person_id", "title"),
    [
        (
            "The Deputy Minister of Transport, Marek Horvat, said the bridge would reopen.",
            "person:marek-horvat",
            "Deputy Minister of Transport",
        ),
        (
            "Its deputy director, Sara Nilsson, said training was not enough.",
            "person:sara-nilsson",
            "deputy director",
        ),
        (
            "Officers trained in May, said Peter Olsen, director of border policing at the ministry.",
            "person:peter-olsen",
            "director of border policing at the ministry",
        ),
        (
            "Maria Santos, a senior adviser at the Regional Drug Control Agency, said seizures rose.",
            "person:maria-santos",
            "senior adviser at the Regional Drug Control Agency",
        ),
        # After the title only its complement: the clause that follows is no part of it.
        ("John Miller, a lawyer representing the family, said little.", "person:john-miller", "lawyer"),
        ("Dr. Jane Holt and Sheikh Rashid Haddad opened the clinic.", "person:rashid-haddad", "Sheikh"),
        ("Prime Minister Theresa May met President Emmanuel Macron.", "person:emmanuel-macron", "President"),
    ],
)
def test_title_captured_and_not_part_of_the_name(
    ex: EntityExtractor, text: str, person_id: str, title: str
) -> None:
    found = by_id(ex.extract("", text))
    assert found[person_id].title == title
    assert not any(w in found[person_id].name for w in title.split() if w[:1].isupper())


def test_name_without_a_role_gets_no_title(ex: EntityExtractor) -> None:
    found = by_id(ex.extract("", "Rick Sandoval, who backed the plan, said it would pass."))
    assert found["person:rick-sandoval"].title is None


def test_chair_of_a_forum_is_no_person(ex: EntityExtractor) -> None:
    text = (
        "Opening the session, the Chair of the Forum for Security Co-operation, Ambassador "
        "Lena Berg of Norway, spoke first."
    )
    found = by_id(ex.extract("", text))
    assert [e.id for e in found.values() if e.type == "person"] == ["person:lena-berg"]
    assert found["person:lena-berg"].title == "Ambassador"
    assert "org:forum-for-security-co-operation" in found


@pytest.mark.parametrize(
    "name",
    [
        "UN Office of Counter-Terrorism",
        "Foreign Affairs Ministers Council of the OSCE",
        "Federal Prosecutor's Office",
        "Office for Democratic Institutions and Human Rights",
        "Committee on Foreign Relations",
        "Council of Ministers",
        "Transnational Threats Department",
    ],
)
def test_long_organisation_names_are_not_cut(ex: EntityExtractor, name: str) -> None:
    text = f"On Friday a spokesman for the {name} said the report was wrong."
    orgs = [e for e in ex.extract("", text) if e.type == "organisation"]
    assert name in {e.name for e in orgs} or name in {m for e in orgs for m in e.mentions}
    assert not any(len(e.name) < len(name) and e.name in name for e in orgs if e.id != "org:osce")


def test_possessive_of_a_person_is_no_office(ex: EntityExtractor) -> None:
    found = ids(ex.extract("", "On Tuesday police searched John Hardy's Office and the Mayor's Office."))
    assert "org:mayor-s-office" in found
    assert not any(i.startswith("org:") and "hardy" in i for i in found)
    found = ids(ex.extract("", "He visited the Office on Tuesday."))
    assert not any(i.startswith("org:") for i in found)


def test_role_before_a_phrase_that_holds_the_body_and_the_name(ex: EntityExtractor) -> None:
    text = "The head of the OSCE Border Management Department Ivo Marek spoke. Marek said little."
    found = by_id(ex.extract("", text))
    assert found["person:ivo-marek"].title == "head of the OSCE Border Management Department"
    assert found["person:ivo-marek"].count == 2
    assert "org:osce-border-management-department" in found  # the body ends before the name


def test_acronym_cuts_a_name_found_too_long_to_what_it_spells(ex: EntityExtractor) -> None:
    text = "The Geneva-based World Curling Association (WCA) met. The WCA agreed."
    orgs = [e for e in ex.extract("", text) if e.type == "organisation"]
    assert [(e.name, e.count) for e in orgs] == [("World Curling Association", 3)]


def test_branch_named_again_without_its_body_is_one_entity(ex: EntityExtractor) -> None:
    text = "The OSCE Forum for Arms Dialogue met in Vienna. The chair of the Forum for Arms Dialogue spoke."
    orgs = by_id(ex.extract("", text))
    assert orgs["org:osce-forum-for-arms-dialogue"].count == 2
    assert "org:forum-for-arms-dialogue" not in orgs


def test_capitalised_role_in_apposition_makes_a_person(ex: EntityExtractor) -> None:
    text = "Lucia Ferrante, Deputy High Representative for Maritime Affairs, said the talks had failed."
    found = by_id(ex.extract("", text))
    assert found["person:lucia-ferrante"].title == "Deputy High Representative for Maritime Affairs"


def test_title_that_is_a_surname_after_a_given_name_is_the_surname(ex: EntityExtractor) -> None:
    text = "Defence Minister Karen Bishop met Sir Colin Major. Judge Alan Crane heard the bishop of Ely."
    people = {e.id: e for e in ex.extract("", text) if e.type == "person"}
    assert set(people) == {"person:karen-bishop", "person:colin-major", "person:alan-crane"}
    assert people["person:karen-bishop"].title == "Defence Minister"
    # a role after a given name stays a role: no one is called "President"
    assert not [e for e in ex.extract("", "Omar President of the club left.") if e.type == "person"]


@pytest.mark.parametrize(
    "name",
    [
        "Ministry of Justice",
        "Office of the Director of National Intelligence",
        "Office of the Deputy Prime Minister",
        "Federal Office for the Protection of the Constitution",
        "Ministry of Zorbak Development",
    ],
)
def test_title_words_and_of_the_inside_a_body_name(ex: EntityExtractor, name: str) -> None:
    found = ex.extract("", f"The {name} said on Monday that the report was wrong.")
    assert [(e.type, e.name) for e in found] == [("organisation", name)]


def test_a_body_name_stops_before_a_role_and_another_body(ex: EntityExtractor) -> None:
    text = (
        "Ministry of Justice Spokesman Zorbak Blint said the Office for Audit of the Zorbak Academy "
        "of Arts agreed."
    )
    found = {(e.type, e.name) for e in ex.extract("", text)}
    assert {
        ("organisation", "Ministry of Justice"),
        ("person", "Zorbak Blint"),
        ("organisation", "Office for Audit"),
        ("organisation", "Zorbak Academy of Arts"),
    } <= found


def test_a_peoples_possessive_inside_a_body_name(ex: EntityExtractor) -> None:
    text = (
        "The Zorbak People's Court jailed him. The Kurdistan Workers' Party denied it, and the "
        "Zorbak Farmers' Union agreed. Police searched the Blint' Office."
    )
    orgs = {(m.surface, m.entity_id) for m in ex.mentions("", text) if m.type == "organisation"}
    assert orgs == {
        ("Zorbak People's Court", "org:zorbak-people-s-court"),
        ("Kurdistan Workers' Party", "org:pkk"),  # the gazetteer's entry, written with the apostrophe
        ("Zorbak Farmers' Union", "org:zorbak-farmers-union"),
    }


def test_a_demonym_and_a_word_for_land_name_a_location(ex: EntityExtractor) -> None:
    text = "Troops crossed the Turkish border into Syrian territory; Syrian officials protested."
    found = [(m.surface, m.type) for m in ex.mentions("", text)]
    assert ("Turkish border", "location") in found and ("Syrian territory", "location") in found
    # the demonyms still count for their countries, and only a word for land makes a location
    assert found.count(("Syrian", "country")) == 2 and ("Turkish", "country") in found
    assert len([f for f in found if f[1] == "location"]) == 2
