"""Signed links to the receipt page: one per (notice, guardian), expiring with the notice.

A token is `{notice id}.{guardian id}.{expiry}.{signature}`: the three numbers in lower-case
hex (the expiry in Unix seconds) and the first 16 bytes of an HMAC-SHA256 over them, in
unpadded base64url — about 40 URL-safe characters. Changing any number breaks the signature,
so a link cannot be turned into another family's or kept alive past the notice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: Signature length in bytes (128 bits: forging one is out of reach).
SIGNATURE_BYTES = 16
#: Bound into every signature, so a key shared with other uses cannot mint links.
_PURPOSE = b"jiafang:receipt-link:v1:"
_TOKEN = re.compile(r"([0-9a-f]{1,12})\.([0-9a-f]{1,12})\.([0-9a-f]{1,12})\.([A-Za-z0-9_-]{22})")


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token says: this guardian may see and confirm this notice until then."""

    notice_id: int
    guardian_id: int
    expires_at: datetime


def link_expiry(display_until: date, zone: ZoneInfo) -> datetime:
    """The end of a notice's display window (its last day, in the school's zone)."""
    return datetime.combine(display_until + timedelta(days=1), time(0), tzinfo=zone)


class LinkSigner:
    """`LinkSigner(secret).sign(notice_id=…, guardian_id=…, expires_at=…)` → a token."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret must be at least 16 characters long")
        self._key = secret.encode("utf-8")

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self._key, _PURPOSE + payload.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).rstrip(b"=").decode("ascii")

    def sign(self, *, notice_id: int, guardian_id: int, expires_at: datetime) -> str:
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        if notice_id < 0 or guardian_id < 0:
            raise ValueError("ids must not be negative")
        expiry = int(expires_at.timestamp())
        payload = f"{notice_id:x}.{guardian_id:x}.{expiry:x}"
        return f"{payload}.{self._signature(payload)}"

    def read(self, token: str) -> LinkClaim | None:
        """The claim of a genuine token, expired or not; None if malformed or forged."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        notice, guardian, expiry, signature = match.groups()
        payload = f"{notice}.{guardian}.{expiry}"
        if not hmac.compare_digest(self._signature(payload), signature):
            return None
        return LinkClaim(
            notice_id=int(notice, 16),
            guardian_id=int(guardian, 16),
            expires_at=datetime.fromtimestamp(int(expiry, 16), tz=UTC),
        )

    def verify(self, token: str, *, now: datetime) -> LinkClaim | None:
        """The claim of a genuine token that has not expired at `now`; otherwise None."""
        claim = self.read(token)
        if claim is None or now >= claim.expires_at:
            return None
        return claim
