"""Reading a one-message visit log 一句话家访记录: the rule book.

A teacher may log a visit in one message, e.g. ``今天上门家访了三(2)班张小明，见了奶奶，最近作业按时完成``
or ``昨天电访李华妈妈 说孩子感冒``. `parse_visit_text` picks out what it can; the visit conversation
then asks only for what is still missing. Plain rules over the teacher's own roster, no outside
service. Full-width digits and brackets count as ordinary ones (``１１月１６日``, ``三（2）班``).

**Date** (the first date expression in the message counts; if it does not exist, such as
``2月30日``, there is no date and the words stay in the notes for the teacher to see; a date in
the future is returned as written and refused later by the conversation):

- 今天/今日/今早/今晚 → today; 昨天/昨日/昨晚 → yesterday; 前天 → two days ago; 大前天 → three;
  ``3天前`` / ``三天前`` / ``两天前`` → that many days back, ``一周前`` → seven. A part of the day
  after a date (``前天下午``, ``昨天晚上``) is read with it.
- ``11月16日`` / ``11月16号`` / ``十一月十六日`` / ``11.16`` / ``11/16`` → that day of the current
  year (``3.5小时``, ``1/3的同学`` and other amounts are not dates);
  ``2026-11-16`` (also with ``/`` or ``.``) and ``2026年11月16日`` → that day.
  ``20号`` / ``20日`` / ``二十号`` → the latest 20th: this month's, or last month's when this
  month's is still to come; ``上个月28号`` → last month's 28th.
- 周三/星期三/礼拜三 (日 or 天 for Sunday) → the most recent Wednesday, *today included*: said on a
  Thursday it means yesterday, said on a Wednesday it means today.
  上周三/上星期三 → the Wednesday of last week (weeks start on Monday); 上上周三 → the week before;
  这周三/本周三 → the Wednesday of this week. 每周三 is a habit, not a date.
- The future is read too, so that the conversation refuses it out loud (`ParsedVisit.date_words`
  says how it was written): 明天/明早/明晚 → tomorrow, 后天, 大后天, 下周三.

**Form** (家访形式):

- 上门/入户/走访 → 上门家访; 电话/打电话/电访/通话/微信电话/微信语音 → 电访;
  视频/微信视频/视频通话/视频电话/线上家访 → 视频家访 (``看视频``, ``短视频`` are not);
  来校/到校/来学校/到学校/来访/家长来访 → 家长来访; 约谈/约访/约见/请家长 → 约访;
  微信/短信/信访/写信/邮件/信 → 信访. 信 inside other words (信心, 相信, 自信, 信任, 信息 …)
  and ``按时到校``, ``不想来学校``, ``迟到`` are not form words.
- 家访 on its own means 上门家访, but any more specific word wins: ``电话家访`` is 电访.
  When two specific words appear, the first one written counts (``上门家访，之前打过电话`` → 上门);
  words of the same form next to it go with it (``入户走访``).
- With no form word, a student's name between 去/到 and 家 is a home visit (``去张小明家``).

**Category** only when written: 常规, 重点, 立即 (紧急 also means 立即); the first one counts.

**Who was met**: 爸爸/父亲/爸 → 父亲, 妈妈/母亲/妈 → 母亲, 爷爷/祖父 → 爷爷, 奶奶/祖母 → 奶奶,
外公/姥爷 → 外公, 外婆/姥姥 → 外婆, 父母/爸妈 → 父母, 姑妈 → 姑姑, 姨妈 → 阿姨; 哥哥, 姐姐, 叔叔,
阿姨, 舅舅, 舅妈, 姑姑, 监护人 as written. When several appear, the first one that is attached to a
student's name (``李华妈妈``, ``李华的妈妈``) or follows a meeting word (见/见了/见到/找/约/看望/
拜访/接待, or 和/与/跟/同 as in ``和奶奶谈了``) counts; failing that, the first one written. The
relations joined to it (``爸爸和奶奶``, ``爸爸、妈妈``, ``爷爷奶奶``) are met too: several people are
kept, joined by ``、`` (父亲 with 母亲 is 父母). `read_met` reads the answer to that question the
same way, and never takes a date for a person.

**Class**: ``三(2)班``, ``三（2）班``, ``3(2)班``, ``3-2班``, ``3.2班``, ``三年级2班``, ``三年级二班`` →
grade 3, class 2.

**Students**: every full name of the teacher's own students found in the message, longest first and
never overlapping (``张小明`` does not also find ``张小``), each name once even when two students
share it. A given name alone (the full name minus its one-character surname, if at least two
characters remain: ``小明`` for ``张小明``) also finds the student, but only when it belongs to exactly
one name on the roster, the message holds no full name at all (so ``张小明很文静`` does not also
find a 李文静), and it does not follow another common surname (``王子轩`` is not ``苏子轩``).
Telling two students with the same name apart is the conversation's job. When none of the
teacher's students is named, the school's other students given as `outside` are looked for (so
the conversation can say the student is not the teacher's), and then pieces of the message that
may be a student's name written not quite right (`models.visits.name_guess`: ``张晓明`` for
``张小明``) are offered as `ParsedVisit.guesses`, never taken as the student.

**Notes**: what is left once the recognised date, form word (with a contact verb right after it:
``电话联系了``), category, class, names and the who-was-met phrase (``见了奶奶``, ``和奶奶谈了``,
``李华的妈妈``) are taken out; a relation tied to nothing leaves only when it starts a clause
(``妈妈说…`` but not ``想妈妈``). Small words left dangling (了, 的, 过, 一下, 去, 在, 家 …) and
leading or trailing punctuation are dropped; everything else is kept as written, reported speech
included: ``昨天电访李华妈妈 说孩子感冒`` → ``说孩子感冒``. Notes are not shortened here.

**Length**: a message longer than `VISIT_TEXT_LIMIT` characters is not read at all (nothing is
recognised and `ParsedVisit.too_long` says why); the conversation answers that it is too long for a
one-message log. Every pattern here reads a text in one pass (no pattern can match the same text in
more than one way and then retry them all), so reading takes time in proportion to the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

from models.text import N_
from models.visits.name_guess import NameGuess, guess_names
from models.visits.tables import VisitCategory, VisitForm

#: The longest message read as a one-message visit log, in characters. Such a log is a sentence
#: or two (the examples above have 20 to 40 characters); a thousand leaves room for a detailed
#: paragraph, is half of what the notes field takes when asked for on its own, and keeps the
#: reading of any message, however contrived, to about a millisecond.
VISIT_TEXT_LIMIT = 1000


@dataclass(frozen=True)
class ParsedVisit:
    """What one free-text visit message says; `None` or empty where it says nothing."""

    visit_date: date | None
    form: VisitForm | None
    category: VisitCategory | None
    met: str | None
    class_name: tuple[int, int] | None  # (grade, number)
    student_names: tuple[str, ...]
    notes: str
    #: The message was longer than `VISIT_TEXT_LIMIT` and was not read.
    too_long: bool = False
    #: The words the date was read from, as written (``明天``, ``上上周五``).
    date_words: str = field(default="", compare=False)
    #: With no student of the teacher's named: names written that are the school's other
    #: students (`outside`), and pieces that may be a mistyped name of the teacher's students.
    outside_names: tuple[str, ...] = field(default=(), compare=False)
    guesses: tuple[NameGuess, ...] = field(default=(), compare=False)

    def found_anything(self) -> bool:
        """Whether the message looks like a visit log at all: a student (or a name that may
        be one) or a form was named."""
        return bool(self.student_names or self.guesses) or self.form is not None


# ---------------------------------------------------------------------------------------------
# Text bookkeeping: recognised pieces are blanked out of a working copy so later rules skip them.

#: Full-width ASCII (！…～) and the ideographic space map to their half-width forms, one character
#: for one, so positions in the working copy are positions in the original text.
_HALF_WIDTH: dict[int, int] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALF_WIDTH[0x3000] = 0x20
_TAKEN = "\x00"
_HALF_WIDTH[ord(_TAKEN)] = 0x20


class _Scan:
    """The message being read: the original, a normalised working copy, and what was taken."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.work = text.translate(_HALF_WIDTH)

    def take(self, start: int, end: int) -> None:
        """Mark `[start, end)` as recognised: no later rule sees it and it leaves the notes."""
        self.work = self.work[:start] + _TAKEN * (end - start) + self.work[end:]

    def is_free(self, start: int, end: int) -> bool:
        return _TAKEN not in self.work[start:end]


