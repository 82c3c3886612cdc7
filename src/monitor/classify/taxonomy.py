"""Load and validate a topic taxonomy (YAML) into frozen dataclasses.

The taxonomy is data that analysts edit by hand, so every mistake must come back as a
`TaxonomyError` naming the file and the line. We therefore walk the YAML *node* tree (which keeps
marks) instead of the plain Python objects `yaml.safe_load` returns (which forget where they came
from and silently keep the last of two duplicate keys).

File shape::

    version: "2025.1"            # required; part of Classifier.version
    default_language: en         # optional (en); used when an article's language is unknown
    topics:
      - id: terrorism            # snake_case, unique
        label: Terrorism
        description: ...
        iptc: medtop:20000103    # or null where IPTC has no matching topic
        gdelt: [TERROR]
        threshold: 3.0           # a topic fires when its score reaches this
        terms:                   # per language: more languages can be added later
          en:
            - {term: "terroris*", weight: 3}                 # trailing * = word prefix
            - {term: "car bomb*", weight: 4, variants: ["car-bomb*"]}
            - {term: "IED", regex: '\\bieds?\\b', weight: 3}  # regex on the lower-cased text
        negative:                # context that cancels an overlapping term occurrence
          en:
            - "box office bomb*"
            - {regex: 'bomb\\w* at the box office'}

A language is data: beside ``security.yaml`` a file ``security.<lang>.yaml`` (``load_taxonomy``
finds it; ``merge_language_files`` merges it) adds that language's terms to the topics by id::

    language: ru                 # must match the file name
    version: "2026.1"            # required; bump it when you change the file
    off_topic: [...]             # optional, as off_topic.<lang> above
    topics:
      - id: terrorism            # a topic of the main file
        terms: [...]             # as terms.<lang> above
        negative: [...]          # optional, as negative.<lang> above

A language may be defined in one file only. The taxonomy's `content_hash` covers every file (so the
classifier version changes with any of them); `base_hash` is the main file's alone (what the learned
layer, trained on the main file's languages, was built for).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from monitor.errors import TaxonomyError

_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_IPTC = re.compile(r"^medtop:\d{8}$")
_GDELT = re.compile(r"^[A-Z][A-Z0-9_]*$")
# A phrase word: letters/digits, optionally ending in `*` (prefix match). Anything else
# (punctuation, hyphens, apostrophes) separates words, exactly as the matcher tokenises text.
_PHRASE_WORD = re.compile(r"\w+\*?|\*")
# Weights above this make one word decide a topic on its own many times over; that is a typo.
_MAX_WEIGHT = 10.0


@dataclass(frozen=True)
class Term:
    """One taxonomy term. `term` is the text shown as evidence; `patterns` are what is matched.

    A phrase pattern is a tuple of words, each `(text, is_prefix)`; `regex` is an alternative to
    phrases for the rare term that needs one (it is matched on the lower-cased text).
    """

    term: str
    weight: float
    phrases: tuple[tuple[tuple[str, bool], ...], ...]
    regex: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Negative:
    """Disambiguating context: a phrase or regex whose match cancels overlapping term occurrences."""

    text: str
    phrase: tuple[tuple[str, bool], ...] | None
    regex: str | None
    line: int = 0


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    description: str
    iptc: str | None
    gdelt: tuple[str, ...]
    threshold: float
    terms: Mapping[str, tuple[Term, ...]]  # language -> terms
    negative: Mapping[str, tuple[Negative, ...]]  # language -> negative context


@dataclass(frozen=True)
class Taxonomy:
    version: str
    default_language: str
    topics: tuple[Topic, ...]
    source: str  # file name, for messages
    content_hash: str  # sha256 of the file's bytes, hex
    # Vocabulary of other news kinds (film, sport, markets): raises every threshold (rules.py).
    off_topic: Mapping[str, tuple[Term, ...]] = field(default_factory=dict)
    # sha256 of the main file alone ("" = content_hash: no language files were merged).
    base_hash: str = ""
    # Languages merged from their own files: language -> (that file's version, its source).
    language_files: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(lang for topic in self.topics for lang in topic.terms) | frozenset(self.off_topic)


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and validate a taxonomy file and the language files beside it (`<stem>.<lang>.yaml`)."""
    path = Path(path)
    base = parse_taxonomy(_read(path), source=str(path))
    siblings = sorted(path.parent.glob(f"{path.stem}.*{path.suffix}"))
    return merge_language_files(
        base, [(_read(p), str(p)) for p in siblings if language_file_of(path.name, p.name)]
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy: {exc}") from exc


def language_file_of(main_name: str, name: str) -> str | None:
    """The language of file `name` when it is a language file of `main_name`
    ("security.yaml", "security.ru.yaml" -> "ru"), else None."""
    stem, dot, suffix = main_name.rpartition(".")
    match = re.fullmatch(re.escape(stem) + r"\.([a-z]{2,3})\." + re.escape(suffix), name) if dot else None
    return match.group(1) if match else None


def merge_language_files(base: Taxonomy, files: Sequence[tuple[str, str]]) -> Taxonomy:
    """`base` with the languages of these (text, source) language files added to its topics."""
    if not files:
        return base
    terms: dict[str, dict[str, tuple[Term, ...]]] = {t.id: dict(t.terms) for t in base.topics}
    negative: dict[str, dict[str, tuple[Negative, ...]]] = {t.id: dict(t.negative) for t in base.topics}
    off_topic = dict(base.off_topic)
    language_files: dict[str, tuple[str, str]] = dict(base.language_files)
    hashes = []
    for text, source in files:
        part = _parse_language_file(text, source, base, language_files)
        language_files[part.language] = (part.version, source)
        for topic_id, found in part.terms.items():
            terms[topic_id][part.language] = found
        for topic_id, context in part.negative.items():
            negative[topic_id][part.language] = context
        if part.off_topic:
            off_topic[part.language] = part.off_topic
        hashes.append(f"{part.language}:{hashlib.sha256(text.encode('utf-8')).hexdigest()}")
    base_hash = base.base_hash or base.content_hash
    combined = hashlib.sha256("\n".join([base_hash, *sorted(hashes)]).encode("ascii")).hexdigest()
    topics = tuple(
        Topic(
            id=t.id,
            label=t.label,
            description=t.description,
            iptc=t.iptc,
            gdelt=t.gdelt,
            threshold=t.threshold,
            terms=terms[t.id],
            negative=negative[t.id],
        )
        for t in base.topics
    )
    return Taxonomy(
        version=base.version,
        default_language=base.default_language,
        topics=topics,
        source=base.source,
        content_hash=combined,
        off_topic=off_topic,
        base_hash=base_hash,
        language_files=language_files,
    )


@dataclass(frozen=True)
class _LanguagePart:
    language: str
    version: str
    terms: dict[str, tuple[Term, ...]]
    negative: dict[str, tuple[Negative, ...]]
    off_topic: tuple[Term, ...]


def _parse_language_file(
    text: str, source: str, base: Taxonomy, merged: Mapping[str, tuple[str, str]]
) -> _LanguagePart:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise TaxonomyError(f"{where}: invalid YAML: {problem}") from exc
    if root is None:
        raise TaxonomyError(f"{source}: language file is empty")
    return _Parser(source).language_file(root, base, merged)


def parse_taxonomy(text: str, source: str = "<taxonomy>") -> Taxonomy:
    """Validate taxonomy YAML text; `source` names it in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise TaxonomyError(f"{where}: invalid YAML: {problem}") from exc
    if root is None:
        raise TaxonomyError(f"{source}: taxonomy file is empty")
    parser = _Parser(source)
    return parser.taxonomy(root, hashlib.sha256(text.encode("utf-8")).hexdigest())


def parse_phrase(text: str) -> tuple[tuple[str, bool], ...]:
    """Split a phrase into matcher words: "Car-bomb*" -> (("car", False), ("bomb", True)).

    Raises ValueError with a reason when the phrase cannot be matched.
    """
    if re.search(r"\*\w", text):
        raise ValueError("'*' is only allowed at the end of a word")
    words: list[tuple[str, bool]] = []
    for token in _PHRASE_WORD.findall(text.lower()):
        if token == "*":
            raise ValueError("'*' must directly follow a word")
        prefix = token.endswith("*")
        word = token.rstrip("*")
        if prefix and not words and len(word) < 3:
            # A phrase starting with "a*" would be tried at most words of the text: a typo, not a
            # term. Later words ("rebel mp*") are only checked after the first one matched.
            raise ValueError(f"prefix '{token}' is too short to start a term (3 letters at least)")
        words.append((word, prefix))
    if not words:
        raise ValueError("phrase has no words")
    return tuple(words)


class _Parser:
    """Node-tree walker that turns YAML nodes into dataclasses, failing with file:line messages."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._constructor = SafeConstructor()

    # -- generic helpers -------------------------------------------------------------------------

    def fail(self, node: Node, message: str) -> TaxonomyError:
        return TaxonomyError(f"{self.source}:{node.start_mark.line + 1}: {message}")

    def mapping(
        self, node: Node, what: str, required: set[str], optional: set[str]
    ) -> dict[str, tuple[Node, Node]]:
        """Return key -> (key node, value node); reject duplicates, unknown and missing keys."""
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        fields: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node, f"key in {what}")
            if not isinstance(key, str):
                raise self.fail(key_node, f"key in {what} must be a string, got {key!r}")
            if key in fields:
                raise self.fail(key_node, f"duplicate key '{key}' in {what}")
            if key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                raise self.fail(key_node, f"unknown field '{key}' in {what} (allowed: {allowed})")
            fields[key] = (key_node, value_node)
        missing = sorted(required - fields.keys())
        if missing:
            raise self.fail(node, f"{what} is missing required field '{missing[0]}'")
        return fields

    def scalar(self, node: Node, what: str) -> Any:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, f"{what} must be a single value")
        return self._constructor.construct_object(node)

    def string(self, node: Node, what: str, *, allow_empty: bool = False) -> str:
        value = self.scalar(node, what)
        if not isinstance(value, str):
            raise self.fail(node, f"{what} must be a string, got {value!r}")
        if not allow_empty and not value.strip():
            raise self.fail(node, f"{what} must not be empty")
        return value

    def number(self, node: Node, what: str) -> float:
        value = self.scalar(node, what)
        # bool is an int subclass in Python; "weight: yes" is a mistake, not 1.0.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(node, f"{what} must be a number, got {value!r}")
        return float(value)

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    # -- taxonomy structure ----------------------------------------------------------------------

    def taxonomy(self, root: Node, content_hash: str) -> Taxonomy:
        fields = self.mapping(root, "taxonomy", {"version", "topics"}, {"default_language", "off_topic"})
        version_node = fields["version"][1]
        version = self.scalar(version_node, "version")
        if isinstance(version, bool) or not isinstance(version, str | int | float) or not str(version):
            raise self.fail(version_node, 'version must be a string such as "2025.1"')
        default_language = "en"
        if "default_language" in fields:
            node = fields["default_language"][1]
            default_language = self.string(node, "default_language")
            if not _LANGUAGE.match(default_language):
                raise self.fail(node, f"default_language '{default_language}' is not a language code")
        topic_nodes = self.sequence(fields["topics"][1], "topics")
        if not topic_nodes:
            raise self.fail(fields["topics"][1], "topics must not be empty")
        topics: list[Topic] = []
        seen: dict[str, int] = {}
        for node in topic_nodes:
            topic = self.topic(node)
            if topic.id in seen:
                raise self.fail(
                    node, f"duplicate topic id '{topic.id}' (first defined at line {seen[topic.id]})"
                )
            seen[topic.id] = node.start_mark.line + 1
            topics.append(topic)
        if not any(default_language in topic.terms for topic in topics):
            raise self.fail(root, f"no topic has terms for default_language '{default_language}'")
        off_topic: dict[str, tuple[Term, ...]] = {}
        if "off_topic" in fields:
            off_topic = self.terms(fields["off_topic"][1], "off_topic")
        return Taxonomy(
            version=str(version),
            default_language=default_language,
            topics=tuple(topics),
            source=self.source,
            content_hash=content_hash,
            off_topic=off_topic,
        )

    def topic(self, node: Node) -> Topic:
        fields = self.mapping(
            node,
            "topic",
            {"id", "label", "threshold", "terms"},
            {"description", "iptc", "gdelt", "negative"},
        )
        id_node = fields["id"][1]
        topic_id = self.string(id_node, "topic id")
        if not _TOPIC_ID.match(topic_id):
            raise self.fail(id_node, f"topic id '{topic_id}' must be snake_case (a-z, 0-9, _)")
        what = f"topic '{topic_id}'"
        label = self.string(fields["label"][1], f"label of {what}")
        description = ""
        if "description" in fields:
            description = self.string(fields["description"][1], f"description of {what}", allow_empty=True)
        iptc: str | None = None
        if "iptc" in fields:
            iptc_node = fields["iptc"][1]
            raw = self.scalar(iptc_node, f"iptc of {what}")
            if raw is not None:
                if not isinstance(raw, str) or not _IPTC.match(raw):
                    raise self.fail(iptc_node, f"iptc of {what} must look like medtop:20000103 or be null")
                iptc = raw
        gdelt: tuple[str, ...] = ()
        if "gdelt" in fields:
            themes = []
            for theme_node in self.sequence(fields["gdelt"][1], f"gdelt of {what}"):
                theme = self.string(theme_node, f"gdelt theme of {what}")
                if not _GDELT.match(theme):
                    raise self.fail(theme_node, f"gdelt theme '{theme}' must be upper case like TERROR")
                themes.append(theme)
            gdelt = tuple(themes)
        threshold_node = fields["threshold"][1]
        threshold = self.number(threshold_node, f"threshold of {what}")
        if threshold <= 0:
            raise self.fail(threshold_node, f"threshold of {what} must be greater than 0")
        terms = self.terms(fields["terms"][1], what)
        negative: dict[str, tuple[Negative, ...]] = {}
        if "negative" in fields:
            negative = self.negatives(fields["negative"][1], what)
        return Topic(
            id=topic_id,
            label=label,
            description=description,
            iptc=iptc,
            gdelt=gdelt,
            threshold=threshold,
            terms=terms,
            negative=negative,
        )

    def languages(self, node: Node, what: str) -> list[tuple[str, Node]]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping of language code to list, e.g. en: [...]")
        result: list[tuple[str, Node]] = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            lang = self.scalar(key_node, f"language of {what}")
            if not isinstance(lang, str) or not _LANGUAGE.match(lang):
                raise self.fail(key_node, f"'{lang}' in {what} is not a language code such as en")
            if lang in seen:
                raise self.fail(key_node, f"duplicate language '{lang}' in {what}")
            seen.add(lang)
            result.append((lang, value_node))
        return result

    def terms(self, node: Node, what: str) -> dict[str, tuple[Term, ...]]:
        result: dict[str, tuple[Term, ...]] = {}
        for lang, list_node in self.languages(node, f"terms of {what}"):
            result[lang] = self.term_list(list_node, f"terms.{lang} of {what}", what)
        if not result:
            raise self.fail(node, f"terms of {what} must name at least one language")
        return result

    def term_list(self, list_node: Node, where: str, what: str) -> tuple[Term, ...]:
        items = self.sequence(list_node, where)
        if not items:
            raise self.fail(list_node, f"{where} must not be empty")
        seen: dict[str, int] = {}
        terms = []
        for item in items:
            term = self.term(item, f"term in {what}")
            key = term.term.lower()
            if key in seen:
                raise self.fail(item, f"duplicate term '{term.term}' in {what} (first at line {seen[key]})")
            seen[key] = term.line
            terms.append(term)
        return tuple(terms)

    def term(self, node: Node, what: str) -> Term:
        fields = self.mapping(node, what, {"term", "weight"}, {"variants", "regex"})
        term_node = fields["term"][1]
        term = self.string(term_node, what)
        weight_node = fields["weight"][1]
        weight = self.number(weight_node, f"weight of '{term}'")
        if not 0 < weight <= _MAX_WEIGHT:
            raise self.fail(
                weight_node, f"weight of '{term}' must be in (0, {_MAX_WEIGHT:g}], got {weight:g}"
            )
        line = node.start_mark.line + 1
        if "regex" in fields:
            if "variants" in fields:
                raise self.fail(fields["variants"][0], f"'{term}': use either regex or variants, not both")
            regex_node = fields["regex"][1]
            regex = self.string(regex_node, f"regex of '{term}'")
            self.check_regex(regex_node, regex, term)
            return Term(term=term, weight=weight, phrases=(), regex=regex, line=line)
        texts = [(term_node, term)]
        if "variants" in fields:
            for variant_node in self.sequence(fields["variants"][1], f"variants of '{term}'"):
                texts.append((variant_node, self.string(variant_node, f"variant of '{term}'")))
        phrases = []
        for text_node, text in texts:
            try:
                phrases.append(parse_phrase(text))
            except ValueError as exc:
                raise self.fail(text_node, f"term '{text}': {exc}") from None
        return Term(term=term, weight=weight, phrases=tuple(dict.fromkeys(phrases)), line=line)

    def negatives(self, node: Node, what: str) -> dict[str, tuple[Negative, ...]]:
        result: dict[str, tuple[Negative, ...]] = {}
        for lang, list_node in self.languages(node, f"negative of {what}"):
            result[lang] = self.negative_list(list_node, f"negative.{lang} of {what}", what)
        return result

    def negative_list(self, list_node: Node, where: str, what: str) -> tuple[Negative, ...]:
        items = []
        for item in self.sequence(list_node, where):
            line = item.start_mark.line + 1
            if isinstance(item, ScalarNode):
                text = self.string(item, f"negative phrase in {what}")
                try:
                    items.append(Negative(text=text, phrase=parse_phrase(text), regex=None, line=line))
                except ValueError as exc:
                    raise self.fail(item, f"negative phrase '{text}': {exc}") from None
            else:
                fields = self.mapping(item, f"negative context in {what}", {"regex"}, set())
                regex_node = fields["regex"][1]
                regex = self.string(regex_node, f"negative regex in {what}")
                self.check_regex(regex_node, regex, regex)
                items.append(Negative(text=regex, phrase=None, regex=regex, line=line))
        return tuple(items)

    def language_file(
        self, root: Node, base: Taxonomy, merged: Mapping[str, tuple[str, str]]
    ) -> _LanguagePart:
        fields = self.mapping(root, "language file", {"language", "version", "topics"}, {"off_topic"})
        lang_node = fields["language"][1]
        lang = self.string(lang_node, "language")
        if not _LANGUAGE.match(lang):
            raise self.fail(lang_node, f"'{lang}' is not a language code such as ru")
        named = language_file_of(Path(base.source).name, Path(self.source).name)
        if named is not None and named != lang:
            raise self.fail(lang_node, f"language '{lang}' does not match the file name ('{named}')")
        if lang in merged:
            raise self.fail(lang_node, f"language '{lang}' is already defined in {merged[lang][1]}")
        if lang in base.languages or any(lang in t.negative for t in base.topics):
            raise self.fail(lang_node, f"language '{lang}' is already defined in {base.source}")
        version_node = fields["version"][1]
        version = self.scalar(version_node, "version")
        if isinstance(version, bool) or not isinstance(version, str | int | float) or not str(version):
            raise self.fail(version_node, 'version must be a string such as "2026.1"')
        known = {t.id for t in base.topics}
        terms: dict[str, tuple[Term, ...]] = {}
        negative: dict[str, tuple[Negative, ...]] = {}
        topic_nodes = self.sequence(fields["topics"][1], "topics")
        if not topic_nodes:
            raise self.fail(fields["topics"][1], "topics must not be empty")
        for node in topic_nodes:
            topic_fields = self.mapping(node, "topic", {"id", "terms"}, {"negative"})
            id_node = topic_fields["id"][1]
            topic_id = self.string(id_node, "topic id")
            if topic_id not in known:
                raise self.fail(id_node, f"topic '{topic_id}' is not a topic of {base.source}")
            if topic_id in terms:
                raise self.fail(id_node, f"duplicate topic id '{topic_id}'")
            what = f"topic '{topic_id}'"
            terms[topic_id] = self.term_list(topic_fields["terms"][1], f"terms of {what}", what)
            if "negative" in topic_fields:
                negative[topic_id] = self.negative_list(
                    topic_fields["negative"][1], f"negative of {what}", what
                )
        off_topic: tuple[Term, ...] = ()
        if "off_topic" in fields:
            off_topic = self.term_list(fields["off_topic"][1], "off_topic", "off_topic")
        return _LanguagePart(lang, str(version), terms, negative, off_topic)

    def check_regex(self, node: Node, regex: str, name: str) -> None:
        try:
            compiled = re.compile(regex, re.IGNORECASE)
        except re.error as exc:
            raise self.fail(node, f"regex of '{name}' does not compile: {exc}") from None
        if compiled.match(""):
            # A regex matching the empty string would "fire" everywhere.
            raise self.fail(node, f"regex of '{name}' matches the empty string")
