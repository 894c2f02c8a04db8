"""统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters whose last one is a
check character over the first 17. Pure functions, no Flask."""
from __future__ import annotations

# 31 characters: digits and upper-case letters without I, O, S, V, Z. A character's value is its index.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28


def normalize_credit_code(raw: str | None) -> str:
    """What people paste: spaces, dashes, lower case, full-width characters."""
    if not raw:
        return ""
    out = []
    for ch in raw:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII
            ch = chr(code - 0xFEE0)
        if ch.isspace() or ch in "-_":
            continue
        out.append(ch.upper())
    return "".join(out)


def check_character(first17: str) -> str:
    """The check character for 17 characters of the alphabet (ValueError otherwise)."""
    if len(first17) != 17 or any(c not in VALUES for c in first17):
        raise ValueError("need 17 characters of the credit-code alphabet")
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS))
    value = 31 - total % 31
    return ALPHABET[0 if value == 31 else value]


def is_valid_credit_code(code: str) -> bool:
    """True for an 18-character code of the alphabet whose last character matches the check."""
    if not isinstance(code, str) or len(code) != 18 or any(c not in VALUES for c in code):
        return False
    return check_character(code[:17]) == code[17]