# ---------------------------------------------------------------------------------------------
# Numbers: 1-31 as digits or as Chinese numerals (一 … 三十一).

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = r"(?:[一二三四五六七八九]?十[一二三四五六七八九]?|[一二三四五六七八九])"
_NUMBER = rf"(?:\d{{1,2}}|{_CN_NUMBER})"


def _number(text: str) -> int:
    """The value of a string matched by `_NUMBER` (the regex guarantees the shape)."""
    if text.isascii():
        return int(text)
    tens, ten, ones = text.partition("十")
    if not ten:
        return _CN_DIGITS[text]
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


# ---------------------------------------------------------------------------------------------
# Class: 三(2)班, 3(2)班, 3-2班, 三年级二班.

_GRADE = r"(?:[1-9]|[一二三四五六七八九])"
_CLASS_RE = re.compile(
    rf"(?<!\d)(?P<g1>{_GRADE})\s*\(\s*(?P<n1>{_NUMBER})\s*\)\s*班?"
    rf"|(?<!\d)(?P<g2>[1-9])\s*-\s*(?P<n2>\d{{1,2}})\s*班"
    rf"|(?<!\d)(?P<g3>{_GRADE})\s*年级\s*(?P<n3>{_NUMBER})\s*班"
    rf"|(?<![\d.])(?P<g4>[1-9])\s*[.。]\s*(?P<n4>\d{{1,2}})\s*班"
)


