"""Every message shown to people exists in English too, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from handlers.i18n import LOCALE_DIR, normalise_language, translator

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _source_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers", "models", "scheduler"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
        ):
            if isinstance(message, str) and message:
                found.add(message)
    return found


def _english() -> dict[str, str]:
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "jiafang.po").open("rb") as po:
        catalog = read_po(po, locale="en")
    return {str(m.id): str(m.string) for m in catalog if m.id and isinstance(m.string, str)}


def test_every_message_has_an_english_translation() -> None:
    english = _english()
    missing = sorted(m for m in _source_messages() if not english.get(m))
    assert missing == [], "run scripts/update-catalogue and translate:\n" + "\n".join(missing)


def test_translations_keep_the_placeholders() -> None:
    english = _english()
    wrong = [
        msgid
        for msgid in _source_messages()
        if english.get(msgid)
        and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(english[msgid]))
    ]
    assert wrong == []


def test_english_messages_contain_no_chinese_outside_quotes() -> None:
    """Chinese may appear in English text only inside “…”, e.g. an example a teacher could type."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    quoted = re.compile(r"“[^”]*”")
    leaking = [
        msgid
        for msgid, text in _english().items()
        if cjk.search(quoted.sub("", PLACEHOLDER.sub("", text)))
    ]
    assert leaking == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "en"), ("en-GB", "en"), ("zh-hans", "zh"), ("zh_CN", "zh"), (None, "zh"), ("fr", "zh")],
)
def test_client_languages_map_to_the_ones_we_ship(code: str | None, expected: str) -> None:
    assert normalise_language(code) == expected


def test_chinese_is_the_message_id_itself() -> None:
    assert translator("zh")._("已取消，本次内容没有保存。") == "已取消，本次内容没有保存。"
