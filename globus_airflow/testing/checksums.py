"""Checksum algorithms the local service accepts in ``checksum_algorithm``."""

from __future__ import annotations

import hashlib
import zlib
from typing import Protocol

DEFAULT_ALGORITHM = "MD5"


class Hasher(Protocol):
    """The part of the hashlib interface the copy engine uses."""

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


class _Adler32:
    """ADLER32 with the hashlib interface; the digest is 8 lowercase hex digits."""

    def __init__(self) -> None:
        self._value = 1

    def update(self, data: bytes, /) -> None:
        self._value = zlib.adler32(data, self._value)

    def hexdigest(self) -> str:
        return format(self._value & 0xFFFFFFFF, "08x")


_HASHLIB_NAMES = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}

# NOTE: Globus Connect Server also offers CRC32C, which the standard library lacks,
# so a submission naming it is rejected here.
SUPPORTED_ALGORITHMS = frozenset(_HASHLIB_NAMES) | {"ADLER32"}


def normalize_algorithm(name: str | None) -> str:
    """Return the canonical upper-case algorithm name; None means MD5.

    Raise ValueError for an unsupported algorithm.
    """
    canonical = (name or DEFAULT_ALGORITHM).upper().replace("-", "")
    if canonical not in SUPPORTED_ALGORITHMS:
        supported = ", ".join(sorted(SUPPORTED_ALGORITHMS))
        raise ValueError(f"unsupported checksum_algorithm {name!r}: use one of {supported}")
    return canonical


def new_hasher(algorithm: str) -> Hasher:
    """Return a fresh hasher for a name accepted by :func:`normalize_algorithm`."""
    canonical = normalize_algorithm(algorithm)
    if canonical == "ADLER32":
        return _Adler32()
    return hashlib.new(_HASHLIB_NAMES[canonical])