def _find_class(scan: _Scan) -> tuple[int, int] | None:
    match = _CLASS_RE.search(scan.work)
    if match is None:
        return None
    for grade, number in (("g1", "n1"), ("g2", "n2"), ("g3", "n3"), ("g4", "n4")):
        if match[grade] is not None:
            scan.take(*match.span())
            return _number(match[grade]), _number(match[number])
    return None  # pragma: no cover - one alternative always matched


# ---------------------------------------------------------------------------------------------
# Dates.

_RELATIVE_DAYS = {
    "大前天": 3,
    "前天": 2,
    "前日": 2,
    "昨天": 1,
    "昨日": 1,
    "昨晚": 1,
    "昨早": 1,
    "今天": 0,
    "今日": 0,
    "今早": 0,
    "今晚": 0,
    "今儿": 0,
    # The future: read so that the conversation can refuse it out loud.
    "明天": -1,
    "明日": -1,
    "明早": -1,
    "明晚": -1,
    "后天": -2,
    "大后天": -3,
}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
#: A count of days or weeks back (3天前, 两天前, 十天前).
_COUNT = rf"(?:\d{{1,2}}|两|{_CN_NUMBER})"
#: The part of the day after a date (前天下午, 昨天晚上): read with the date, so not in the notes.
_DAY_PART = r"(?:\s*(?:上午|下午|中午|晚上|傍晚|早上|早晨|夜里|放学后))?"
#: Words after a number that make it an amount (3.5小时, 1/3的同学), not a month and day.
_AMOUNT = r"(?:分|元|块|小时|个|斤|公斤|千克|米|厘米|%|倍|岁|万|千|百|页|道|题|本|次|天|周|年|的|以上|左右)"
_DATE_RE = re.compile(
    r"(?:(?<!\d)(?P<iy>\d{4})(?P<sep>[-/.])(?P<im>\d{1,2})(?P=sep)(?P<id>\d{1,2})(?!\d)"
    rf"|(?<!\d)(?P<cy>\d{{4}})\s*年\s*(?P<cm>{_NUMBER})\s*月\s*(?P<cd>{_NUMBER})\s*[日号]"
    rf"|(?<![\d年])(?P<mm>{_NUMBER})\s*月\s*(?P<md>{_NUMBER})\s*[日号]"
    rf"|(?P<mo>上个?|本|这个?)月\s*(?P<mod>{_NUMBER})\s*[日号]"
    rf"|(?<![\d./])(?P<sm>\d{{1,2}})[./](?P<sd>\d{{1,2}})(?![\d./])(?!\s*{_AMOUNT})"
    rf"|(?<![\d一二三四五六七八九十两几第])(?P<ago>{_COUNT})\s*(?:天|日)(?:之|以)?前"
    rf"|(?<![\d一二三四五六七八九十两几第])(?P<wago>{_COUNT})\s*个?(?:周|星期|礼拜)(?:之|以)?前"
    rf"|(?<![\d月年./\-:：])(?P<dd>\d{{1,2}})\s*[号日](?![线楼])"
    rf"|(?<![一二三四五六七八九十月年第])(?P<cdd>{_CN_NUMBER})号(?![线楼])"
    r"|(?P<rel>" + "|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)) + ")"
    r"|(?<![每一二三四五六七八九十两几])(?P<wk>上上个?|上个?|这个?|本|下个?)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天七]))"
    + _DAY_PART
)


def _date_of(match: re.Match[str], today: date) -> date | None:
    """The day a `_DATE_RE` match names, or None when no such day exists (2月30日)."""
    if match["rel"] is not None:
        return today - timedelta(days=_RELATIVE_DAYS[match["rel"]])
    if match["ago"] is not None:
        return today - timedelta(days=_count(match["ago"]))
    if match["wago"] is not None:
        return today - timedelta(weeks=_count(match["wago"]))
    if match["wd"] is not None:
        weekday = _WEEKDAYS[match["wd"]]
        prefix = match["wk"] or ""
        monday = today - timedelta(days=today.weekday())
        if prefix.startswith("上上"):
            return monday - timedelta(days=14 - weekday)
        if prefix.startswith("上"):
            return monday - timedelta(days=7 - weekday)
        if prefix.startswith("下"):
            return monday + timedelta(days=7 + weekday)
        if prefix:
            return monday + timedelta(days=weekday)
        return today - timedelta(days=(today.weekday() - weekday) % 7)
    if match["mo"] is not None:
        first = today.replace(day=1)
        base = (first - timedelta(days=1)) if match["mo"].startswith("上") else first
        return _valid_date(base.year, str(base.month), match["mod"])
    day_only = match["dd"] or match["cdd"]
    if day_only is not None:
        return _recent_day(today, _number(day_only))
    for year, month, day in (("iy", "im", "id"), ("cy", "cm", "cd"), (None, "mm", "md")):
        if match[month] is not None:
            return _valid_date(int(match[year]) if year else today.year, match[month], match[day])
    return _valid_date(today.year, match["sm"], match["sd"])


