"""Resident ID-card numbers (GB 11643-1999): validation, masking, and protection at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask_babel import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


class IdNumberError(ValueError):
    """An ID-card number that is malformed or fails its check digit."""


def check_digit(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def normalize(number: str) -> str:
    """Return the number stripped and upper-cased, or raise IdNumberError saying what is wrong."""
    # NFKC turns full-width digits typed with a Chinese IME into ASCII; other scripts' digits
    # pass str.isdigit() but are refused, so one number has one spelling and one look-up hash.
    value = unicodedata.normalize("NFKC", number or "").strip().upper()
    if len(value) != 18:
        raise IdNumberError(_("must have 18 characters, not %(count)s", count=len(value)))
    if not (value.isascii() and value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")):
        raise IdNumberError(_("must be 17 digits followed by a digit or X"))
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError(_("birth date %(date)s is not a real date", date=value[6:14])) from None
    if value[17] != check_digit(value[:17]):
        # Never the digit that would fit: told it, people change the last digit, and a typo is
        # as likely anywhere in the seventeen before it.
        raise IdNumberError(
            _("the digits do not agree with the check digit: a typo may be in any digit, check them all")
        )
    return value


def birth_date(number: str) -> date:
    """Return the birth date encoded in a valid number."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender(number: str) -> str:
    """Return 'M' or 'F' from the sequence digit (odd is male)."""
    return "M" if int(number[16]) % 2 else "F"


def mask(number: str) -> str:
    """Show the first 4 and last 4 characters only: 3505**********1234."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


@dataclass(frozen=True)
class Protector:
    """Encrypts ID numbers (Fernet) and derives their keyed look-up hash (HMAC-SHA256)."""

    enc_key: bytes
    mac_key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> Protector:
        """Derive independent encryption and hashing keys from one secret with HKDF."""

        def derive(label: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"jiangxin", info=label).derive(secret.encode())

        return cls(base64.urlsafe_b64encode(derive(b"id-encrypt")), derive(b"id-lookup"))

    def lookup_hash(self, number: str) -> str:
        """Return the keyed hash used for uniqueness and look-up."""
        return hmac.new(self.mac_key, number.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, number: str) -> bytes:
        """Encrypt a number for storage."""
        return Fernet(self.enc_key).encrypt(number.encode())

    def decrypt(self, token: bytes) -> str:
        """Decrypt a stored number."""
        return Fernet(self.enc_key).decrypt(bytes(token)).decode()


def protector() -> Protector:
    """Return the protector for the current app (DATA_KEY, else derived from SECRET_KEY)."""
    from flask import current_app

    cache = current_app.extensions.setdefault("jiangxin.protector", {})
    secret = current_app.config.get("DATA_KEY") or current_app.config["SECRET_KEY"]
    if secret not in cache:
        cache[secret] = Protector.from_secret(secret)
    return cache[secret]
