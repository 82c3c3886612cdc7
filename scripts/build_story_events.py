"""Build eval/story_events.jsonl, the story dev set: which articles of the 2017 corpus report one event.

    .venv/bin/python scripts/build_story_events.py            # write eval/story_events.jsonl
    .venv/bin/python scripts/build_story_events.py --find 'orly|paris airport' 03-16 03-22 [--lead]
    .venv/bin/python scripts/build_story_events.py --candidates [--min-score 16]

Data: ../shared/data/corpus/news_articles_2017.jsonl (3,824 articles of nine outlets, mostly February
and March 2017). Only ids and event labels are stored in the repository, never texts.

How EVENTS was made: `--candidates` links titles of articles within 3 days that share rare words
(idf-weighted, title words count double) and prints the groups with 5+ articles from 3+ outlets;
`--find` lists the titles matching a pattern in a date range. Each event's members were then chosen
by reading titles (and first lines where a title was unclear). Rules:
- an event is one occurrence with its follow-ups over a few days: an attack, its victims, the
  attacker's family, the investigation; a vote and its result; a death and the tributes; analysis and
  reaction pieces that are about that occurrence are members.
- a saga with a pause of several days between phases is split into events by phase (the corpus has
  days with few or no articles): Kim Jong-nam's DNA demand (17 Feb), the VX finding (23-24 Feb), the
  charges and deportations (28 Feb - 3 Mar), the stand-off (14-16 Mar); Hawaii's suit (8-9 Mar) and
  the ruling that blocked the ban (15-16 Mar); Article 50's date (20 Mar) and its triggering (29 Mar).
- an article that mixes two events ("Dutch to head to polls amid row with Turkey"), a morning
  newsletter or a live blog is left unlabelled rather than guessed; unlabelled articles are the
  distractors of the evaluation (in the clustering, not in the score).
The 12 events of scripts/eval_stories.py GOLD are kept (the same articles, a few added that its title
queries missed; its two Dutch election events were already one).

Halves: an event belongs to the "dev" half when the first byte of sha256("stories-" + label) is even,
else to "check" (27 events each): tune on dev, report check. Deterministic and stable when events are
added (monitor.evaluation.stories computes the same).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "corpus" / "news_articles_2017.jsonl"
OUTPUT = ROOT / "eval" / "story_events.jsonl"

# event label -> its article ids, space-separated
EVENTS: dict[str, str] = {
    "dutch-general-election-2017-03-15": (
        "2153 2167 2182 2225 2298 2378 2397 2318 2328 2370 2407 2430 2451 2472 2473 2479 2481 "
        "2482 2487 2401 2528 2551 2573 2583 2588 2632 2672 2681 2329"
    ),
    "turkey-netherlands-row-2017-03-12": "2129 2130 2131 2195 2267 2330 2559",
    "trump-wiretap-claims-2017-03-13": (
        "2125 2126 2232 2301 2418 2419 2503 2524 2525 2718 2721 2739 2814 2819 2826 2838 2839 "
        "2847 2848 2860 3094 3162 3175"
    ),
    "trump-2005-tax-return-leak-2017-03-14": "2314 2327 2379 2335 2339 2340 2343 2347 2402 2429 2651",
    "chuck-berry-death-2017-03-18": "2961 2969 2983 2988 2977 2996 2997 3000 3012 3014 3053",
    "oroville-dam-evacuation-2017-02-12": "967 1001 1019 1037 1051 1079 1095",
    "palmyra-recaptured-2017-03-02": "1805 1829 1897 1923 1929 1946",
    "ecj-headscarf-ruling-2017-03-14": "2307 2261 2280 2289 2686 2480 2981",
    "cyclone-debbie-2017-03-27": "3424 3449 3565 3575 3583",
    "russia-anti-corruption-protests-2017-03-26": "3460 3480 3488 3494 3531 3772 3734",
    "romania-corruption-protests-2017-02": "12 29 248 917 885 940",
    "samsung-lee-jae-yong-arrest-2017-02-17": "1039 1054 1283 1234 1253 1272",
    "le-pen-immunity-lifted-2017-03-02": "1777 1804 1817 1823 1853",
    "hawaii-sues-over-travel-ban-2017-03-08": "2013 2107 2000 2021 2069 2098",
    "hawaii-judge-blocks-travel-ban-2017-03-15": "2518 2519 2530 2549 2531 2553 2580 2584 2593 2596",
    "wikileaks-cia-vault7-2017-03-07": "2044 2015 2072 2078",
    "somali-pirates-tanker-hijack-2017-03-14": "2394 2372 2485",
    "grasse-school-shooting-2017-03-16": "2636 2658 2669 2678 2682 2697",
    "mosul-coalition-strike-civilians-2017-03-24": "3322 3485 3493 3566 3640",
    "trump-climate-executive-order-2017-03-28": "3522 3525 3574 3610 3650 3663 3699",
    "flamanville-nuclear-plant-blast-2017-02-09": "667 797 805 892",
    "harward-declines-security-adviser-2017-02-17": "1213 1225 1246 1248 1299",
    "kim-jong-nam-body-dna-2017-02-17": "1229 1301",
    "kim-jong-nam-vx-finding-2017-02-24": "1332 1425 1435 1436 1449 1457 1491 1503",
    "kim-jong-nam-charges-2017-02-28": (
        "1540 1562 1587 1597 1606 1616 1741 1761 1779 1835 1839 1860 1875 1893 1959 1990"
    ),
    "kim-jong-nam-standoff-2017-03-14": "2284 2396 2534 2623 2633",
    "sessions-russian-ambassador-meetings-2017-03-02": (
        "1751 1795 1752 1773 1774 1775 1831 1966 1883 1884 1885 1891 1901 1913 1960 1986"
    ),
    "danielle-mclaughlin-goa-murder-2017-03-15": "2408 2435 2455 2505 2608",
    "damascus-rebel-offensive-2017-03-19": "3066 3100 3152 3167 3266",
    "secret-service-laptop-stolen-2017-03-16": "2705 2722 2727 2742",
    "white-house-fence-jumper-2017-03-17": "2818 2842 2877",
    "white-house-car-bomb-threat-2017-03-18": "2991 3001 3005 3030 3043",
    "imf-paris-letter-bomb-2017-03-16": "2627 2680 2684 2702",
    "yemen-somali-refugee-boat-attack-2017-03-17": "2771 2850 2936 3207",
    "afghan-insider-attack-us-soldiers-2017-03-19": "3080 3118 3128",
    "sturgeon-second-referendum-call-2017-03-13": (
        "2117 2128 2145 2180 2188 2260 2311 2348 2630 2654 2747 2785 2895 2912 3054 3153"
    ),
    "orly-airport-attack-2017-03-18": (
        "2840 2849 2875 2892 2930 2946 2972 3037 3048 3050 3057 3065 3190 3212"
    ),
    "grammy-awards-2017-02-12": "984 985 986 993 994 997 1014 1017 1035 1050 1093",
    "oscars-best-picture-mixup-2017-02-26": "1533 1611 1534 1535 1536 1539 1551 1556 1585 1797",
    "yahoo-hack-russian-spies-indicted-2017-03-15": "2315 2420 2433 2484 2512 2597 2617 2629",
    "kabul-supreme-court-bombing-2017-02-07": "37 328 646",
    "ahca-health-bill-pulled-2017-03-24": (
        "3292 3298 3300 3404 3293 3306 3310 3312 3316 3317 3320 3356 3390 3434"
    ),
    "north-korea-missile-test-2017-02-12": "981 982 983 990 1049 1082",
    "north-korea-rocket-engine-test-2017-03-18": "2970 2982 2994 3023 3038 3049",
    "sehwan-sufi-shrine-bombing-2017-02-16": "1107 1143 1172 1198 1230 1265 1273",
    "blizzard-stella-us-northeast-2017-03-14": "2229 2230 2250 2286 2324 2376 2539",
    "westminster-attack-aftermath-2017-03-22": "3301 3395 3302 3303 3321 3437 3442 3443 3548 3621",
    "article50-date-announced-2017-03-20": "3230 3236 3238 3243 3257 3265 3271",
    "article50-triggered-2017-03-29": "3601 3604 3613 3620 3654 3657 3673 3684",
    "russian-airstrike-kills-turkish-soldiers-2017-02-09": "684 723 778 867",
    "amnesty-saydnaya-prison-report-2017-02-07": "38 263 781",
    "israel-settlement-law-2017-02-06": "261 322 334 341 777",
    "schulz-elected-spd-leader-2017-03-19": "3033 3107 3114 3135",
    "devos-confirmed-2017-02-07": "1 21 75 227 640",
}


def published(value: str) -> datetime:
    try:
        y, m, d = (int(x) for x in value.strip().split("/")[:3])
        return datetime(y, m, int(str(d).split()[0]))
    except ValueError:
        return datetime(2017, 1, 1)


def outlet(url: str) -> str:
    return url.split("/")[2].removeprefix("www.").split(".")[0]


def find(rows: list[dict], pattern: str, start: str, end: str, lead: bool) -> None:
    """Titles (with --lead: title or first 40 words) matching `pattern` between two MM-DD days."""
    regex = re.compile(pattern, re.IGNORECASE)
    first, last = (datetime.strptime(f"2017-{d}", "%Y-%m-%d") for d in (start, end))
    labelled = {doc: event for event, docs in EVENTS.items() for doc in docs.split()}
    for r in sorted(rows, key=lambda r: (published(r["published"]), r["id"])):
        day = published(r["published"])
        head = r["title"] + (" " + " ".join(r["text"].split()[:40]) if lead else "")
        if first <= day <= last and regex.search(head):
            mark = labelled.get(r["id"], "")
            print(f"{r['id']:>5} {day:%m-%d} {outlet(r['url']):<12.12} {r['title'][:90]}  {mark}")


_STOP_WORDS = "the and for with from after over says said will has have not was who what how why"
_STOP = frozenset(_STOP_WORDS.split())


def candidates(rows: list[dict], min_score: float) -> None:
    """Groups of articles within 3 days whose titles share rare words (union-find over linked pairs)."""

    def words(text: str) -> set[str]:
        return {w for w in re.findall(r"[a-z][a-z'\-]{2,}", text.lower()) if w not in _STOP}

    rows = sorted(rows, key=lambda r: (published(r["published"]), r["id"]))
    titles = [words(r["title"]) for r in rows]
    leads = [words(" ".join(r["text"].split()[:40])) for r in rows]
    df = Counter(w for t, lead in zip(titles, leads, strict=True) for w in t | lead)
    idf = {w: math.log(len(rows) / c) for w, c in df.items()}
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_word: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        day = published(r["published"])
        near = Counter(
            j
            for w in titles[i]
            if df[w] <= 60
            for j in by_word[w]
            if abs((published(rows[j]["published"]) - day).days) <= 3
        )
        for j in near:
            shared_title = sum(idf[w] for w in titles[i] & titles[j] if df[w] <= 60)
            shared = sum(idf[w] for w in (titles[i] | leads[i]) & (titles[j] | leads[j]) if df[w] <= 30)
            if shared_title + 0.5 * shared >= min_score:
                parent[root(i)] = root(j)
        for w in titles[i]:
            by_word[w].append(i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        groups[root(i)].append(i)
    for members in sorted(groups.values(), key=len, reverse=True):
        if len(members) >= 5 and len({outlet(rows[i]["url"]) for i in members}) >= 3:
            print(f"===== {len(members)}")
            for i in members:
                r = rows[i]
                day = published(r["published"])
                print(f"  {r['id']:>5} {day:%m-%d} {outlet(r['url']):<12.12} {r['title'][:90]}")


def build(rows: list[dict]) -> int:
    known = {r["id"] for r in rows}
    seen: dict[str, str] = {}
    for event, docs in EVENTS.items():
        for doc in docs.split():
            if doc not in known:
                print(f"{event}: unknown id {doc}", file=sys.stderr)
                return 1
            if doc in seen:
                print(f"{doc} in {seen[doc]} and {event}", file=sys.stderr)
                return 1
            seen[doc] = event
    with OUTPUT.open("w", encoding="utf-8") as out:
        for event in sorted(EVENTS):
            for doc in sorted(EVENTS[event].split(), key=int):
                out.write(json.dumps({"id": doc, "event": event}) + "\n")
    print(f"{OUTPUT.relative_to(ROOT)}: {len(seen)} articles in {len(EVENTS)} events")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--find", nargs=3, metavar=("PATTERN", "FROM", "TO"), help="list matching titles")
    ap.add_argument("--lead", action="store_true", help="--find also searches the first 40 words")
    ap.add_argument("--candidates", action="store_true", help="print groups of related titles")
    ap.add_argument("--min-score", type=float, default=16.0)
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in args.corpus.open(encoding="utf-8")]
    if args.find:
        find(rows, *args.find, args.lead)
        return 0
    if args.candidates:
        candidates(rows, args.min_score)
        return 0
    return build(rows)


if __name__ == "__main__":
    raise SystemExit(main())
