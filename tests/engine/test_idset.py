"""Compact id sets for big user lists."""

import pytest

from featureflags.engine.idset import (
    COMPACT_THRESHOLD,
    EMPTY_ID_SET,
    CompactIdSet,
    SmallIdSet,
    build_id_set,
    id_hash,
    id_set_from_bytes,
    id_set_to_bytes,
)

BIG = COMPACT_THRESHOLD + 5_000


@pytest.fixture(scope="module")
def big_set():
    return build_id_set(str(i) for i in range(0, 2 * BIG, 2))  # even numbers only


def test_small_list_is_a_frozenset_with_string_ids():
    ids = build_id_set([1, "2", 3])
    assert isinstance(ids, SmallIdSet)
    assert len(ids) == 3
    assert ids.contains("1") and ids.contains("2") and not ids.contains("4")
    assert "3" in ids


def test_empty_list():
    assert build_id_set([]) is EMPTY_ID_SET
    assert len(EMPTY_ID_SET) == 0
    assert not EMPTY_ID_SET.contains("1")
    assert id_set_to_bytes(EMPTY_ID_SET) == b""
    assert id_set_from_bytes(b"") is EMPTY_ID_SET


def test_threshold():
    assert isinstance(build_id_set(str(i) for i in range(COMPACT_THRESHOLD)), SmallIdSet)
    assert isinstance(build_id_set(str(i) for i in range(COMPACT_THRESHOLD + 1)), CompactIdSet)


def test_big_list_membership(big_set):
    assert isinstance(big_set, CompactIdSet)
    assert len(big_set) == BIG
    for i in range(0, 2 * BIG, 2):
        assert big_set.contains(str(i))
    for i in range(1, 2 * BIG, 2):
        assert not big_set.contains(str(i))
    assert not big_set.contains("")
    assert not big_set.contains("x" * 500)


def test_big_list_uses_about_12_bytes_an_id(big_set):
    assert big_set.nbytes() <= 16 * len(big_set)


def test_duplicates_and_ints_are_normalised():
    ids = build_id_set([*range(BIG), *map(str, range(BIG))])
    assert len(ids) == BIG
    assert ids.contains("42")


@pytest.mark.parametrize("ids", [[str(i) for i in range(50)], [str(i) for i in range(BIG)]])
def test_serialised_form_round_trips(ids):
    loaded = id_set_from_bytes(id_set_to_bytes(build_id_set(ids)))
    assert isinstance(loaded, CompactIdSet)
    assert len(loaded) == len(ids)
    assert all(loaded.contains(i) for i in ids[:2000])
    assert not loaded.contains("nope")


def test_corrupt_serialised_forms_are_refused_when_loaded(big_set):
    data = big_set.to_bytes()
    with pytest.raises(ValueError):
        id_set_from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValueError):
        id_set_from_bytes(data[:-8])  # truncated: would fail inside a flag check
    with pytest.raises(ValueError):
        id_set_from_bytes(data + b"\0" * 8)
    with pytest.raises(ValueError):
        id_set_from_bytes(data[:5])
    with pytest.raises(ValueError):
        id_set_from_bytes(data[:4] + bytes([0]) + data[5:])  # 0 index bits


def test_ids_with_lone_surrogates_do_not_crash_hashing():
    """mmh3 crashes the process on a lone surrogate; ids are escaped first, as Context does."""
    odd = "ab\ud800"
    small = build_id_set([odd, "x"])
    big = build_id_set([odd, *map(str, range(BIG))])
    assert odd in small and odd in big
    assert small.contains("ab\\ud800") and big.contains("ab\\ud800")  # what Context(user_id=odd) holds
    assert id_hash(odd) == id_hash("ab\\ud800")
    assert id_set_from_bytes(id_set_to_bytes(small)).contains("ab\\ud800")