def _count(text: str) -> int:
    return 2 if text == "两" else _number(text)


def _recent_day(today: date, day: int) -> date | None:
    """`20号`: that day of this month, or of last month when it is still to come (the way
    周三 is the latest Wednesday); None when that month has no such day."""
    month = today.replace(day=1)
    if day > today.day:
        month = (month - timedelta(days=1)).replace(day=1)
    try:
        return month.replace(day=day)
    except ValueError:
        return None


def _valid_date(year: int, month: str, day: str) -> date | None:
    try:
        return date(year, _number(month), _number(day))
    except ValueError:
        return None


def _find_date(scan: _Scan, today: date) -> tuple[date | None, str]:
    """The first date written, and its words as written (`明天`, `上上周五`)."""
    match = _DATE_RE.search(scan.work)
    if match is None:
        return None, ""
    found = _date_of(match, today)
    if found is not None:
        scan.take(*match.span())
    return found, scan.original[match.start() : match.end()].strip()


# ---------------------------------------------------------------------------------------------
# Forms and categories.


class _Word(Enum):
    """Form-word outcomes that are not a form."""

    GENERIC = "generic"  # 家访: a home visit unless a more specific word says otherwise
    NOT_A_FORM = "not_a_form"  # 相信, 按时到校 …: read past, never a form


_FORM_WORDS: dict[str, VisitForm | _Word] = {
    "家访": _Word.GENERIC,
    **dict.fromkeys(("上门", "入户", "走访"), VisitForm.HOME),
    **dict.fromkeys(
        (
            "电话",
            "电访",
            "通话",
            "打电话",
            "打个电话",
            "打了电话",
            "打了个电话",
            "打了一个电话",
            "打了一通电话",
            "通电话",
            "微信电话",
            "微信语音",
            "语音通话",
        ),
        VisitForm.PHONE,
    ),
    **dict.fromkeys(
        (
            *("视频", "视频家访", "视频通话", "视频电话", "视频聊天", "视频连线", "视频会议"),
            *("微信视频", "微信视频通话", "打视频", "开视频", "线上家访", "云家访", "网上家访"),
        ),
        VisitForm.VIDEO,
    ),
    **dict.fromkeys(
        (
            *("来校", "到校", "来访", "家长来校", "家长到校", "家长来访"),
            *("来学校", "到学校", "来了学校", "来到学校", "家长来学校", "家长到学校"),
        ),
        VisitForm.PARENT_CAME,
    ),
    **dict.fromkeys(("约谈", "约访", "约见", "请家长", "约家长"), VisitForm.INVITED),
    **dict.fromkeys(
        (
            *("微信", "信访", "短信", "写信", "寄信", "回信", "来信", "书信", "信件", "邮件", "信"),
            *("写了信", "写了一封信", "写了封信", "一封信"),
        ),
        VisitForm.LETTER,
    ),
    **dict.fromkeys(
        (
            *("信心", "相信", "自信", "信任", "信用", "诚信", "信息", "信号", "信念", "信誉"),
            *("迷信", "确信", "坚信", "守信", "失信", "威信", "信服", "可信", "轻信", "不信"),
            *("信赖", "信仰", "深信", "置信", "信守", "听信"),
            *("按时到校", "准时到校", "按时来校", "准时来校", "迟到", "早到校"),
            *("孩子到校", "孩子来校", "学生到校", "学生来校", "电话号码", "电话号"),
            *("没到校", "未到校", "没来校", "不来校", "不到校"),
            *("按时到学校", "准时到学校", "按时来学校", "准时来学校", "回到学校", "回学校"),
            *("孩子到学校", "孩子来学校", "学生到学校", "学生来学校", "没到学校", "没来学校"),
            *("不来学校", "不到学校", "不想来学校", "不愿来学校", "不肯来学校", "未到学校"),
            *("看视频", "刷视频", "短视频", "玩视频", "视频号", "拍视频", "发视频"),
        ),
        _Word.NOT_A_FORM,
    ),
}


