"""Near-duplicate detection: syndicated or republished copies of one text across sources. Pure.

A copy of a wire story usually differs from the original by a rewritten headline, a paragraph of the
outlet's own boilerplate added or removed, truncation ("read more"), reordered paragraphs or a few
edited words. Exact fingerprints (`fingerprints.text_fingerprint`) miss all of these.

Method (documented with measured figures in docs/dedupe.md):

1. **Shingles.** The clean text (not the title: headlines are what republishers rewrite) is case-folded
   and reduced to its words exactly as `text_fingerprint` does; every run of `SHINGLE_WORDS` = 5
   consecutive words is a shingle. Every word is hashed at once with numpy (a polynomial hash of its
   code points from prefix sums, arithmetic mod 2**64), the 5 word hashes of a shingle are combined
   and mixed with the splitmix64 finaliser. The hash is a fixed function of the text, so signatures
   are identical across processes and machines (Python's `hash()` is salted per process: not used).
2. **MinHash signature.** One-permutation hashing (Li, Owen & Zhang 2012): the top 7 bits of a
   shingle hash choose one of `NUM_PERM` = 128 bins and the bin keeps its smallest hash; bins left
   empty by short texts borrow from the next non-empty bin to the right with an offset per step
   (rotation densification, Shrivastava & Li 2014), which keeps P[bins equal] = Jaccard. This costs one
   sort per document instead of 128 hash passes and is what makes 100k documents take seconds.
   A signature is 128 uint32 values plus the size of the shingle set.
3. **LSH banding.** The first 126 values form `BANDS` = 42 bands of `ROWS` = 3; two documents become
   candidates when any band is equal. P[candidate] = 1 - (1 - J**3)**42: 0.94 at Jaccard 0.4, 0.996
   at 0.5, 0.005 at 0.05, so the band threshold sits well below the verification threshold and
   verification, not banding, decides.
4. **Verification by containment.** A truncated copy is *contained* in its original: its Jaccard
   similarity is only its length ratio (0.6 for a 60 % truncation) while containment
   |A∩B| / min(|A|,|B|) stays near 1. From the MinHash estimate J of Jaccard and the exact set sizes,
   |A∩B| = J(|A|+|B|)/(1+J), hence containment = J(|A|+|B|) / ((1+J)·min(|A|,|B|)). A pair is a
   duplicate when that estimate is >= `threshold` (default 0.7). When the shorter text has fewer than
   `MIN_CONTAINED_SHINGLES` shingles, containment is meaningless (a 3-shingle text is "contained" in
   anything that shares a phrase), so those pairs need the estimated Jaccard itself >= threshold.

Limits: a copy shorter than about 40 % of the original (Jaccard < 0.4) is found less and less reliably
by the bands; translations and rewritten texts are not near-duplicates (story clustering groups them).
"""

from __future__ import annotations

import heapq
import struct
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitor.dedupe.fingerprints import INVISIBLE_CHARS, word_char_table

SHINGLE_WORDS = 5  # 5-word shingles: short enough to survive edits, long enough to be rare across texts
NUM_PERM = 128  # signature length; std. error of the Jaccard estimate ~ sqrt(J(1-J)/128) <= 0.044
ROWS = 3
BANDS = 42  # 42 x 3 = 126 of the 128 values; see the module docstring for the resulting curve
# Texts with fewer shingles (under 14 words: "Police said.", a photo caption, an empty body) are never
# near-duplicates: they share phrases by chance, and exact copies of them are caught by content hash.
MIN_SHINGLES = 10
MIN_CONTAINED_SHINGLES = 20  # below this, a shorter text must match by Jaccard, not by containment
# A MinHash value held by this many duplicate groups in the window is boilerplate (see the index).
COMMON_GROUPS = 2
MIN_INFORMATIVE = 16  # fewer informative positions than this: too little evidence to call a copy
# A band bucket holding this many groups is boilerplate or a stock phrase: not scanned for candidates.
MAX_BUCKET = 32
MAX_VERIFIED = 8  # candidates (the most similar by raw MinHash agreement) that get the refined score
DEFAULT_THRESHOLD = 0.7  # estimated containment; docs/dedupe.md shows the measured margins
DEFAULT_WINDOW = timedelta(days=7)  # republished copies appear within days; memory grows with this

