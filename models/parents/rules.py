"""What a parent's own message is, read from its words (pure rules, no database).

A guardian who writes to the bot outside any conversation means one of a few things:

- an acknowledgement (`收到`, `好的`, `已阅`, `知道了`, `收到，谢谢`): the receipt of the notice they
  were sent — the same as pressing 确认收到;
- thanks alone (`谢谢老师`): courtesy, answered kindly, never a receipt;
- a sick leave 病假 / leave 请假 (`孩子今天发烧请假`, `肚子疼，去医院看病了`): an absence for the
  head teacher to confirm (DOMAIN.md: a sick absence of two school days or more calls for an
  immediate visit, so the school has to know of it on the first day);
- a message saying the child is well again (`烧退了，明天返校`): not a new leave, forwarded as any
  other message;
- nothing readable (`1`, `？`): not forwarded;
- anything else: a message for the head teacher.

An acknowledgement is read word by word against a small vocabulary (the longest word first), so
`收到了谢谢老师` is one but `收到，明天几点集合？` is not; a long text is never one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum


class ParentIntent(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    THANKS = "thanks"
    SICK_LEAVE = "sick_leave"
    UNREADABLE = "unreadable"
    MESSAGE = "message"


#: An acknowledgement is short: a longer text says something more.
ACK_LIMIT = 20

#: Words that acknowledge what was received (any one of them makes the text an acknowledgement).
ACK_WORDS = frozenset(
    {
        "收到",
        "已收到",
        "收到了",
        "收悉",
        "好",
        "好的",
        "好滴",
        "好嘞",
        "好哒",
        "好吧",
        "已阅",
        "已读",
        "已看",
        "看到了",
        "已看到",
        "知道",
        "知道了",
        "晓得了",
        "明白",
        "明白了",
        "了解",
        "了解了",
        "清楚了",
        "ok",
        "okay",
        "嗯",
        "嗯嗯",
        "行",
        "没问题",
        "确认",
        "已确认",
        "确认收到",
    }
)
#: Courtesy that may stand beside an acknowledgement (alone: thanks).
COURTESY_WORDS = frozenset(
    {
        "谢谢",
        "谢谢您",
        "多谢",
        "感谢",
        "辛苦了",
        "辛苦",
        "老师",
        "您",
        "啦",
        "了",
        "哈",
        "呀",
        "哦",
        "噢",
        "的",
    }
)
_VOCABULARY = sorted(ACK_WORDS | COURTESY_WORDS, key=len, reverse=True)
#: Punctuation, spaces and the emoji people add to an acknowledgement.
_DROPPED = frozenset(" \t\r\n，,。.!！~～、…;；:：—-'\"“”‘’()（）🙏👌👍😊🙂🌹💐❤️\ufe0f✌✔☑")
#: Emoticons as WeChat and WeCom send them in a text message: `[抱拳]`, `[OK]`.
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,4}\]")

#: Taking leave, with or without a reason: 请假, 请一天假, 病假, 来不了学校, 在家休息 …
_LEAVE = re.compile(
    r"请.{0,3}假|病假|告假|假条|上不了学|不能(?:去|来)?上学|(?:去|来)不了(?:学校|上学)"
    r"|不能(?:去|来)学校|不(?:去|来)(?:上学|学校)|在家休息"
)
#: The child is well again or coming back (a return, not a new leave).
_RECOVERED = re.compile(
    r"退烧|烧退|不烧了|不发烧了|没发烧了|(?:已经|病|都|全)好了|好多了|康复|痊愈|返校|销假"
    r"|(?:可以|能)(?:去|来)?上学了"
)
#: Being ill, and seeing a doctor (realistic phrasings parents write).
_ILLNESS = re.compile(
    r"发烧|发热|高烧|低烧|烧到|体温|生病|病了|感冒|咳嗽|流鼻涕|鼻塞|嗓子(?:疼|痛)|喉咙(?:疼|痛)"
    r"|扁桃体|肚子(?:疼|痛)|胃(?:疼|痛)|腹泻|拉肚子|呕吐|吐了|头(?:疼|痛|晕)|不舒服|身体不适"
    r"|看病|看医生|就医|医院|住院|输液|打点滴|挂水|打针|流感|甲流|乙流|水痘|手足口|腮腺炎"
    r"|肺炎|支原体|诺如|过敏|牙(?:疼|痛)|骨折|受伤|摔伤|结膜炎|出疹|疹子|中暑"
)
#: A letter or a Chinese character: a text without one says nothing to forward.
_READABLE = re.compile(r"[^\W\d_]")


def _words_only(text: str) -> str:
    without_emoticons = _EMOTICON.sub("", text)
    return "".join(c for c in without_emoticons if c not in _DROPPED).lower()


def _acknowledgement(text: str) -> ParentIntent | None:
    """ACKNOWLEDGEMENT or THANKS when the text is made of those words only, else None."""
    if len(text.strip()) > ACK_LIMIT:
        return None
    rest = _words_only(text)
    if not rest:
        return None
    acknowledged = False
    while rest:
        word = next((w for w in _VOCABULARY if rest.startswith(w)), None)
        if word is None:
            return None
        acknowledged = acknowledged or word in ACK_WORDS
        rest = rest[len(word) :]
    return ParentIntent.ACKNOWLEDGEMENT if acknowledged else ParentIntent.THANKS


def classify(text: str) -> ParentIntent:
    """What a guardian's message outside any conversation means (see the module's docstring)."""
    short = _acknowledgement(text)
    if short is not None:
        return short
    if not _READABLE.search(_EMOTICON.sub("", text)):
        return ParentIntent.UNREADABLE
    if _LEAVE.search(text):
        return ParentIntent.SICK_LEAVE
    if _RECOVERED.search(text):
        return ParentIntent.MESSAGE
    if _ILLNESS.search(text):
        return ParentIntent.SICK_LEAVE
    return ParentIntent.MESSAGE


#: A leave written from this hour on, without a day named, is for the next day.
EVENING = time(18, 0)


def leave_day(text: str, written: datetime) -> date:
    """The first day of the leave a parent wrote at `written` (the school's local time):
    `明天` the next day, `今天` that day; with neither, the day it was written, or the next day
    when written in the evening (`孩子发烧了，请个假` at 21:00 is about tomorrow)."""
    day = written.date()
    if "明天" in text or "明日" in text:
        return day + timedelta(days=1)
    if "今天" in text or "今日" in text:
        return day
    return day + timedelta(days=1) if written.time() >= EVENING else day


@dataclass(frozen=True)
class NamedChild:
    student_id: int
    name: str


def named_child(text: str, children: Sequence[NamedChild]) -> int | None:
    """The one child the text names by full name, or by given name when that has two characters
    or more (`小红` for 张小红); None when it names none or several."""
    named = [
        c.student_id
        for c in children
        if c.name in text or (len(c.name) >= 3 and c.name[1:] in text)
    ]
    return named[0] if len(set(named)) == 1 else None
