"""Cutting a long message into pieces a messenger accepts, at line breaks where possible; and
holding a received text to what the messenger carries in one message.

Telegram counts characters (4,096 a message), WeCom counts UTF-8 bytes (2,048); `size` says how
a channel measures.
"""

from __future__ import annotations

from collections.abc import Callable

Size = Callable[[str], int]


def utf8_size(text: str) -> int:
    return len(text.encode())


def _fitting(text: str, limit: int, size: Size) -> int:
    """How many leading characters of `text` measure at most `limit` (at least one, so a
    piece always moves on). `size` grows with length and counts a character as one or more."""
    low, high = 1, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if size(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def split_text(text: str, limit: int, *, size: Size = len) -> list[str]:
    """Pieces of at most `limit` (as `size` measures), each cut at the last line break that
    keeps it within the limit, else at the limit itself; line breaks at a cut are dropped."""
    pieces: list[str] = []
    rest = text
    while size(rest) > limit:
        end = _fitting(rest, limit, size)
        cut = rest.rfind("\n", 0, end + 1)
        if cut <= 0:
            cut = end
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def capped(text: str, limit: int, *, size: Size = len) -> tuple[str, bool]:
    """A received text held to `limit` (as `size` measures): the text and False when it fits,
    else its beginning and True (`Inbound.text_cut`: the dispatcher refuses it and says so).
    No messenger's own client sends more, so only a forged or broken update is cut."""
    if size(text) <= limit:
        return text, False
    return text[: _fitting(text, limit, size)], True
