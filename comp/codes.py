"""Random, unguessable codes: secret codes (加密号) for entrants."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: a judge reads these aloud and types them on a tablet.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def random_code(length: int = 8) -> str:
    """Return a random code from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def secret_codes(count: int, taken: set[str] | frozenset[str] = frozenset(), length: int = 8) -> list[str]:
    """Return `count` distinct random codes, none of them already taken."""
    codes: list[str] = []
    seen = set(taken)
    while len(codes) < count:
        code = random_code(length)
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes
