"""A PNG the bot drew (the digest's chart, a survey's, a campaign's, an evaluation's) kept in
`media` and named for a reply: its key is the caller's prefix and the picture's hash, so drawing
the same picture twice keeps one row and a redelivered reply finds it again."""

from __future__ import annotations

import hashlib

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.types import Attachment
from models.db.columns import insert_ignoring_duplicates, utcnow
from models.outbox.media import Media


async def stored_png(session: AsyncSession, png: bytes, *, key: str, filename: str) -> Attachment:
    """Store `png` under `key` + its hash (in the caller's transaction); the reply's attachment."""
    named = f"{key}:{hashlib.sha256(png).hexdigest()[:16]}"
    await insert_ignoring_duplicates(
        session,
        Media.__table__,  # type: ignore[attr-defined]
        {
            "key": named,
            "filename": filename,
            "content_type": "image/png",
            "data": png,
            "created_at": utcnow(),
        },
        unique=["key"],
    )
    return Attachment(media_key=named, filename=filename, content_type="image/png", data=png)