def _alternation(words: Iterable[str]) -> str:
    """A regex that matches any of `words`, trying the longest first."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_FORM_RE = re.compile(_alternation(_FORM_WORDS))
#: How the contact went, right after the form word (电话联系了, 微信沟通): taken with it.
_CONTACT_AFTER = re.compile(r"(?:联系|沟通|交流|看望|探望|拜访|访问)(?:了|过)?(?:一下)?")


def _find_form(scan: _Scan) -> VisitForm | None:
    """The first specific form word, else 家访; the chosen word and the words of the same form
    touching it (上门家访, 入户走访, 电话家访) are taken."""
    generic: re.Match[str] | None = None
    chosen: re.Match[str] | None = None
    matches: list[re.Match[str]] = []
    for match in _FORM_RE.finditer(scan.work):
        matches.append(match)
        meaning = _FORM_WORDS[match[0]]
        if meaning is _Word.GENERIC:
            generic = generic or match
        elif isinstance(meaning, VisitForm) and chosen is None:
            chosen = match
    if chosen is None:
        if generic is None:
            return None
        scan.take(*generic.span())
        return VisitForm.HOME
    form = _FORM_WORDS[chosen[0]]
    assert isinstance(form, VisitForm)
    start, end = chosen.span()
    contact = _CONTACT_AFTER.match(scan.work, end)
    scan.take(start, contact.end() if contact else end)
    joined = [m.span() for m in matches if _FORM_WORDS[m[0]] in (form, _Word.GENERIC)]
    for word_start, word_end in joined[joined.index(chosen.span()) + 1 :]:  # 上门走访了
        if word_start != end:
            break
        end = word_end
        contact = _CONTACT_AFTER.match(scan.work, end)
        scan.take(word_start, contact.end() if contact else end)
    for word_start, word_end in reversed(joined[: joined.index(chosen.span())]):  # 家访电话
        if word_end != start:
            break
        start = word_start
        scan.take(word_start, word_end)
    return form


#: Going to a student's home without a form word: ``去张小明家``, ``到李华家里``.
_GOING = ("去了", "去过", "到了", "到过", "去", "到")


def _went_home(scan: _Scan, name_spans: list[tuple[int, int]]) -> bool:
    """Whether a student's name stands between 去/到 and 家 (a home visit in other words)."""
    for start, end in name_spans:
        home = scan.work.startswith("家", end) and not scan.work.startswith(("家长", "家人"), end)
        if home and any(scan.work.startswith(word, start - len(word)) for word in _GOING):
            return True
    return False


_CATEGORY_WORDS = {
    "常规": VisitCategory.ROUTINE,
    "重点": VisitCategory.KEY,
    "立即": VisitCategory.IMMEDIATE,
    "紧急": VisitCategory.IMMEDIATE,
}
_CATEGORY_RE = re.compile(_alternation(_CATEGORY_WORDS))


def _find_category(scan: _Scan) -> VisitCategory | None:
    match = _CATEGORY_RE.search(scan.work)
    if match is None:
        return None
    scan.take(*match.span())
    return _CATEGORY_WORDS[match[0]]


# ---------------------------------------------------------------------------------------------
# Students.


def _find_students(scan: _Scan, names: Iterable[str]) -> tuple[list[tuple[int, int]], list[str]]:
    """Take every roster name in the message: their spans, and the names once each, in order.

    Full names first; given names only when no full name is in the message (module docstring).
    """
    full: dict[str, str] = {}
    for name in names:
        shown = name.strip()
        if len(shown) >= 2:
            full.setdefault(shown.translate(_HALF_WIDTH), shown)
    spans = _scan_names(scan.work, full)
    if not spans:
        owners: dict[str, set[str]] = {}
        for key, shown in full.items():
            surname = 2 if key[:2] in _COMPOUND_SURNAMES else 1
            if len(key) - surname >= 2:
                owners.setdefault(key[surname:], set()).add(shown)
        given = {part: who.pop() for part, who in owners.items() if len(who) == 1}
        spans = [
            (start, end)
            for start, end in _scan_names(scan.work, given)
            if not _other_surname_before(scan.work, start, given[scan.work[start:end]])
        ]
        full = given
    found: list[str] = []
    for start, end in spans:
        shown = full[scan.work[start:end]]
        if shown not in found:
            found.append(shown)
        scan.take(start, end)
    return spans, found


#: The most common one-character surnames: a given name right after one of these (and not the
#: student's own) is someone else's name, e.g. 子轩 inside 王子轩 is not 苏子轩.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
)


#: Two-character surnames: the given name of 欧阳子涵 is 子涵.
_COMPOUND_SURNAMES = frozenset(
    (
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "令狐",
        "慕容",
        "端木",
        "夏侯",
        "公孙",
        "长孙",
        "尉迟",
        "宇文",
        "司徒",
        "司空",
        "独孤",
        "南宫",
        "轩辕",
        "百里",
        "呼延",
        "万俟",
        "单于",
    )
)


def _other_surname_before(text: str, start: int, student: str) -> bool:
    return start > 0 and text[start - 1] in _SURNAMES and text[start - 1] != student[0]


def _scan_names(text: str, lookup: dict[str, str]) -> list[tuple[int, int]]:
    """Leftmost-longest, non-overlapping occurrences of `lookup`'s keys in `text`.

    At each position the candidate lengths are tried longest first: a handful of set look-ups
    per character and nothing to compile, so a fresh roster per call costs next to nothing.
    """
    if not lookup:
        return []
    lengths = sorted({len(key) for key in lookup}, reverse=True)
    spans: list[tuple[int, int]] = []
    position = 0
    while position < len(text):
        for length in lengths:
            if text[position : position + length] in lookup:
                spans.append((position, position + length))
                position += length
                break
        else:
            position += 1
    return spans


