"""Signed links to the parents' pages: one per (notice, guardian) for the receipt page, one per
(incident, guardian) for the incident page, one per (school, guardian) for the feedback page
(`bot.web.feedback_page`) and one per (school, guardian) for the care page
(`bot.web.care_page`), both linked from the receipt page, and one per (survey, guardian) for the
survey page (`bot.web.survey_page`, valid until the survey's deadline), each expiring.

A token is `{subject id}.{guardian id}.{expiry}.{signature}`: the three numbers in lower-case
hex (the expiry in Unix seconds) and the first 16 bytes of an HMAC-SHA256 over them, in
unpadded base64url — about 40 URL-safe characters. Changing any number breaks the signature,
so a link cannot be turned into another family's or kept alive past its expiry.

The link's kind ("notice", "incident", "feedback" or "care") is bound into the signature, not
written in the token: a notice link does not open the incident page and an incident link does not
open the receipt page, even when the ids happen to match (nor does either open the feedback or the
care page, nor a feedback link the care page). Notice tokens are the same as before kinds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

#: Signature length in bytes (128 bits: forging one is out of reach).
SIGNATURE_BYTES = 16
#: What a link opens.
LinkKind = Literal["notice", "incident", "feedback", "care", "survey"]
#: Bound into every signature, so a key shared with other uses cannot mint links, and a link
#: of one kind is no link of the other.
_PURPOSES: dict[str, bytes] = {
    "notice": b"jiafang:receipt-link:v1:",
    "incident": b"jiafang:incident-link:v1:",
    "feedback": b"jiafang:feedback-link:v1:",
    "care": b"jiafang:care-link:v1:",
    "survey": b"jiafang:survey-link:v1:",
}
#: How long a guardian's link to an incident works after the incident was reported.
INCIDENT_LINK_DAYS = 7
#: How long a link to the feedback page works after the receipt page showed it.
FEEDBACK_LINK_DAYS = 1
#: How long a link to the care page (关爱室求助) works after the receipt page showed it.
CARE_LINK_DAYS = 1
_TOKEN = re.compile(r"([0-9a-f]{1,12})\.([0-9a-f]{1,12})\.([0-9a-f]{1,12})\.([A-Za-z0-9_-]{22})")


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token says: this guardian may see and confirm this notice until then."""

    notice_id: int
    guardian_id: int
    expires_at: datetime


@dataclass(frozen=True)
class IncidentClaim:
    """What a valid incident token says: this guardian may see and acknowledge this incident
    until then."""

    incident_id: int
    guardian_id: int
    expires_at: datetime


@dataclass(frozen=True)
class FeedbackClaim:
    """What a valid feedback token says: this guardian of this school may write feedback until
    then."""

    school_id: int
    guardian_id: int
    expires_at: datetime


@dataclass(frozen=True)
class CareClaim:
    """What a valid care token says: this guardian of this school may ask the care room for
    help for their children until then."""

    school_id: int
    guardian_id: int
    expires_at: datetime


@dataclass(frozen=True)
class SurveyClaim:
    """What a valid survey token says: this guardian's family may answer this survey until
    then (the survey's deadline)."""

    survey_id: int
    guardian_id: int
    expires_at: datetime


def link_expiry(display_until: date, zone: ZoneInfo) -> datetime:
    """The end of a notice's display window (its last day, in the school's zone)."""
    return datetime.combine(display_until + timedelta(days=1), time(0), tzinfo=zone)


def incident_link_expiry(reported_at: datetime) -> datetime:
    """Seven days after the incident was reported."""
    return reported_at + timedelta(days=INCIDENT_LINK_DAYS)


