"""Certificate numbers and verification codes.

A verification code is an HMAC-SHA256, under a server secret, of the number and the facts
the certificate certifies (name, competition, award, rank, issue date), written as 12
characters of the unambiguous alphabet (about 59 bits): whoever changes a fact or the
number on a printed certificate cannot make a code that still matches.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from comp.codes import ALPHABET

LENGTH = 12
VERSION = b"jiangxin.certificate/1"
_SEPARATORS = re.compile(r"[\s\-·.]+")


@dataclass(frozen=True)
class Certified:
    """The facts a certificate certifies, each of them covered by its verification code."""

    number: str
    name: str
    competition: str  # the competition's code
    award: str
    rank: int | None
    issued_on: date

    def message(self) -> bytes:
        """Return the facts as the unambiguous byte string the code is computed over."""
        fields = (
            self.number,
            self.name,
            self.competition,
            self.award,
            "" if self.rank is None else str(self.rank),
            self.issued_on.isoformat(),
        )
        # The unit separator cannot occur in any field, so no two fact lists share a message.
        return VERSION + b"\x1f" + "\x1f".join(fields).encode()


def derive_key(secret: str) -> bytes:
    """Derive the certificate key from the server secret, independent of every other key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"jiangxin", info=b"certificate-verify").derive(
        secret.encode()
    )


def verification_code(key: bytes, facts: Certified) -> str:
    """Return the facts' verification code: 12 characters of the unambiguous alphabet."""
    value = int.from_bytes(hmac.new(key, facts.message(), hashlib.sha256).digest(), "big")
    chars = []
    for _ in range(LENGTH):
        value, digit = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "".join(chars)


def normalize(code: str | None) -> str:
    """Return a typed code upper-cased, without the spaces or dashes it was printed or typed with."""
    return _SEPARATORS.sub("", code or "").upper()[: 2 * LENGTH]


def matches(key: bytes, facts: Certified, given: str | None) -> bool:
    """Tell, in constant time, whether the given code is the facts' code."""
    return hmac.compare_digest(verification_code(key, facts).encode(), normalize(given).encode())


def grouped(code: str) -> str:
    """Show a code in groups of four, as printed: ABCD EFGH JKMN."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def number(competition_code: str, sequence: int) -> str:
    """Return the certificate number: the competition code and a sequence, QZ-2026-UAV-001."""
    return f"{competition_code}-{sequence:03d}"


def sequence_of(competition_code: str, certificate_number: str) -> int | None:
    """Return the sequence part of a number of this competition, None if it is not one."""
    prefix = f"{competition_code}-"
    tail = certificate_number[len(prefix) :] if certificate_number.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None