# ---------------------------------------------------------------------------------------------
# Who was met.

#: Words for a relative → the one recorded (and shown, translated, on the summary card).
_RELATIONS: dict[str, str] = {
    **dict.fromkeys(("爸爸", "父亲", "爸", "老爸"), N_("父亲")),
    **dict.fromkeys(("妈妈", "母亲", "妈", "老妈"), N_("母亲")),
    **dict.fromkeys(("爷爷", "祖父"), N_("爷爷")),
    **dict.fromkeys(("奶奶", "祖母"), N_("奶奶")),
    **dict.fromkeys(("外公", "姥爷", "外祖父"), N_("外公")),
    **dict.fromkeys(("外婆", "姥姥", "外祖母"), N_("外婆")),
    **dict.fromkeys(("父母", "爸妈", "爸爸妈妈"), N_("父母")),
    "姑妈": N_("姑姑"),
    "姨妈": N_("阿姨"),
    **{
        word: word
        for word in (
            N_("哥哥"),
            N_("姐姐"),
            N_("叔叔"),
            N_("阿姨"),
            N_("舅舅"),
            N_("舅妈"),
            N_("姑姑"),
            N_("监护人"),
        )
    },
}
_RELATION_RE = re.compile(_alternation(_RELATIONS))
_RELATION_AT_END = re.compile(f"(?:{_alternation(_RELATIONS)})\\Z")
_WHOSE = r"(?:孩子|学生|他|她|其)?的?"
_SEE_BEFORE = re.compile(
    r"(?:见到了|见到|见了|见过|会见|见|看望了|看望|拜访了|拜访|找了|找|约了|约|接待了|接待)"
    + _WHOSE
    + r"\Z"
)
_WITH_BEFORE = re.compile(r"(?:和|与|跟|同)" + _WHOSE + r"\Z")
_TALK_AFTER = re.compile(r"(?:面谈|谈话|交谈|谈|聊天|聊|沟通|交流)(?:了|过)?(?:一下)?")
_CLAUSE_START = re.compile(r"(?:\A|[\s,.;:!?、，。；：！？" + _TAKEN + r"])\Z")
_LOOK_BACK = 8


#: Between two people met together (爸爸和奶奶, 爸爸、妈妈, 爷爷奶奶), spaces around it allowed.
_AND_WORDS = ("以及", "还有", "和", "与", "跟", "及", "、", "/")
#: Several people met are recorded together, joined by this.
MET_SEPARATOR = "、"


def _find_met(scan: _Scan, name_spans: list[tuple[int, int]]) -> str | None:
    """Who was met: the first relation tied to a student or a meeting verb, else the first,
    with the relations joined to it (``见了爸爸和奶奶`` → ``父亲、奶奶``)."""
    name_ends = {end: start for start, end in name_spans}
    first: re.Match[str] | None = None
    for match in _RELATION_RE.finditer(scan.work):
        people, end = _joined_relations(scan, match)
        phrase = _relation_phrase(scan, match.start(), end, name_ends)
        if phrase is not None:
            scan.take(*phrase)
            return people
        first = first or match
    if first is None:
        return None
    people, end = _joined_relations(scan, first)
    if _CLAUSE_START.search(scan.work, max(0, first.start() - 1), first.start()):  # 妈妈说…
        scan.take(first.start(), end)
    return people


def _joined_relations(scan: _Scan, match: re.Match[str]) -> tuple[str, int]:
    """The relation `match` found and those joined right after it: (the people, once each,
    joined by `MET_SEPARATOR`; where the last one ends)."""
    people = [_RELATIONS[match[0]]]
    end = match.end()
    while True:
        following = _RELATION_RE.match(scan.work, _after_joint(scan.work, end))
        if following is None:
            break
        if _RELATIONS[following[0]] not in people:
            people.append(_RELATIONS[following[0]])
        end = following.end()
    return join_people(people), end


def _after_joint(text: str, position: int) -> int:
    """Past the spaces, one of `_AND_WORDS` (if any) and the spaces after it."""
    while position < len(text) and text[position].isspace():
        position += 1
    word = next((w for w in _AND_WORDS if text.startswith(w, position)), "")
    position += len(word)
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def join_people(people: list[str]) -> str:
    """Several people met as one answer: each once, 父亲 and 母亲 as 父母, joined by `、`."""
    unique = list(dict.fromkeys(people))
    if "父亲" in unique and "母亲" in unique:
        at = min(unique.index("父亲"), unique.index("母亲"))
        unique = [p for p in unique if p not in ("父亲", "母亲")]
        unique.insert(at, "父母")
    return MET_SEPARATOR.join(dict.fromkeys(unique))


