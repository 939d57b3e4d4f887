"""Messages in Chinese by default, English on request: gettext catalogues compiled by Babel.

Message ids are the Chinese texts themselves; `handlers/locale/en/LC_MESSAGES/jiafang.po` holds
the English. The `.po` file is compiled in memory at first use, so no binary catalogue is kept in
the repository and the two can never disagree.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from models.text import N_

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "N_", "Translator", "normalise_language", "translator"]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "jiafang"
DEFAULT_LANGUAGE = "zh"
LANGUAGES: dict[str, str] = {"zh": "中文", "en": "English"}


class Translator:
    """`gettext`-style lookups for one language; `_` is the short name used in handlers."""

    def __init__(self, language: str, catalogue: gettext.NullTranslations) -> None:
        self.language = language
        self._catalogue = catalogue

    def gettext(self, message: str) -> str:
        return self._catalogue.gettext(message)

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue.ngettext(singular, plural, n)


def normalise_language(code: str | None) -> str:
    """Map a client language code such as "en-GB" or "zh-hans" to one we ship."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translator(language: str) -> Translator:
    language = normalise_language(language)
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT_LANGUAGE or not po_path.exists():
        return Translator(DEFAULT_LANGUAGE, gettext.NullTranslations())
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translator(language, gettext.GNUTranslations(buffer))
