"""A notice's attachments served behind the receipt page's signed link: `GET /n/{token}/a/{id}`.

The file is fetched from the channel it was sent on (`FileFetcher`: WeCom's `media/get` for a
file sent on WeCom), never kept on the web server. It is served only when the attachment belongs
to the notice the link names, its size is within `MAX_ATTACHMENT_BYTES` and its type (from the
file name) is on `ALLOWED_TYPES` (PDF, pictures, office documents); always as a download
(`Content-Disposition: attachment`, a filename with no path or quote in it) and with
`X-Content-Type-Options: nosniff` (`bot.web.security`).
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from models.notices.tables import AttachmentKind, NoticeAttachment

#: The largest file served (WeCom's own limit for a file message is 20 MB).
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024

#: Content types a parent may download, by file name extension.
ALLOWED_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]')


#: Fetches an attachment's bytes from its channel (at most `limit` bytes; None when the channel
#: no longer has it or cannot be asked).
FileFetcher = Callable[[NoticeAttachment, int], Awaitable[bytes | None]]


@dataclass(frozen=True)
class FileSource:
    """Where the receipt page fetches attachments: `fetch` for files sent on `channels`."""

    channels: frozenset[str]
    fetch: FileFetcher


def content_type_of(attachment: NoticeAttachment) -> str | None:
    """The type the file is served as, or None when it is not on the allow-list."""
    if attachment.kind is AttachmentKind.PHOTO and not attachment.filename:
        return "image/jpeg"
    if "." not in attachment.filename:
        return None
    return ALLOWED_TYPES.get("." + attachment.filename.rsplit(".", 1)[-1].lower())


def safe_filename(attachment: NoticeAttachment, content_type: str) -> str:
    """The name the download is saved as: no path, quote or control character in it."""
    name = unicodedata.normalize("NFC", attachment.filename)
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        extension = mimetypes.guess_extension(content_type) or ""
        name = f"attachment-{attachment.position}{extension}"
    return name[:100]


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real name (RFC 6266 / RFC 5987)."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_answer(attachment: NoticeAttachment, content_type: str, data: bytes) -> web.Response:
    return web.Response(
        body=data,
        content_type=content_type,
        headers={
            "Content-Disposition": content_disposition(safe_filename(attachment, content_type)),
            "X-Content-Type-Options": "nosniff",
        },
    )


def servable(attachment: NoticeAttachment, fetchable: frozenset[str]) -> bool:
    """Whether the page can offer this attachment for download."""
    too_big = attachment.size is not None and attachment.size > MAX_ATTACHMENT_BYTES
    return (
        attachment.channel in fetchable and not too_big and content_type_of(attachment) is not None
    )