def _relation_phrase(
    scan: _Scan, start: int, end: int, name_ends: dict[int, int]
) -> tuple[int, int] | None:
    """The span of `见了奶奶` / `和奶奶谈了` / `李华的妈妈` around the relations at
    `[start, end)`, or None if unanchored."""
    head = start
    attached = name_ends.get(start)
    if attached is None and start > 0 and scan.work[start - 1] == "的":
        attached = name_ends.get(start - 1)
    if attached is not None:
        head = attached
    window = max(0, head - _LOOK_BACK)
    seen = _SEE_BEFORE.search(scan.work, window, head)
    if seen is not None:
        return seen.start(), end
    together = _WITH_BEFORE.search(scan.work, window, head)
    if together is not None and not _RELATION_AT_END.search(scan.work, window, together.start()):
        talk = _TALK_AFTER.match(scan.work, end)
        return together.start(), talk.end() if talk else end
    if attached is not None:
        return attached, end
    return None


# ---------------------------------------------------------------------------------------------
# Notes.

# Each alternative in these patterns begins differently from the others (了一下 is read as 了 then
# 一下, never as a word of its own), so a text splits into filler words in exactly one way and a
# leftover that is not filler is known as such after one pass.
_PUNCTUATION = r"\s,.;:!?、，。；：！？~～\-—…·"
#: A leftover consisting only of these is glue between recognised pieces (去张小明家家访了).
_ONLY_FILLER = re.compile(rf"(?:一[下次趟]|进行|[{_PUNCTUATION}了的过去到在家给对向为和与跟同地])*")
#: Small words dropped at the start of a leftover (了一下, 的 …).
_LEADING_FILLER = re.compile(r"(?:了|一[下次趟]|[的过地])+")
#: Small words dropped at the end of a leftover (…在, …的): stripped as characters, no pattern.
_TRAILING_FILLER = "的在去到给向对为"
#: Spaces before a separator and the punctuation after it: `(?<!\s)` starts a match only where
#: the spaces begin, so a long run of spaces is not scanned again from each of its positions.
_SEPARATOR_RUN = re.compile(rf"(?<!\s)\s*([,.;:!?、，。；：！？~～…])[{_PUNCTUATION}]*")
_STRIPPED = " \t\r\n\u3000,.;:!?、，。；：！？~～-—…·"
_SPACE_RUN = re.compile(r"\s+")
_FREE_PIECE = re.compile(f"[^{_TAKEN}]+")


def _notes(scan: _Scan) -> str:
    """The original text minus everything taken, tidied at the seams."""
    pieces: list[str] = []
    for piece in _FREE_PIECE.finditer(scan.work):
        start, end = piece.span()
        if _ONLY_FILLER.fullmatch(piece[0]):
            pieces.append(" ")
            continue
        if start > 0:
            lead = _LEADING_FILLER.match(scan.work, start, end)
            start = lead.end() if lead else start
        if end < len(scan.work):
            end = start + len(scan.work[start:end].rstrip(_TRAILING_FILLER))
        pieces.append(scan.original[start:end])
    text = _SEPARATOR_RUN.sub(r"\1", "".join(pieces))
    return _SPACE_RUN.sub(" ", text).strip(_STRIPPED)


# ---------------------------------------------------------------------------------------------


def parse_visit_text(
    text: str, *, today: date, names: Iterable[str], outside: Iterable[str] = ()
) -> ParsedVisit:
    """Read one free-text visit message (see the module docstring for the rules).

    `names` are the full names of the teacher's own students (duplicates allowed); `outside`,
    the names of the school's other students, are looked for only when none of `names` is
    written, and then so are near misses of `names` (`ParsedVisit.guesses`). Never raises;
    what is not recognised is `None` / empty and stays in `notes`. A text longer than
    `VISIT_TEXT_LIMIT` is not read: nothing is recognised and `too_long` is set.
    """
    if len(text) > VISIT_TEXT_LIMIT:
        return ParsedVisit(
            visit_date=None,
            form=None,
            category=None,
            met=None,
            class_name=None,
            student_names=(),
            notes="",
            too_long=True,
        )
    scan = _Scan(text)
    roster = list(names)
    name_spans, students = _find_students(scan, roster)
    outside_names: list[str] = []
    if not students:
        outside_spans, outside_names = _find_outside(scan, outside, roster)
        name_spans += outside_spans
    class_name = _find_class(scan)
    visit_date, date_words = _find_date(scan, today)
    form = _find_form(scan)
    if form is None and _went_home(scan, name_spans):
        form = VisitForm.HOME
    category = _find_category(scan)
    guesses: list[NameGuess] = []
    if not students and not outside_names:
        relations = [m.span() for m in _RELATION_RE.finditer(scan.work)]
        for start, end, guess in guess_names(scan.work, set(roster), blocked=relations):
            guesses.append(guess)
            name_spans.append((start, end))
            scan.take(start, end)
    met = _find_met(scan, name_spans)
    return ParsedVisit(
        visit_date=visit_date,
        form=form,
        category=category,
        met=met,
        class_name=class_name,
        student_names=tuple(students),
        notes=_notes(scan),
        date_words=date_words,
        outside_names=tuple(outside_names),
        guesses=tuple(guesses),
    )


