"""Bucketing functions of the contract: murmur3 (Unleash) and crc32 (hanoi)."""

from __future__ import annotations

import zlib

import mmh3

VARIANT_SEED = 86028157


def hashable(text: str) -> str:
    """``text`` as mmh3 can take it: lone surrogates, which crash mmh3 5.x, become escapes.

    >>> hashable("42"), hashable("ab\\ud800")
    ('42', 'ab\\\\ud800')
    """
    if text.isascii():  # O(1) in CPython: the usual id costs one flag read
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def murmur_bucket(salt_prefix: str, value: str) -> int:
    """``murmur3_32(f"{salt}:{value}") % 100 + 1``, in 1..100; ``salt_prefix`` is ``f"{salt}:"``."""
    return mmh3.hash(salt_prefix + value, 0, False) % 100 + 1


def signed_crc32(value: str) -> int:
    """crc32 as Python 2 returned it: a signed 32-bit integer."""
    crc = zlib.crc32(value.encode("utf-8"))
    return crc - 0x100000000 if crc & 0x80000000 else crc


def crc32_bucket(value: str) -> int:
    """hanoi's bucket, 0..99: signed crc32 with a floor modulo."""
    return signed_crc32(value) % 100


def unsigned_crc32(value: str) -> int:
    """crc32 as Python 3 returns it (hanoi 0.0.4 on Python 3)."""
    return zlib.crc32(value.encode("utf-8"))


def legacy_crc32_bucket(value: str) -> int:
    """hanoi 0.0.4's bucket as it ran on Python 3, 0..99: unsigned crc32 (bucketing ``crc32_inv``)."""
    return unsigned_crc32(value) % 100


def variant_target(salt_prefix: str, value: str, total_weight: int) -> int:
    """Unleash's variant target, in 1..total_weight."""
    return mmh3.hash(salt_prefix + value, VARIANT_SEED, False) % total_weight + 1


def split_percentage(percentage: float) -> tuple[int, int]:
    """``(P, f)`` of the contract: the whole percent and the thousandths of the next one.

    >>> split_percentage(30), split_percentage(0.5), split_percentage(12.345)
    ((30, 0), (0, 500), (12, 345))
    """
    thousandths = round(percentage * 1000)
    return thousandths // 1000, thousandths % 1000


def murmur_in(salt_prefix: str, value: str, whole: int, fine: int) -> bool:
    """In a percentage ``whole + fine / 1000`` under murmur3: Unleash's bucket, then a finer one."""
    h = mmh3.hash(salt_prefix + value, 0, False)
    coarse = h % 100 + 1
    return coarse <= whole or (fine > 0 and coarse == whole + 1 and (h // 100) % 1000 < fine)


def fine_bucket(salt_prefix: str, value: str) -> tuple[int, int]:
    """``(coarse, fine)`` of ``value``: coarse in 1..100, fine in 0..999 (for explanations)."""
    h = mmh3.hash(salt_prefix + value, 0, False)
    return h % 100 + 1, (h // 100) % 1000
