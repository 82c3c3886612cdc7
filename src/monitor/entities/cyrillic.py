"""Entities in Cyrillic text (Russian news, and the names of Central Asian and Ukrainian texts).

The English finder (`phrases`, `plan`) starts phrases at Latin capitals only; it is left as it is,
and a text with Cyrillic letters also goes through this smaller finder, whose mentions carry the
same ids as the English ones:

* Countries, cities and organisations come from the Cyrillic table of the gazetteer
  (`build_cyrillic_table`): pycountry's gettext catalogues (ru, uk, be, kk, ky, tg, bg, mn) and the
  files data/*.ru.tsv, keyed by the lemmas of their words (`morph_ru.lemma`), so "Казахстана",
  "Казахстане" and "Организации по безопасности и сотрудничеству в Европе" match their
  nominative. A match starts at a capitalised word; the words after it may be lower case, as
  Russian writes names ("Совет Безопасности ООН", "Исламское государство").
* The other runs of capitalised words are people when a title is before them ("президент
  Казахстана Касым-Жомарт Токаев"), when the dictionary knows a word as a given name or surname,
  or when the last word ends like a Russian surname (-ов, -ев, -ин, -ский, in any case). The
  person id is the Latin spelling of the nominative (`translit.to_latin`): "Нуртая Абыкаева" ->
  person:nurtai-abykayev, the id the English text gives "Nurtai Abykayev". A lone surname or given
  name of a person named in full elsewhere in the article counts for that person.
* An unknown acronym in Cyrillic capitals (КНБ, ГКНБ) is an organisation, its id the Latin
  spelling ("org:gknb"), as the English finder makes "org:" + acronym.
"""

from __future__ import annotations

import gettext
import re

import pycountry

from monitor.entities.gazetteer import Target, _data_lines, load_word_set, slugify, tokenize_key
from monitor.entities.mention import Mention, new_mention
from monitor.entities.morph_ru import (
    given_nominative,
    is_feminine_given_name,
    lemma,
    name_tags,
    surname_nominative,
)
from monitor.entities.translit import to_latin

CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
_TOKEN_RE = re.compile(r"\w+(?:-\w+)*")
# pycountry's catalogues in Cyrillic script for the region's languages.
CYRILLIC_LOCALES = ("ru", "uk", "be", "kk", "ky", "tg", "bg", "mn", "sr")
_SURNAME_RE = re.compile(r"(?:ов|ев|ёв|ин|ын)(?:а|у|ым|ом|е|ой)?$|(?:ск|цк)(?:ий|ого|ому|им|ом|ая|ой|ую)$")
_PATRONYMIC_RE = re.compile(r"(?:ович|евич|ич|овна|евна|ична|инична)(?:а|у|ем|ом|е|ой|ы)?$")
_MAX_KEY = 8  # tokens of the longest form ("Организация по безопасности и сотрудничеству в Европе")


def form_key(form: str) -> str:
    """The lemma key of a form: its words' lemmas joined by spaces."""
    return " ".join(lemma(m.group()) for m in _TOKEN_RE.finditer(form))


def _is_cyrillic_capital(word: str) -> bool:
    return "\u0400" <= word[0] <= "\u04ff" and word[0].isupper()


def build_cyrillic_table(table: dict[str, Target]) -> dict[str, Target]:
    """The Cyrillic forms of countries, organisations and cities, by lemma key, targeting what the
    English `table` has for them (same ids, display names and countries). Countries first, then
    organisations, then cities: the first source of a key keeps it."""
    out: dict[str, Target] = {}

    def add(form: str, target: Target) -> None:
        for key in {form_key(form), form.lower().replace("ё", "е")}:
            if key:
                out.setdefault(key, target)

    countries = {t.id: t for t in table.values() if t.type == "country" and t.kind == "name"}
    for line in _data_lines("country_variants.ru.tsv"):
        code, forms = line.split("\t")
        for form in forms.split("|"):
            add(form, countries[code])
    for language in CYRILLIC_LOCALES:
        catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        for country in pycountry.countries:
            target = countries.get(country.alpha_2)
            if target is None:
                continue
            for attr in ("common_name", "name", "official_name"):
                english = getattr(country, attr, None)
                native = catalogue.gettext(english) if english else None
                if native and native != english and "," not in native and "(" not in native:
                    add(native.replace("\u0301", ""), target)  # a stress mark: "Респу́блика"
    names = {}
    for line in _data_lines("organisations.tsv"):
        slug, name, _ = line.split("\t")
        names[slug] = name
    for line in _data_lines("organisations.ru.tsv"):
        slug, forms = line.split("\t")
        slug, _, display = slug.partition("=")
        target = Target("organisation", f"org:{slug}", display or names[slug], precedence=1)
        for form in forms.split("|"):
            add(form, target)
    regions = {t.id: t for t in table.values() if t.type == "location" and t.kind == "name"}
    for line in _data_lines("regions.ru.tsv"):
        slug, forms = line.split("\t")
        for form in forms.split("|"):
            add(form, regions[f"loc:{slug}"])
    for line in _data_lines("place_variants.ru.tsv"):
        name, code, forms = line.split("\t")
        target = table.get(tokenize_key(name))
        if target is None or target.type != "place" or target.country != code:
            continue  # not in this GeoNames release under that name
        for form in forms.split("|"):
            add(form, target)
    return out