def _find_outside(
    scan: _Scan, outside: Iterable[str], roster: list[str]
) -> tuple[list[tuple[int, int]], list[str]]:
    """Full names of the school's other students written in the message (taken like names)."""
    own = {name.strip() for name in roster}
    lookup = {
        name.strip().translate(_HALF_WIDTH): name.strip()
        for name in outside
        if len(name.strip()) >= 2 and name.strip() not in own
    }
    spans = _scan_names(scan.work, lookup)
    found: list[str] = []
    for start, end in spans:
        shown = lookup[scan.work[start:end]]
        if shown not in found:
            found.append(shown)
        scan.take(start, end)
    return spans, found


# ---------------------------------------------------------------------------------------------
# Who was met, typed as the answer to that question.

#: What may stand around the relations in a typed answer: ``孩子妈妈``, ``爸爸和奶奶``,
#: ``见了爷爷、奶奶``. Each alternative starts with its own character, so the text splits one way.
_MET_FILLER = re.compile(
    r"(?:孩子|学生|他|她|其|的|和|与|跟|及|以及|还有|都|见了|见到|见|[/、\s,.;])*"
)


@dataclass(frozen=True)
class MetAnswer:
    """A typed answer to "who was met": the people (`、` between several), or why it is none."""

    people: str | None
    #: The answer is a date (``12月2日``), not a person.
    is_date: bool = False


def read_met(text: str, *, today: date) -> MetAnswer:
    """``爸爸和奶奶`` → 父亲、奶奶; ``孩子妈妈`` → 母亲; ``邻居王阿姨`` as typed; a date is no one."""
    work = text.translate(_HALF_WIDTH).strip()
    relations = list(_RELATION_RE.finditer(work))
    if not relations:
        if _DATE_RE.search(work) is not None or not any(c.isalpha() for c in work):
            return MetAnswer(None, is_date=_DATE_RE.search(work) is not None)
        return MetAnswer(text.strip())
    rest = _RELATION_RE.sub(" ", work)
    if _MET_FILLER.fullmatch(rest) is None:
        return MetAnswer(text.strip())
    return MetAnswer(join_people([_RELATIONS[m[0]] for m in relations]))


# ---------------------------------------------------------------------------------------------
# Typed answers with a meaning of their own.


class Navigation(Enum):
    """A word that moves through the conversation instead of answering it."""

    BACK = "back"
    SKIP = "skip"
    CANCEL = "cancel"


_NAVIGATION_WORDS: dict[str, Navigation] = {
    **dict.fromkeys(
        ("返回", "上一步", "上一题", "上一个", "回到上一步", "返回上一步", "后退", "退回", "back"),
        Navigation.BACK,
    ),
    **dict.fromkeys(("跳过", "略过", "跳过这题", "跳过此项", "skip", "pass"), Navigation.SKIP),
    **dict.fromkeys(("取消", "退出", "cancel", "quit", "exit"), Navigation.CANCEL),
}
#: Said when nothing was found: 无, 没有问题, 都挺好 … (compared after `_plain`).
_NO_PROBLEM_WORDS = frozenset(
    (
        *("无", "没", "没有", "暂无", "暂没有", "暂时没有", "无问题", "没问题", "没有问题"),
        *("暂无问题", "暂时没有问题", "目前没有问题", "目前无问题", "没什么问题", "没啥问题"),
        *("没有什么问题", "没发现问题", "没有发现问题", "未发现问题", "暂未发现问题", "暂未发现"),
        *("没发现什么问题", "没有发现什么问题", "无明显问题", "没有明显问题", "无异常", "没有异常"),
        *("都挺好", "挺好", "挺好的", "都很好", "很好", "都好", "一切正常", "一切都好", "正常"),
        *("都正常", "一切良好", "良好", "还好", "没有什么", "没什么", "无特殊情况", "没有特殊情况"),
        *("none", "no", "nothing", "n/a", "na", "否"),
    )
)
#: What `_plain` strips from both ends: spaces, punctuation, and a closing particle or two.
_PLAIN_STRIP = " \t\r\n,.;:!?、，。；：！？~～…-—·\"'“”‘’"
_PLAIN_TAIL = "了的啊呀哦呢吧嘛哈"


def _plain(text: str) -> str:
    """`text` half-width, lower-case, without the punctuation and particles around it."""
    work = text.translate(_HALF_WIDTH).strip(_PLAIN_STRIP).lower()
    return work.rstrip(_PLAIN_TAIL).strip(_PLAIN_STRIP) or work


def navigation_word(text: str) -> Navigation | None:
    """``返回`` / ``上一步`` → BACK, ``跳过`` / ``skip`` → SKIP, ``取消`` → CANCEL; else None.

    Only the whole answer counts: ``返回学校`` is an answer."""
    return _NAVIGATION_WORDS.get(_plain(text))


def says_no_problem(text: str) -> bool:
    """Whether an answer to "what problems were found" says there were none."""
    return _plain(text) in _NO_PROBLEM_WORDS
