"""Builds the language dev files (issue 15) from fetched git mirrors into a cache outside git.

    PYTHONPATH=src python scripts/build_lang_dev.py [--out .monitor/lang-dev]
        [--factrueval GITDIR] [--nerel GITDIR] [--sib GITDIR] [--languages rus,fra]

Reads, with `git` (the mirrors are bare git directories, no work tree):
  dialogue-evaluation/factRuEval-2016  devset/*.txt|spans|objects           → corpus "factrueval", split dev
  nerel-ds/NEREL                       NEREL-v1.1/{train,dev}/*.txt|ann → corpus "nerel" (test left out)
  dadelani/sib-200                     data/annotated/{eng_Latn,rus_Cyrl,…}/{train,dev,test}.tsv
and writes (the texts stay in the cache: third-party texts are not copied into the repository):
  OUT/ru_documents.jsonl  {id, corpus, split, text, spans: [[start, end, type, source_type, wikidata]]}
  OUT/sib200.jsonl        {id, index_id, split, category, text: {eng, rus, fra}}
  OUT/manifest.json       the mirrors' commits and the counts
`monitor eval` (`make eval`) reads OUT with the labels in eval/lang/. Every gold span is checked
against the text while building: a wrong offset stops the build with the document named.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from monitor.evaluation import languages as lang

MIRRORS = Path("/work/.mirror")
DEFAULTS = {
    "factrueval": MIRRORS / "dialogue-evaluation+factRuEval-2016" / "repo" / ".git",
    "nerel": MIRRORS / "nerel-ds+NEREL" / "repo",
    "sib": MIRRORS / "dadelani+sib-200" / "repo",
}
REPOS = {
    "factrueval": "dialogue-evaluation/factRuEval-2016",
    "nerel": "nerel-ds/NEREL",
    "sib": "dadelani/sib-200",
}
SIB_DIRS = {"eng": "eng_Latn", "rus": "rus_Cyrl", "fra": "fra_Latn", "spa": "spa_Latn"}
NEREL_VERSION = "NEREL-v1.1"  # 1.1 adds the Wikidata links
NEREL_SPLITS = ("train", "dev")  # train documents are labelled for relevance; entities use dev only


class Mirror:
    """Blobs of a bare git directory at HEAD, read through one `git cat-file --batch` process."""

    def __init__(self, git_dir: Path) -> None:
        if not git_dir.is_dir():
            raise SystemExit(f"{git_dir}: mirror not found (fetch it with the search tool's `fetch`)")
        self.git_dir = git_dir
        self.commit = self._git("rev-parse", "HEAD").strip()
        self._batch = subprocess.Popen(
            ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def _git(self, *args: str) -> str:
        return subprocess.run(
            ["git", f"--git-dir={self.git_dir}", *args], check=True, capture_output=True, text=True
        ).stdout

    def files(self, folder: str) -> list[str]:
        return sorted(self._git("ls-tree", "-r", "--name-only", "HEAD", folder).splitlines())

    def read(self, path: str) -> str:
        assert self._batch.stdin and self._batch.stdout
        self._batch.stdin.write(f"HEAD:{path}\n".encode())
        self._batch.stdin.flush()
        header = self._batch.stdout.readline().split()
        if len(header) < 3:
            raise SystemExit(f"{self.git_dir}: {path} not found at HEAD")
        data = self._batch.stdout.read(int(header[2]))
        self._batch.stdout.readline()  # the newline after each blob
        # utf-8-sig: a BOM would shift every offset by one.
        return data.decode("utf-8-sig")

    def close(self) -> None:
        if self._batch.stdin:
            self._batch.stdin.close()
        self._batch.wait()


def factrueval_documents(mirror: Mirror) -> list[dict]:
    out = []
    for path in mirror.files("devset"):
        if not path.endswith(".txt"):
            continue
        stem = path[: -len(".txt")]
        text = mirror.read(path)
        try:
            spans = lang.parse_factrueval(mirror.read(stem + ".spans"), mirror.read(stem + ".objects"), text)
        except ValueError as exc:
            raise SystemExit(f"{REPOS['factrueval']} {stem}: {exc}") from None
        doc_id = f"factrueval:dev:{Path(stem).name}"
        out.append({"id": doc_id, "corpus": "factrueval", "split": "dev", "text": text, "spans": spans})
    return out


def nerel_documents(mirror: Mirror) -> list[dict]:
    out = []
    for split in NEREL_SPLITS:
        for path in mirror.files(f"{NEREL_VERSION}/{split}"):
            # Most files are "<id>_text.txt"; some are named after their subject ("kuleshov.txt").
            if not path.endswith(".txt"):
                continue
            text = mirror.read(path)
            try:
                spans = lang.parse_brat(mirror.read(path[: -len(".txt")] + ".ann"), text)
            except ValueError as exc:
                raise SystemExit(f"{REPOS['nerel']} {path}: {exc}") from None
            doc_id = f"nerel:{split}:{Path(path).name.removesuffix('.txt').removesuffix('_text')}"
            out.append({"id": doc_id, "corpus": "nerel", "split": split, "text": text, "spans": spans})
    return out


def sib_sentences(mirror: Mirror, languages: list[str]) -> list[dict]:
    rows: dict[int, dict] = {}
    for code in languages:
        for split in ("train", "dev", "test"):
            for index_id, category, text in lang.parse_sib_tsv(
                mirror.read(f"data/annotated/{SIB_DIRS[code]}/{split}.tsv")
            ):
                row = rows.setdefault(
                    index_id,
                    {
                        "id": f"sib:{index_id}",
                        "index_id": index_id,
                        "split": split,
                        "category": category,
                        "text": {},
                    },
                )
                if row["category"] != category or row["split"] != split:
                    raise SystemExit(
                        f"sib-200 {code}: sentence {index_id} differs from English in split or topic"
                    )
                row["text"][code] = text
    incomplete = [r["id"] for r in rows.values() if len(r["text"]) != len(languages)]
    if incomplete:
        raise SystemExit(
            f"sib-200: {len(incomplete)} sentences missing in some language (first {incomplete[0]})"
        )
    return [rows[k] for k in sorted(rows)]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--out", type=Path, default=lang.LANG_DEV_DIR, help=f"cache folder (default {lang.LANG_DEV_DIR})"
    )
    for name, default in DEFAULTS.items():
        ap.add_argument(
            f"--{name}", type=Path, default=default, help=f"git dir of {REPOS[name]} (default {default})"
        )
    ap.add_argument(
        "--languages", default="rus,fra", help="sib-200 languages besides English (default rus,fra)"
    )
    args = ap.parse_args(argv)
    codes = ["eng", *[c for c in args.languages.split(",") if c and c != "eng"]]
    unknown = [c for c in codes if c not in SIB_DIRS]
    if unknown:
        raise SystemExit(f"unknown sib-200 language(s) {unknown}; known: {sorted(SIB_DIRS)}")

    mirrors = {name: Mirror(getattr(args, name)) for name in DEFAULTS}
    try:
        documents = factrueval_documents(mirrors["factrueval"]) + nerel_documents(mirrors["nerel"])
        sentences = sib_sentences(mirrors["sib"], codes)
    finally:
        for m in mirrors.values():
            m.close()

    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out / lang.DOCUMENTS_FILE, documents)
    write_jsonl(args.out / lang.SIB_FILE, sentences)
    spans: Counter[str] = Counter()
    linked: Counter[str] = Counter()
    docs: Counter[str] = Counter()
    for d in documents:
        docs[f"{d['corpus']}:{d['split']}"] += 1
        for s in d["spans"]:
            spans[f"{d['corpus']}:{d['split']}:{s[2]}"] += 1
            linked[f"{d['corpus']}:{d['split']}:{s[2]}"] += s[4] is not None
    manifest = {
        "sources": {
            REPOS[name]: {"path": str(getattr(args, name)), "commit": m.commit} for name, m in mirrors.items()
        },
        "documents": dict(sorted(docs.items())),
        "spans": dict(sorted(spans.items())),
        "linked_spans": {k: v for k, v in sorted(linked.items()) if v},
        "sib200": {"sentences": len(sentences), "languages": codes},
    }
    (args.out / lang.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(manifest, indent=2, ensure_ascii=False), file=sys.stderr)
    print(f"wrote {args.out}/{{{lang.DOCUMENTS_FILE},{lang.SIB_FILE},{lang.MANIFEST_FILE}}}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