class CyrillicFinder:
    """Finds the mentions of the Cyrillic words of a title or text against one Cyrillic table."""

    def __init__(self, table: dict[str, Target]) -> None:
        self.table = table
        self.longest: dict[str, int] = {}
        for key in table:
            first, _, _ = key.partition(" ")
            self.longest[first] = max(self.longest.get(first, 0), key.count(" ") + 1)
        self.titles = load_word_set("person_titles.ru.txt")

    def mentions(self, title: str, text: str) -> list[Mention]:
        out: list[Mention] = []
        pending: list[tuple[str, str, int, int, str]] = []  # lone names: source, body, span, word
        full: dict[str, tuple[str, str]] = {}  # first or last word of a full name -> (id, name)
        for source, body in (("title", title), ("text", text)):
            if body and CYRILLIC_RE.search(body):
                self._scan(body, source, out, pending, full)
        for source, body, start, end, word in pending:
            hit = full.get(surname_nominative(word)) or full.get(given_nominative(word))
            if hit is not None:
                out.append(
                    new_mention(
                        (start, end, "person", hit[0], hit[1], body[start:end], "name", source, None, None)
                    )
                )
        return out

    def _scan(
        self,
        body: str,
        source: str,
        out: list[Mention],
        pending: list[tuple[str, str, int, int, str]],
        full: dict[str, tuple[str, str]],
    ) -> None:
        toks = [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(body)]
        n = len(toks)
        i = 0
        while i < n:
            start, _, word = toks[i]
            if not _is_cyrillic_capital(word):
                i += 1
                continue
            hit = self._match(body, toks, i)
            if hit is not None:
                j, target = hit
                stop = toks[j - 1][1]
                out.append(
                    new_mention(
                        (
                            start,
                            stop,
                            target.type,
                            target.id,
                            target.name,
                            body[start:stop],
                            target.kind,
                            source,
                            None,
                            target.country,
                        )
                    )
                )
                i = j
                continue
            j = i + 1  # the run of capitalised words, one space apart, none a gazetteer form
            while (
                j < n
                and _is_cyrillic_capital(toks[j][2])
                and body[toks[j - 1][1] : toks[j][0]] == " "
                and self._match(body, toks, j) is None
            ):
                j += 1
            self._run(body, source, toks, i, j, out, pending, full)
            i = j

    def _match(self, body: str, toks: list[tuple[int, int, str]], i: int) -> tuple[int, Target] | None:
        """The longest table form starting at token i: (end token, target)."""
        first = lemma(toks[i][2])
        longest = self.longest.get(first, 0)
        if longest == 0:
            target = self.table.get(toks[i][2].lower().replace("ё", "е"))
            return None if target is None else (i + 1, target)
        k = i + 1
        keys = [first]
        while k < len(toks) and k - i < min(longest, _MAX_KEY) and body[toks[k - 1][1] : toks[k][0]] == " ":
            keys.append(lemma(toks[k][2]))
            k += 1
        for length in range(len(keys), 0, -1):
            target = self.table.get(" ".join(keys[:length]))
            if target is not None:
                return i + length, target
        target = self.table.get(toks[i][2].lower().replace("ё", "е"))
        return None if target is None else (i + 1, target)

    def _run(
        self,
        body: str,
        source: str,
        toks: list[tuple[int, int, str]],
        i: int,
        j: int,
        out: list[Mention],
        pending: list[tuple[str, str, int, int, str]],
        full: dict[str, tuple[str, str]],
    ) -> None:
        words = [t[2] for t in toks[i:j]]
        start, end = toks[i][0], toks[j - 1][1]
        if len(words) == 1 and words[0].isupper() and 2 <= len(words[0]) <= 6:
            acronym = words[0]  # an unknown acronym: an organisation, as in English text
            org_id = "org:" + slugify(to_latin(acronym)).replace("-", "")
            out.append(
                new_mention(
                    (start, end, "organisation", org_id, acronym, acronym, "name", source, None, None)
                )
            )
            return
        before = lemma(toks[i - 1][2]) if i > 0 else ""
        titled = before in self.titles
        if len(words) > 3 or any(w.isupper() and len(w) > 1 for w in words):
            return
        if len(words) == 1:
            if titled and (_SURNAME_RE.search(words[0]) or name_tags(words[0])):
                self._person(body, source, start, end, words, toks[i - 1][2], out, full)
            else:
                pending.append((source, body, start, end, words[0]))
            return
        tags = [name_tags(w) for w in words]
        if titled or "Name" in tags[0] or "Surn" in tags[-1] or _SURNAME_RE.search(words[-1]):
            self._person(body, source, start, end, words, toks[i - 1][2] if titled else None, out, full)

    def _person(
        self,
        body: str,
        source: str,
        start: int,
        end: int,
        words: list[str],
        role: str | None,
        out: list[Mention],
        full: dict[str, tuple[str, str]],
    ) -> None:
        if len(words) == 3 and _PATRONYMIC_RE.search(words[1]):
            words = [words[0], words[2]]  # English news leaves the patronymic out
        if len(words) == 1:
            parts = [surname_nominative(words[0])]
        else:
            feminine = is_feminine_given_name(words[0])
            parts = [given_nominative(w) for w in words[:-1]] + [surname_nominative(words[-1], feminine)]
        name = " ".join(parts)
        person_id = "person:" + slugify(to_latin(name))
        if len(parts) > 1:
            full.setdefault(parts[-1], (person_id, name))
            full.setdefault(parts[0], (person_id, name))
        out.append(
            new_mention((start, end, "person", person_id, name, body[start:end], "name", source, role, None))
        )