class LinkSigner:
    """`LinkSigner(secret).sign(notice_id=…, guardian_id=…, expires_at=…)` → a notice token;
    `sign_incident(incident_id=…, guardian_id=…, expires_at=…)` → an incident token."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret must be at least 16 characters long")
        self._key = secret.encode("utf-8")

    def _signature(self, kind: LinkKind, payload: str) -> str:
        message = _PURPOSES[kind] + payload.encode("ascii")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).rstrip(b"=").decode("ascii")

    def _sign(self, kind: LinkKind, subject_id: int, guardian_id: int, expires_at: datetime) -> str:
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        if subject_id < 0 or guardian_id < 0:
            raise ValueError("ids must not be negative")
        expiry = int(expires_at.timestamp())
        payload = f"{subject_id:x}.{guardian_id:x}.{expiry:x}"
        return f"{payload}.{self._signature(kind, payload)}"

    def _read(self, kind: LinkKind, token: str) -> tuple[int, int, datetime] | None:
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        subject, guardian, expiry, signature = match.groups()
        payload = f"{subject}.{guardian}.{expiry}"
        if not hmac.compare_digest(self._signature(kind, payload), signature):
            return None
        return (
            int(subject, 16),
            int(guardian, 16),
            datetime.fromtimestamp(int(expiry, 16), tz=UTC),
        )

    # -- notices (the receipt page) -----------------------------------------------------------

    def sign(self, *, notice_id: int, guardian_id: int, expires_at: datetime) -> str:
        return self._sign("notice", notice_id, guardian_id, expires_at)

    def read(self, token: str) -> LinkClaim | None:
        """The claim of a genuine notice token, expired or not; None if malformed or forged."""
        read = self._read("notice", token)
        if read is None:
            return None
        notice_id, guardian_id, expires_at = read
        return LinkClaim(notice_id=notice_id, guardian_id=guardian_id, expires_at=expires_at)

    def verify(self, token: str, *, now: datetime) -> LinkClaim | None:
        """The claim of a genuine notice token that has not expired at `now`; otherwise None."""
        claim = self.read(token)
        if claim is None or now >= claim.expires_at:
            return None
        return claim

    # -- incidents (the incident page) --------------------------------------------------------

    def sign_incident(self, *, incident_id: int, guardian_id: int, expires_at: datetime) -> str:
        return self._sign("incident", incident_id, guardian_id, expires_at)

    def read_incident(self, token: str) -> IncidentClaim | None:
        """The claim of a genuine incident token, expired or not; None if malformed or forged."""
        read = self._read("incident", token)
        if read is None:
            return None
        incident_id, guardian_id, expires_at = read
        return IncidentClaim(
            incident_id=incident_id, guardian_id=guardian_id, expires_at=expires_at
        )

    def verify_incident(self, token: str, *, now: datetime) -> IncidentClaim | None:
        """The claim of a genuine incident token not expired at `now`; otherwise None."""
        claim = self.read_incident(token)
        if claim is None or now >= claim.expires_at:
            return None
        return claim

    # -- feedback (the feedback page) ---------------------------------------------------------

    def sign_feedback(self, *, school_id: int, guardian_id: int, expires_at: datetime) -> str:
        return self._sign("feedback", school_id, guardian_id, expires_at)

    def read_feedback(self, token: str) -> FeedbackClaim | None:
        """The claim of a genuine feedback token, expired or not; None if malformed or forged."""
        read = self._read("feedback", token)
        if read is None:
            return None
        school_id, guardian_id, expires_at = read
        return FeedbackClaim(school_id=school_id, guardian_id=guardian_id, expires_at=expires_at)

    # -- care (the care page, 关爱室求助) ---------------------------------------------------------

    def sign_care(self, *, school_id: int, guardian_id: int, expires_at: datetime) -> str:
        return self._sign("care", school_id, guardian_id, expires_at)

    def read_care(self, token: str) -> CareClaim | None:
        """The claim of a genuine care token, expired or not; None if malformed or forged."""
        read = self._read("care", token)
        if read is None:
            return None
        school_id, guardian_id, expires_at = read
        return CareClaim(school_id=school_id, guardian_id=guardian_id, expires_at=expires_at)

    # -- surveys (the survey page, 问卷) ----------------------------------------------------------

    def sign_survey(self, *, survey_id: int, guardian_id: int, expires_at: datetime) -> str:
        """The link for the guardian's family to answer the survey; `expires_at` is the
        survey's deadline."""
        return self._sign("survey", survey_id, guardian_id, expires_at)

    def read_survey(self, token: str) -> SurveyClaim | None:
        """The claim of a genuine survey token, expired or not; None if malformed or forged."""
        read = self._read("survey", token)
        if read is None:
            return None
        survey_id, guardian_id, expires_at = read
        return SurveyClaim(survey_id=survey_id, guardian_id=guardian_id, expires_at=expires_at)