_SIG_MAGIC = b"MH1"  # format version: 5-word shingles, 128 one-permutation bins, uint32 values
_SIG_HEADER = struct.Struct("<3sI")  # magic, shingle-set size
SIGNATURE_BYTES = _SIG_HEADER.size + 4 * NUM_PERM

_MASK64 = (1 << 64) - 1
# Polynomial base for the byte hash: an odd 64-bit constant (odd so that it is invertible mod 2**64,
# which lets the hash of any byte span be read off two prefix sums).
_BASE = 0x9E3779B97F4A7C15
_BASE_INV = pow(_BASE, -1, 1 << 64)
_DENSIFY_STEP = np.uint32(0x9E3779B1)  # offset added per bin of distance when an empty bin borrows
_BIN_SHIFT = np.uint64(64 - 7)  # top 7 bits -> 128 bins
_VALUE_SHIFT = np.uint64(64 - 7 - 32)  # the 32 bits right below the bin bits


class _Powers:
    """BASE**i and BASE**-i mod 2**64 for i < n, grown on demand (numpy uint64 arithmetic wraps)."""

    def __init__(self) -> None:
        self.pow = np.ones(1, dtype=np.uint64)
        self.inv = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if n > len(self.pow):
            size = max(n, 2 * len(self.pow), 4096)
            ones = np.ones(1, dtype=np.uint64)
            with np.errstate(over="ignore"):
                self.pow = np.concatenate((ones, np.cumprod(np.full(size - 1, _BASE, dtype=np.uint64))))
                self.inv = np.concatenate((ones, np.cumprod(np.full(size - 1, _BASE_INV, dtype=np.uint64))))
        return self.pow[:n], self.inv[:n]


