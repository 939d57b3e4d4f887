"""Signed links: a genuine token opens its own notice (or incident) for its own guardian until it
expires; anything altered, forged, signed with another secret, of the other kind or malformed
opens nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.web.links import IncidentClaim, LinkClaim, LinkSigner, incident_link_expiry, link_expiry

SECRET = "a-long-and-random-test-secret-1234"
NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
EXPIRES = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def token() -> str:
    return LinkSigner(SECRET).sign(notice_id=12, guardian_id=345, expires_at=EXPIRES)


def test_a_genuine_token_says_which_notice_guardian_and_until_when() -> None:
    claim = LinkSigner(SECRET).verify(token(), now=NOW)
    assert claim == LinkClaim(notice_id=12, guardian_id=345, expires_at=EXPIRES)


def test_a_token_is_compact_and_url_safe() -> None:
    value = token()
    assert len(value) <= 48
    assert set(value) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _swap_ids(value: str) -> str:
    notice, guardian, rest = value.split(".", 2)
    return f"{guardian}.{notice}.{rest}"


def _with_field(index: int, new: str) -> Callable[[str], str]:
    def change(value: str) -> str:
        parts = value.split(".")
        parts[index] = new
        return ".".join(parts)

    return change


def _flip_last(value: str) -> str:
    return value[:-1] + ("A" if value[-1] != "A" else "B")


REFUSED: list[tuple[str, Callable[[str], str]]] = [
    ("another guardian", _with_field(1, format(346, "x"))),
    ("another notice", _with_field(0, format(13, "x"))),
    ("a later expiry", _with_field(2, format(int(EXPIRES.timestamp()) + 86400, "x"))),
    ("ids swapped", _swap_ids),
    ("signature altered", _flip_last),
    ("signature cut short", lambda v: v[:-1]),
    ("signature missing", lambda v: v.rsplit(".", 1)[0]),
    ("upper-case hex", lambda v: v.split(".", 1)[0].upper() + "." + v.split(".", 1)[1]),
    ("padding added", lambda v: v + "=="),
    ("spaces around", lambda v: f" {v} "),
    ("empty", lambda v: ""),
    ("garbage", lambda v: "not-a-token"),
    ("a path", lambda v: f"../{v}"),
    ("non-ASCII digits", lambda v: "１２" + v[1:]),
]


@pytest.mark.parametrize(("case", "change"), REFUSED, ids=[c for c, _ in REFUSED])
def test_an_altered_or_malformed_token_is_refused(case: str, change: Callable[[str], str]) -> None:
    signer = LinkSigner(SECRET)
    altered = change(token())
    assert altered != token()
    assert signer.verify(altered, now=NOW) is None
    assert signer.read(altered) is None


def test_a_token_signed_with_another_secret_is_refused() -> None:
    other = LinkSigner("another-long-random-secret-5678").sign(
        notice_id=12, guardian_id=345, expires_at=EXPIRES
    )
    assert LinkSigner(SECRET).verify(other, now=NOW) is None


@pytest.mark.parametrize(
    ("moment", "valid"),
    [
        (NOW, True),
        (EXPIRES - timedelta(seconds=1), True),
        (EXPIRES, False),
        (EXPIRES + timedelta(days=30), False),
    ],
    ids=["long before", "a second before", "at expiry", "a month after"],
)
def test_a_token_is_valid_until_it_expires(moment: datetime, valid: bool) -> None:
    signer = LinkSigner(SECRET)
    assert (signer.verify(token(), now=moment) is not None) is valid
    # Reading without the clock still tells who it was for (the page says "expired", not "unknown").
    assert signer.read(token()) is not None


def test_a_short_secret_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        LinkSigner("short")


def test_a_naive_expiry_cannot_be_signed() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        LinkSigner(SECRET).sign(notice_id=1, guardian_id=1, expires_at=datetime(2026, 12, 1))


def test_a_link_expires_at_the_end_of_the_notices_last_day_in_the_schools_zone() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    assert link_expiry(date(2026, 12, 1), zone) == datetime(2026, 12, 2, 0, 0, tzinfo=zone)
    assert link_expiry(date(2026, 12, 1), zone) == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


# -- kinds: notice links and incident links --------------------------------------------------


def incident_token() -> str:
    return LinkSigner(SECRET).sign_incident(incident_id=12, guardian_id=345, expires_at=EXPIRES)


def test_a_genuine_incident_token_says_which_incident_guardian_and_until_when() -> None:
    claim = LinkSigner(SECRET).verify_incident(incident_token(), now=NOW)
    assert claim == IncidentClaim(incident_id=12, guardian_id=345, expires_at=EXPIRES)
    assert LinkSigner(SECRET).verify_incident(incident_token(), now=EXPIRES) is None


def test_kinds_cannot_be_swapped() -> None:
    signer = LinkSigner(SECRET)
    # Same numbers, other kind: a different signature, and neither opens the other's page.
    assert incident_token().rsplit(".", 1)[0] == token().rsplit(".", 1)[0]
    assert incident_token() != token()
    assert signer.read(incident_token()) is None
    assert signer.verify(incident_token(), now=NOW) is None
    assert signer.read_incident(token()) is None
    assert signer.verify_incident(token(), now=NOW) is None


@pytest.mark.parametrize(("case", "change"), REFUSED, ids=[c for c, _ in REFUSED])
def test_an_altered_or_malformed_incident_token_is_refused(
    case: str, change: Callable[[str], str]
) -> None:
    altered = change(incident_token())
    assert altered != incident_token()
    assert LinkSigner(SECRET).read_incident(altered) is None


def test_notice_tokens_keep_their_format() -> None:
    """Links already sent to parents keep working: the signature is the same as before kinds."""
    payload = f"{12:x}.{345:x}.{int(EXPIRES.timestamp()):x}"
    digest = hmac.new(
        SECRET.encode(), b"jiafang:receipt-link:v1:" + payload.encode(), hashlib.sha256
    ).digest()
    signature = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert token() == f"{payload}.{signature}"


def test_an_incident_link_expires_seven_days_after_the_report() -> None:
    reported = datetime(2026, 11, 16, 2, 5, tzinfo=UTC)
    assert incident_link_expiry(reported) == datetime(2026, 11, 23, 2, 5, tzinfo=UTC)
