"""Compact, read-only sets of user ids.

A million ids as a Python ``set`` of ``str`` costs ~84 MiB in every worker. Large
lists are kept instead as a sorted ``array`` of signed 64-bit murmur3 hashes (8
bytes an id) plus a bucket index on their top bits (at most 4 bytes an id), so a
lookup is one hash, two array reads and a scan of about one entry. Two ids share
a 64-bit hash with a probability of about n / 2**64 (5e-14 for a million ids),
which is accepted. The serialised form (index and hashes) is what Redis keeps,
so a worker loads a million ids with two ``frombytes`` calls.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable, Iterator

import mmh3

from .hashing import hashable

# Up to this size a frozenset is both faster and small enough.
COMPACT_THRESHOLD = 10_000
_MAX_INDEX_BITS = 20
_HEADER = struct.Struct("<4sBI")  # magic, index bits, number of hashes
_MAGIC = b"FFI1"


def id_hash(user_id: str) -> int:
    """The signed 64-bit hash kept for an id (as :class:`Context` normalises it)."""
    return mmh3.hash64(hashable(user_id))[0]


class IdSet:
    """Membership of user ids; build one with :func:`build_id_set`.

    ``contains`` is a plain function (no attribute look-ups): the evaluator
    binds it once per compiled flag.
    """

    __slots__ = ("contains",)

    def __contains__(self, user_id: str) -> bool:
        return self.contains(hashable(user_id))

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def nbytes(self) -> int:  # pragma: no cover - abstract
        """Memory held by the set, for benchmarks."""
        raise NotImplementedError


class SmallIdSet(IdSet):
    __slots__ = ("_ids",)

    def __init__(self, ids: Iterable[str]) -> None:
        self._ids = frozenset(ids)
        self.contains = self._ids.__contains__

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def nbytes(self) -> int:
        return sys.getsizeof(self._ids) + sum(sys.getsizeof(i) for i in self._ids)


class CompactIdSet(IdSet):
    __slots__ = ("_bits", "_hashes", "_index")

    def __init__(self, hashes: array, index: array, bits: int) -> None:
        self._hashes = hashes
        self._index = index
        self._bits = bits
        self.contains = _compact_membership(hashes, index, bits)

    @classmethod
    def from_hashes(cls, hashes: array) -> CompactIdSet:
        bits = min(_MAX_INDEX_BITS, max(2, (len(hashes) - 1).bit_length()))
        return cls(hashes, _build_index(hashes, bits), bits)

    def __len__(self) -> int:
        return len(self._hashes)

    def to_bytes(self) -> bytes:
        """The form kept in Redis; :func:`id_set_from_bytes` reads it back."""
        header = _HEADER.pack(_MAGIC, self._bits, len(self._hashes))
        return header + self._index.tobytes() + self._hashes.tobytes()

    def nbytes(self) -> int:
        return self._hashes.itemsize * len(self._hashes) + self._index.itemsize * len(self._index)


EMPTY_ID_SET = SmallIdSet(())


def build_id_set(ids: Iterable[object]) -> IdSet:
    """An :class:`IdSet` of these ids, normalised with ``str``."""
    normalised = ids if isinstance(ids, (set, frozenset)) else {str(i) for i in ids}
    if len(normalised) <= COMPACT_THRESHOLD:
        return SmallIdSet(hashable(str(i)) for i in normalised) if normalised else EMPTY_ID_SET
    hashes = array("q", sorted({id_hash(str(i)) for i in normalised}))
    return CompactIdSet.from_hashes(hashes)


def id_set_to_bytes(id_set: IdSet) -> bytes:
    """Serialise any id set in the compact form."""
    if isinstance(id_set, CompactIdSet):
        return id_set.to_bytes()
    hashes = array("q", sorted({id_hash(i) for i in id_set}))  # type: ignore[attr-defined]
    return CompactIdSet.from_hashes(hashes).to_bytes() if hashes else b""


def id_set_from_bytes(data: bytes) -> IdSet:
    """Read what :func:`id_set_to_bytes` wrote."""
    if not data:
        return EMPTY_ID_SET
    if len(data) < _HEADER.size:
        raise ValueError("not a serialised id set")
    magic, bits, count = _HEADER.unpack_from(data)
    if magic != _MAGIC or not 1 <= bits <= _MAX_INDEX_BITS:
        raise ValueError("not a serialised id set")
    start = _HEADER.size
    index_end = start + 4 * ((1 << bits) + 1)
    if len(data) != index_end + 8 * count:
        # A short blob would fail later, inside a flag check: refuse it while loading.
        raise ValueError(f"truncated id set: {len(data)} bytes for {count} ids")
    index = array("I")
    index.frombytes(data[start:index_end])
    hashes = array("q")
    hashes.frombytes(data[index_end : index_end + 8 * count])
    return CompactIdSet(hashes, index, bits)


def _compact_membership(hashes: array, index: array, bits: int):
    shift = 64 - bits
    half = 1 << (bits - 1)
    hash64 = mmh3.hash64

    def contains(user_id: str) -> bool:
        h = hash64(user_id)[0]
        bucket = (h >> shift) + half
        lo = index[bucket]
        hi = index[bucket + 1]
        return lo != hi and h in hashes[lo:hi]

    return contains


def _build_index(hashes: array, bits: int) -> array:
    """``index[b]`` is the first position whose bucket is >= ``b``."""
    shift = 64 - bits
    half = 1 << (bits - 1)
    size = 1 << bits
    index = array("I", bytes(4 * (size + 1)))
    position = 0
    # One pass: every bucket up to the one of each hash starts at its position.
    next_bucket = 0
    for position, h in enumerate(hashes):
        bucket = (h >> shift) + half
        while next_bucket <= bucket:
            index[next_bucket] = position
            next_bucket += 1
    total = len(hashes)
    while next_bucket <= size:
        index[next_bucket] = total
        next_bucket += 1
    return index