_POWERS = _Powers()
_DROP_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE_CHARS))
# Multipliers that combine the hashes of the 5 words of a shingle (odd 64-bit constants).
_SHINGLE_MULT = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
    dtype=np.uint64,
)[:SHINGLE_WORDS]
# The code-point table is shared with text_fingerprint (same words); scripts warm it up by this name.
_char_classes = word_char_table
# ASCII bytes to b"\x01" (word character) or b"\x00", read by numpy as booleans.
_ASCII_IS_WORD = bytes(chr(i).isalnum() for i in range(128)) + bytes(128)
# splitmix64 constants as numpy scalars, made once: building them per call costs more than the shifts.
_MIX_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))
_MIX_MULTS = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place: spreads the weak low bits of the polynomial hash over all 64 bits.

    uint64 array arithmetic wraps silently in numpy (only scalar overflow warns), as the hash wants.
    """
    s1, s2, s3 = _MIX_SHIFTS
    m1, m2 = _MIX_MULTS
    x ^= x >> s1
    x *= m1
    x ^= x >> s2
    x *= m2
    x ^= x >> s3
    return x


def shingle_hashes(text: str) -> np.ndarray:
    """Sorted, distinct 64-bit hashes of the 5-word shingles of `text` (one shingle if it is shorter).

    Words are what `text_fingerprint` sees (NFKC, case-folded, runs of letters and digits), found
    with a code-point class table instead of a regular expression: 10x faster on news text. Each numpy
    call costs about a microsecond whatever its size, so the steps are few and work in place.
    """
    if text.isascii():  # most news text: one byte per character, word bytes by one bytes.translate
        data = text.encode("ascii")
        cp = np.frombuffer(data.lower(), dtype=np.uint8)
        # word flags with a False on either side, so that every word has a start and an end edge
        padded = np.frombuffer(b"\0" + data.translate(_ASCII_IS_WORD) + b"\0", dtype=bool)
    else:
        folded = unicodedata.normalize("NFKC", text)
        if any(c in folded for c in INVISIBLE_CHARS):  # they hide inside words: dropped, not separators
            folded = folded.translate(_DROP_INVISIBLE)
        cp = np.frombuffer(folded.casefold().encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        padded = np.zeros(len(cp) + 2, dtype=bool)
        padded[1:-1] = word_char_table().take(cp)  # take: faster than [] indexing
    edges = (padded[1:] != padded[:-1]).nonzero()[0]  # word starts and ends, alternating
    if len(edges) == 0:
        return np.empty(0, dtype=np.uint64)
    starts, ends = edges[::2], edges[1::2]
    # Polynomial hash of every word from prefix sums over all characters: separators add terms too,
    # but a word's span only covers its own characters, and scaling by BASE**-start makes the hash
    # independent of where the word stands.
    pw, inv = _POWERS.get(len(cp))
    prefix = np.empty(len(cp) + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(cp * pw, out=prefix[1:])
    words = prefix[ends]
    words -= prefix[starts]
    words *= inv[starts]
    words ^= (ends - starts).astype(np.uint64)
    words = _mix(words)
    k = min(SHINGLE_WORDS, len(words))
    # all runs of k consecutive word hashes as the rows of a strided view of `words` (no copy), and
    # their weighted sums mod 2**64 in one matrix product
    windows = np.ndarray((len(words) - k + 1, k), dtype=np.uint64, buffer=words, strides=(8, 8))
    shingles = _mix(windows @ _SHINGLE_MULT[:k])
    shingles.sort()
    # distinct values (np.unique's hash-based path is several times slower on these small arrays)
    repeated = (shingles[1:] == shingles[:-1]).nonzero()[0]
    if len(repeated):
        keep = np.ones(len(shingles), dtype=bool)
        keep[repeated + 1] = False
        return shingles[keep]
    return shingles


_BIN_EDGES = np.arange(NUM_PERM, dtype=np.uint64) << _BIN_SHIFT  # smallest hash of each bin
_BIN_WIDTH = np.uint64(1) << _BIN_SHIFT
_BIN_INDEX = np.arange(NUM_PERM)
# offset of a value borrowed from `d` bins to the right, for d < 2 * NUM_PERM (uint32 wraps, as before)
_BORROW_OFFSET = np.arange(2 * NUM_PERM, dtype=np.uint32) * _DENSIFY_STEP


def _minhash(hashes: np.ndarray) -> np.ndarray:
    """One-permutation MinHash with rotation densification of `hashes` (sorted, distinct)."""
    n = len(hashes)
    if n == 0:
        return np.zeros(NUM_PERM, dtype=np.uint32)
    # sorted input: the first hash at or above a bin's lower edge is the bin's minimum, if it is in it
    first = hashes.searchsorted(_BIN_EDGES)
    np.minimum(first, n - 1, out=first)
    lowest = hashes[first]
    minima = (lowest >> _VALUE_SHIFT).astype(np.uint32)  # the cast keeps the low 32 bits
    lowest -= _BIN_EDGES  # wraps to a huge value when `lowest` lies in an earlier bin
    filled = (lowest < _BIN_WIDTH).nonzero()[0]
    if len(filled) == NUM_PERM:  # long texts: no bin to fill
        return minima
    # every bin takes the value of the nearest filled bin at or to its right (circularly), plus an
    # offset per step so that a borrowed value never equals the donor bin's own value; the first
    # filled bin, one turn further, serves the bins after the last one
    ring = np.empty(len(filled) + 1, dtype=filled.dtype)
    ring[:-1] = filled
    ring[-1] = filled[0] + NUM_PERM
    donor = ring[filled.searchsorted(_BIN_INDEX)]
    borrowed = minima[donor & (NUM_PERM - 1)]
    borrowed += _BORROW_OFFSET[donor - _BIN_INDEX]
    return borrowed


@dataclass(frozen=True)
class Signature:
    """MinHash values and the exact number of distinct shingles of one text."""

    values: np.ndarray  # uint32[NUM_PERM]
    size: int

    def to_bytes(self) -> bytes:
        return _SIG_HEADER.pack(_SIG_MAGIC, self.size) + self.values.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        if len(data) != SIGNATURE_BYTES:
            raise ValueError(f"near-duplicate signature must be {SIGNATURE_BYTES} bytes, got {len(data)}")
        magic, size = _SIG_HEADER.unpack_from(data)
        if magic != _SIG_MAGIC:
            raise ValueError(f"unknown near-duplicate signature format {magic!r}")
        values = np.frombuffer(data, dtype="<u4", offset=_SIG_HEADER.size).astype(np.uint32)
        return cls(values, size)


def compute_signature(text: str) -> Signature:
    hashes = shingle_hashes(text)
    return Signature(_minhash(hashes), len(hashes))


def signature(text: str) -> bytes:
    """The serialised signature of `text` (SIGNATURE_BYTES bytes) for storage beside the article."""
    hashes = shingle_hashes(text)  # Signature.to_bytes without the intermediate object (per article)
    return _SIG_HEADER.pack(_SIG_MAGIC, len(hashes)) + _minhash(hashes).astype("<u4").tobytes()


def estimate(a: Signature, b: Signature) -> tuple[float, float]:
    """(estimated Jaccard, estimated containment) of the shingle sets behind two signatures."""
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0
    j = float(np.count_nonzero(a.values == b.values)) / NUM_PERM
    return j, _containment(j, a.size, b.size)


def _containment(j: float, size_a: float, size_b: float) -> float:
    return min(1.0, j * (size_a + size_b) / ((1.0 + j) * min(size_a, size_b)))


_BAND_KEY = np.dtype((np.void, 4 * ROWS))  # the ROWS uint32 values of one band, as one bytes key
_BIN_HIGH = np.arange(NUM_PERM, dtype=np.uint64) << np.uint64(32)
# Slot of a (bin, value) key in the index's table of common values: value xor a per-bin salt, low bits.
_FILTER_BITS = 21  # 2M slots (20 MB): ~110k common values in a 7-day window share ~5 % of their slots
_FILTER_MASK = (1 << _FILTER_BITS) - 1
_FILTER_SALT = np.arange(NUM_PERM, dtype=np.uint32) * np.uint32(0x9E3779B1)
_FILTER_SALTS = _FILTER_SALT.tolist()


def _filter_slot(key: int) -> int:
    return ((key & 0xFFFFFFFF) ^ _FILTER_SALTS[key >> 32]) & _FILTER_MASK


def _band_keys(values: np.ndarray) -> list[bytes]:
    """Key i is the bytes of band i (equal bands, equal keys); the index keeps one table per band.

    One numpy view and one C-level `tolist`: no hashing work in Python (the values are hashes already).
    """
    return values[: BANDS * ROWS].view(_BAND_KEY).tolist()


def _value_keys(values: np.ndarray) -> list[int]:
    """(bin, value) of every signature position as one integer: the unit of the shared-value counts."""
    return (_BIN_HIGH | values).tolist()


@dataclass(slots=True, eq=False)  # eq=False: hashed by identity, collected in candidate sets
class _Entry:
    doc_id: str
    values: np.ndarray  # uint32[NUM_PERM], the MinHash signature
    size: int  # distinct shingles
    seen_at: datetime
    seq: int
    group: str  # the original this document duplicates, or its own id when it is an original
    is_copy: bool
    bands: tuple[bytes, ...]  # LSH band keys
    buckets: list[dict[str, _Entry]]  # the bucket of each band it was put in (evicted without look-ups)
    counted: tuple[int, ...]  # (bin, value) keys this document added to the shared-value counts


def _arrival(entry: _Entry) -> tuple[datetime, int]:
    return entry.seen_at, entry.seq


class NearDuplicateIndex:
    """Incremental near-duplicate index over a sliding time window.

    `add` answers, for each new document, which earlier document it copies, and keeps it for the
    documents to come. Documents whose `seen_at` is more than `window` older than the newest
    `seen_at` added are evicted, so memory is bounded by the number of documents in one window.
    Deterministic: the same calls in the same order give the same answers in any process.

    **Shared boilerplate.** An outlet's footer ("Copyright ... Follow us on ...") left in the clean
    text of many *different* articles would make short articles of that outlet look like copies of
    each other. The index therefore counts, per signature position, in how many duplicate *groups*
    (an original and its copies) a MinHash value occurs: an original contributes all its values, a
    copy only the values that differ from its original's (its boilerplate and edits), so syndication
    itself never makes a value common. A value present in `COMMON_GROUPS` or more groups is
    boilerplate or a stock phrase: positions holding one on either side are left out of the Jaccard
    estimate, and each set size is scaled down by its share of such positions.

    **Cost.** Per document: one dictionary look-up per band (C-level), a handful of numpy operations
    on the few candidates (scored together, not one by one), and one dictionary update per counted
    value; no loop over bucket members. Buckets map a group to its newest member, so replacing the
    member of a group is one assignment.
    """

    def __init__(
        self,
        window: timedelta = DEFAULT_WINDOW,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        min_contained_shingles: int = MIN_CONTAINED_SHINGLES,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.window = window
        self.threshold = threshold
        self.min_contained_shingles = min_contained_shingles
        self._entries: dict[str, _Entry] = {}
        # one table per band: band key -> {group: its newest member}, in insertion order
        self._bands: list[dict[bytes, dict[str, _Entry]]] = [{} for _ in range(BANDS)]
        self._groups_with: dict[int, int] = {}  # (bin, value) key -> number of groups holding it
        self._common_keys: set[int] = set()  # the keys held by COMMON_GROUPS groups or more
        # The common keys again, as a direct-mapped table numpy can query for a whole stack of
        # signatures at once: per slot, how many common keys fall in it and the xor of those keys.
        # A slot holding one key holds exactly that key (xor of one); only slots shared by several
        # (~5 %) are asked of the set. uint32 counts cannot overflow (a window holds fewer keys).
        self._slot_count = np.zeros(1 << _FILTER_BITS, dtype=np.uint32)
        self._slot_xor = np.zeros(1 << _FILTER_BITS, dtype=np.uint64)
        self._expiry: list[tuple[datetime, int, str]] = []  # heap of (seen_at, seq, doc_id)
        self._seq = 0
        self._newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._entries

    def add(self, doc_id: str, text: str, seen_at: datetime) -> str | None:
        """Index a document; return the id of the original it duplicates, or None.

        The original is the first-seen document of the best-matching group (highest estimated
        containment; ties go to the earliest), so every copy of one text points at the same id.
        Adding an id that is already indexed returns the same answer and changes nothing.
        """
        known = self._entries.get(doc_id)
        if known is not None:  # fed twice: same answer, no second entry
            return known.group if known.is_copy else None
        sig = compute_signature(text)
        return self._add(doc_id, sig.values, sig.size, seen_at)

    def add_signature(self, doc_id: str, sig: bytes, seen_at: datetime) -> str | None:
        """As `add`, from a stored `signature(text)`: rebuilds the index after a restart."""
        known = self._entries.get(doc_id)
        if known is not None:
            return known.group if known.is_copy else None
        parsed = Signature.from_bytes(sig)
        return self._add(doc_id, parsed.values, parsed.size, seen_at)

    def copy_mask(self, doc_id: str) -> bytes | None:
        """For an indexed copy, the signature positions where it differs from the copy it matched
        (NUM_PERM bits, little-endian): stored beside its answer, it lets `restore_signature` put the
        copy back without searching again. None for an original or a document not kept."""
        entry = self._entries.get(doc_id)
        if entry is None or not entry.is_copy:
            return None
        mask = np.zeros(NUM_PERM, dtype=bool)
        mask[[key >> 32 for key in entry.counted]] = True  # a counted key is (bin << 32) | value
        return np.packbits(mask, bitorder="little").tobytes()

    def restore_signature(
        self, doc_id: str, sig: bytes, seen_at: datetime, original: str | None, mask: bytes | None = None
    ) -> None:
        """Index a document whose answer is already known (`original`, as an earlier run stored it,
        and for a copy its `copy_mask`) without searching for it: warming a new run with the window's
        stored documents, and the index agrees with what was stored even where a search now would
        not (an earlier copy has left the window since). Without the mask, a copy's match is searched
        among its own group's members."""
        if doc_id in self._entries:
            return
        parsed = Signature.from_bytes(sig)
        differ = None
        if original is not None and mask is not None:
            bits = np.unpackbits(np.frombuffer(mask, dtype=np.uint8), bitorder="little")
            differ = bits[:NUM_PERM].astype(bool)
        self._add(doc_id, parsed.values, parsed.size, seen_at, known=(original, differ))

    def _add(
        self,
        doc_id: str,
        values: np.ndarray,
        size: int,
        seen_at: datetime,
        known: tuple[str | None, np.ndarray | None] | None = None,
    ) -> str | None:
        if self._newest is None or seen_at > self._newest:
            self._newest = seen_at
            self._evict(seen_at - self.window)
        if size < MIN_SHINGLES:  # too short to tell a copy from a shared phrase: not kept
            return None
        bands = tuple(_band_keys(values))  # tuples of atoms: the cyclic GC stops tracking them
        buckets = list(map(dict.get, self._bands, bands))  # None where the band is new
        if known is None:
            match, differ = self._best_match(values, size, seen_at, buckets)
            root = None if match is None else match.group
        else:
            root, differ = known
            if root is not None and differ is None:
                # A copy counts the values it does not share with the copy it matched: searched again,
                # among its group's members only (the best match overall was one of them), so the
                # counts come out as the search left them. With none of them left in the window, it
                # counts none (a copy must not make values look common).
                members = {
                    id(b[root]): b[root]
                    for b in buckets
                    if b is not None
                    and root in b
                    and len(b) <= MAX_BUCKET
                    and abs(b[root].seen_at - seen_at) <= self.window
                }
                if len(members) == 1:  # the usual case: what the search would find, without scoring
                    differ = values != next(iter(members.values())).values
                elif members:
                    group_only = [
                        {root: b[root]} if b is not None and root in b and len(b) <= MAX_BUCKET else None
                        for b in buckets
                    ]
                    differ = self._best_match(values, size, seen_at, group_only)[1]
                if differ is None:
                    differ = np.zeros(NUM_PERM, dtype=bool)
        if seen_at < self._newest - self.window:
            return root  # arrived after its own window closed: answered, not kept
        # an original counts all its values; a copy only those that differ from the copy it matched
        if differ is None:
            counted = tuple(_value_keys(values))
        else:
            counted = tuple((_BIN_HIGH[differ] | values[differ]).tolist())
        counts, common = self._groups_with, self._common_keys
        for key in counted:  # distinct already: the bin number is part of each key
            n = counts.get(key, 0) + 1
            counts[key] = n
            if n == COMMON_GROUPS:
                common.add(key)
                self._flip(key, 1)
        self._seq += 1
        group = root or doc_id
        placed: list[dict[str, _Entry]] = []
        entry = _Entry(
            doc_id, values, size, seen_at, self._seq, group, root is not None, bands, placed, counted
        )
        self._entries[doc_id] = entry
        for table, band_key, bucket in zip(self._bands, bands, buckets, strict=True):
            # one member per group and band: the newest, so that a long run of copies stays reachable
            # after its first members leave the window, and syndication does not grow the buckets
            if bucket is None:
                bucket = table[band_key] = {group: entry}
            else:
                bucket[group] = entry  # replacing keeps the group's place in the bucket
            placed.append(bucket)
        heapq.heappush(self._expiry, (seen_at, self._seq, doc_id))
        return root

    def _best_match(
        self,
        values: np.ndarray,
        size: int,
        seen_at: datetime,
        buckets: list[dict[str, _Entry] | None],
    ) -> tuple[_Entry | None, np.ndarray | None]:
        """The indexed document with the highest estimated containment >= threshold (earliest on ties),
        and the signature positions where it differs from `values`."""
        candidates: set[_Entry] = set()
        for bucket in buckets:
            # a band shared by many groups is boilerplate: the document is reached by its other bands
            if bucket is not None and len(bucket) <= MAX_BUCKET:
                candidates.update(bucket.values())
        window = self.window
        entries = [e for e in candidates if abs(e.seen_at - seen_at) <= window]
        if not entries:
            return None, None
        entries.sort(key=_arrival)
        stacked = np.array([e.values for e in entries])
        equal = stacked == values
        if len(entries) > MAX_VERIFIED:
            # the refined score needs the shared-value look-ups: only for the closest few candidates
            raw = np.count_nonzero(equal, axis=1)
            keep = np.sort(np.argsort(-raw, kind="stable")[:MAX_VERIFIED])
            entries = [entries[i] for i in keep.tolist()]
            stacked, equal = stacked[keep], equal[keep]
        # Per-position masks as 128-bit integers (bit i = position i): the score of a candidate is a
        # few integer and float operations instead of a dozen numpy calls on 128-element arrays.
        packed = np.packbits(equal, axis=1, bitorder="little").tobytes()
        width = NUM_PERM // 8
        masks = self._common_masks(np.vstack((values, stacked))) if self._common_keys else None
        mine = masks[0] if masks is not None else 0
        others = masks[1:] if masks is not None else None
        size_a = size * (1.0 - mine.bit_count() / NUM_PERM)
        best, best_score = -1, -1.0
        for i, entry in enumerate(entries):
            theirs = others[i] if others is not None else 0
            shared = mine | theirs
            n = NUM_PERM - shared.bit_count()
            if n < MIN_INFORMATIVE:  # too little evidence to call a copy
                continue
            equal_bits = int.from_bytes(packed[i * width : (i + 1) * width], "little")
            j = (equal_bits & ~shared).bit_count() / n
            if min(size, entry.size) < self.min_contained_shingles:
                score = j
            else:
                size_b = entry.size * (1.0 - theirs.bit_count() / NUM_PERM)
                score = _containment(j, size_a, size_b)
            if score >= self.threshold and score > best_score:
                best, best_score = i, score
        if best < 0:
            return None, None
        return entries[best], ~equal[best]

    def _flip(self, key: int, change: int) -> None:
        """Add (change 1) or remove (-1) a common key in the slot table."""
        slot = _filter_slot(key)
        self._slot_count[slot] = int(self._slot_count[slot]) + change
        self._slot_xor[slot] = int(self._slot_xor[slot]) ^ key

    def _common_masks(self, rows: np.ndarray) -> list[int]:
        """Per row of signatures, bit i set when the value at position i is held by COMMON_GROUPS
        groups or more: the slot table answers for every position at once, the set for shared slots."""
        slots = (rows ^ _FILTER_SALT) & np.uint32(_FILTER_MASK)
        counts = self._slot_count[slots]
        common = (counts == 1) & (self._slot_xor[slots] == (_BIN_HIGH | rows))
        shared = np.flatnonzero(counts > 1)
        if len(shared):
            keys = self._common_keys
            flat = common.reshape(-1)
            for at, value in zip(shared.tolist(), rows.reshape(-1)[shared].tolist(), strict=True):
                flat[at] = ((at % NUM_PERM) << 32 | value) in keys
        packed = np.packbits(common, axis=1, bitorder="little").tobytes()
        width = NUM_PERM // 8
        return [int.from_bytes(packed[i : i + width], "little") for i in range(0, len(packed), width)]

    def _evict(self, cutoff: datetime) -> None:
        counts, common = self._groups_with, self._common_keys
        while self._expiry and self._expiry[0][0] < cutoff:
            _, _, doc_id = heapq.heappop(self._expiry)
            entry = self._entries.pop(doc_id)
            group = entry.group
            for table, band_key, bucket in zip(self._bands, entry.bands, entry.buckets, strict=True):
                # held by another member when a newer copy of its group replaced it
                if bucket.get(group) is entry:
                    del bucket[group]
                    # a late arrival's bucket may have been emptied and made anew since
                    if not bucket and table.get(band_key) is bucket:
                        del table[band_key]
            for key in entry.counted:
                n = counts[key] - 1
                if n:
                    counts[key] = n
                else:
                    del counts[key]
                if n == COMMON_GROUPS - 1:
                    common.discard(key)
                    self._flip(key, -1)
