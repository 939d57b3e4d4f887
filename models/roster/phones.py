"""Phone numbers as the roster and messengers write them → one comparable form."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D")
_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")


def normalise_phone(raw: str | None) -> str:
    """Digits only, without a leading +86 / 0086 / 86 country code on a mainland mobile.

    Returns "" for nothing usable. `+86 138-0013-8000`, `8613800138000`, `13800138000` → `13800138000`.
    """
    if raw is None:
        return ""
    digits = _NON_DIGITS.sub("", str(raw))
    for prefix in ("0086", "86"):
        if (
            digits.startswith(prefix)
            and len(digits) - len(prefix) == 11
            and digits[len(prefix)] == "1"
        ):
            return digits[len(prefix) :]
    return digits


def is_mainland_mobile(phone: str) -> bool:
    return bool(_MAINLAND_MOBILE.fullmatch(phone))


def mask_phone(phone: str) -> str:
    """`13800138000` → `138****8000`, for lists where the full number is not needed."""
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * len(phone)
