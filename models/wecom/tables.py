"""WeChat Work (企业微信) bookkeeping: callback nonces seen, callbacks kept until handled, the
shared access token, and the apps whose callback URL is in use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db.columns import AwareDateTime, utcnow


class WecomNonce(SQLModel, table=True):
    """A callback nonce a school's app already accepted: the same nonce again to that school's
    app is a replay and is refused (another school's app may send the same nonce)."""

    __tablename__ = "wecom_nonce"
    __table_args__ = (UniqueConstraint("school_id", "nonce"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The school whose WeCom app received it.
    school_id: int = Field(foreign_key="school.id")
    nonce: str = Field(max_length=64)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)


class WecomToken(SQLModel, table=True):
    """The app's access token, shared by every process of the bot (one row per corp and app)."""

    __tablename__ = "wecom_token"

    id: int | None = Field(default=None, primary_key=True)
    #: "corp_id:agent_id"
    app: str = Field(max_length=100, unique=True)
    token: str = Field(max_length=512)
    expires_at: datetime = Field(sa_type=AwareDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class WecomInbox(SQLModel, table=True):
    """A callback accepted and answered, kept until it has been handled.

    Written in the same transaction as its nonce and its `inbound_seen` claim, before WeCom
    gets its answer; `handled_at` is set once the bot has dealt with it. A row still open when
    the bot starts (it stopped between answering and handling) is handled then.
    """

    __tablename__ = "wecom_inbox"
    __table_args__ = (UniqueConstraint("school_id", "update_key"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The school whose WeCom app received it (a userid is unique only within one corp).
    school_id: int = Field(foreign_key="school.id")
    update_key: str = Field(max_length=64)
    #: The decrypted message's fields as JSON (what `on_message` receives).
    payload: str
    received_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)
    handled_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class WecomCallbackApp(SQLModel, table=True):
    """An app whose callback URL is in use: WeCom has sent it a callback under these keys.

    Recorded with the first callback accepted (same transaction as its nonce); from then on the
    URL verification (GET) is refused for these keys, by every process of the bot and after a
    restart. `fingerprint` is a SHA-256 over the corp id, the Token and the EncodingAESKey (not the
    keys themselves): new keys are a new app, whose URL can be verified again.
    """

    __tablename__ = "wecom_callback_app"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, unique=True)
    first_callback_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
