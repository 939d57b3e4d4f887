"""How teachers write a one-message visit log, and what each message says.

Collected the way teachers type them into WeChat on a phone: word order varies, 了 / 过 come and
go, punctuation is full-width or missing, classes are 三(2)班, 三年级二班 or 3.2班, relatives are
妈妈, 母亲, 孩子妈妈 …, forms are 上门, 入户, 家访, 电话, 打电话, 微信, 视频, 来校, 约谈 …, dates
are words (昨天, 上上周五, 3天前, 20号) more often than numbers. Every message is read on Monday
16 November 2026 (`TODAY`) against `ROSTER`.

`Phrase.notes` is None where the notes are not the point of the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from models.visits.tables import VisitCategory, VisitForm

#: The test clock's day: Monday.
TODAY = date(2026, 11, 16)
#: The teacher's students (三(1)班, 三(2)班 of the test school and a few more).
ROSTER = (
    *("张小明", "李娜", "王磊", "刘洋", "陈静", "杨帆"),
    *("李华", "周杰", "吴迪", "郑爽", "冯雪", "陈晨"),
    *("欧阳子涵", "王子轩", "赵一诺", "黄梓萱"),
)

HOME = VisitForm.HOME
PHONE = VisitForm.PHONE
VIDEO = VisitForm.VIDEO
LETTER = VisitForm.LETTER
CAME = VisitForm.PARENT_CAME
INVITED = VisitForm.INVITED


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@dataclass(frozen=True)
class Phrase:
    text: str
    form: VisitForm | None
    day: date | None
    students: tuple[str, ...]
    met: str | None = None
    class_name: tuple[int, int] | None = None
    notes: str | None = None
    category: VisitCategory | None = None


P = Phrase
ZXM = ("张小明",)
LH = ("李华",)

PHRASINGS: tuple[Phrase, ...] = (
    # -- 上门 / 入户 / 家访 / 走访 -----------------------------------------------------------
    P(
        "今天上门家访了三(2)班张小明，见了奶奶，孩子情绪稳定",
        HOME,
        TODAY,
        ZXM,
        "奶奶",
        (3, 2),
        "孩子情绪稳定",
    ),
    P("今天去张小明家家访，见了奶奶", HOME, TODAY, ZXM, "奶奶", None, ""),
    P("今天去张小明家家访了，见到了他奶奶", HOME, TODAY, ZXM, "奶奶", None, ""),
    P("张小明，今天上门家访，见了爸爸", HOME, TODAY, ZXM, "父亲", None, ""),
    P("上门家访张小明，见了爸爸和奶奶", HOME, None, ZXM, "父亲、奶奶", None, ""),
    P(
        "今天入户走访王磊家，见了孩子妈妈，学习有进步",
        HOME,
        TODAY,
        ("王磊",),
        "母亲",
        None,
        "学习有进步",
    ),
    P("入户家访刘洋，母亲在家", HOME, None, ("刘洋",), "母亲", None, None),
    P("昨天家访了陈静，和她妈妈聊了很久", HOME, ago(1), ("陈静",), "母亲", None, "很久"),
    P("昨天到杨帆家里家访，爷爷奶奶都在", HOME, ago(1), ("杨帆",), "爷爷、奶奶", None, None),
    P("前天下午去李娜家家访，见了外婆", HOME, ago(2), ("李娜",), "外婆", None, ""),
    P(
        "前天晚上上门走访了周杰，父亲在外打工，见了爷爷",
        HOME,
        ago(2),
        ("周杰",),
        "爷爷",
        None,
        None,
    ),
    P("大前天上门家访吴迪，见了父母", HOME, ago(3), ("吴迪",), "父母", None, ""),
    P(
        "上周五家访郑爽，和妈妈沟通了学习情况",
        HOME,
        date(2026, 11, 13),
        ("郑爽",),
        "母亲",
        None,
        "学习情况",
    ),
    P("上上周五上门家访冯雪，见了奶奶", HOME, date(2026, 11, 6), ("冯雪",), "奶奶", None, ""),
    P(
        "上上个星期三去陈晨家家访，见到了爸爸妈妈",
        HOME,
        date(2026, 11, 4),
        ("陈晨",),
        "父母",
        None,
        "",
    ),
    P("3天前上门家访张小明，见了奶奶", HOME, ago(3), ZXM, "奶奶", None, ""),
    P("三天前入户走访了李华，见了爸爸", HOME, ago(3), LH, "父亲", None, ""),
    P("两天前去王磊家家访", HOME, ago(2), ("王磊",), None, None, ""),
    P("一周前家访刘洋，见了外公外婆", HOME, ago(7), ("刘洋",), "外公、外婆", None, ""),
    P("20号上门家访陈静，见了妈妈", HOME, date(2026, 10, 20), ("陈静",), "母亲", None, ""),
    P("11号去杨帆家家访了", HOME, date(2026, 11, 11), ("杨帆",), None, None, ""),
    P("11月10日上门家访李娜，母亲接待", HOME, date(2026, 11, 10), ("李娜",), "母亲", None, None),
    P("11月10号入户家访周杰", HOME, date(2026, 11, 10), ("周杰",), None, None, ""),
    P("11.12 家访吴迪 见了爷爷", HOME, date(2026, 11, 12), ("吴迪",), "爷爷", None, ""),
    P("11/9走访郑爽家，奶奶在家带孩子", HOME, date(2026, 11, 9), ("郑爽",), "奶奶", None, None),
    P("2026-11-05 上门家访冯雪 见到母亲", HOME, date(2026, 11, 5), ("冯雪",), "母亲", None, ""),
    P("2026年11月3日家访陈晨，父亲在家", HOME, date(2026, 11, 3), ("陈晨",), "父亲", None, None),
    P("上个月28号上门家访张小明", HOME, date(2026, 10, 28), ZXM, None, None, ""),
    P("周六上门家访李华，见了爸爸", HOME, date(2026, 11, 14), LH, "父亲", None, ""),
    P("星期五去王磊家家访，孩子妈妈在", HOME, date(2026, 11, 13), ("王磊",), "母亲", None, None),
    P("本周一家访刘洋，和爸爸谈了谈", HOME, TODAY, ("刘洋",), "父亲", None, None),
    P("今天家访三年级二班陈静，见了奶奶", HOME, TODAY, ("陈静",), "奶奶", (3, 2), ""),
    P("今天家访3.2班杨帆，见了妈妈", HOME, TODAY, ("杨帆",), "母亲", (3, 2), ""),
    P("今天家访三（2）班李娜，见了外公", HOME, TODAY, ("李娜",), "外公", (3, 2), ""),
    P("今天上门家访3(1)班周杰 见了爷爷", HOME, TODAY, ("周杰",), "爷爷", (3, 1), ""),
    P("今天上门家访3-1班吴迪，见了父亲", HOME, TODAY, ("吴迪",), "父亲", (3, 1), ""),
    P("今天 家访 三年级一班 郑爽 母亲", HOME, TODAY, ("郑爽",), "母亲", (3, 1), ""),
    P(
        "家访冯雪，见了孩子的外婆，家里住房条件一般",
        HOME,
        None,
        ("冯雪",),
        "外婆",
        None,
        "家里住房条件一般",
    ),
    P("陈晨家访，见了监护人", HOME, None, ("陈晨",), "监护人", None, ""),
    P(
        "今天家访张小明 见了奶奶 孩子最近作业按时完成",
        HOME,
        TODAY,
        ZXM,
        "奶奶",
        None,
        "孩子最近作业按时完成",
    ),
    P(
        "今天家访了李华，见了妈妈。孩子在家表现很好",
        HOME,
        TODAY,
        LH,
        "母亲",
        None,
        "孩子在家表现很好",
    ),
    P("今天上门看望了王磊，见了爷爷", HOME, TODAY, ("王磊",), "爷爷", None, ""),
    P("今天入户看望刘洋，见了奶奶", HOME, TODAY, ("刘洋",), "奶奶", None, ""),
    P("去陈静家家访过了，见了妈妈", HOME, None, ("陈静",), "母亲", None, ""),
    P("今天重点家访张小明，见了奶奶", HOME, TODAY, ZXM, "奶奶", None, "", VisitCategory.KEY),
    P(
        "今天常规家访杨帆，见了爸爸",
        HOME,
        TODAY,
        ("杨帆",),
        "父亲",
        None,
        "",
        VisitCategory.ROUTINE,
    ),
    P(
        "紧急上门家访李娜，孩子摔伤了，见了妈妈",
        HOME,
        None,
        ("李娜",),
        "母亲",
        None,
        "孩子摔伤了",
        VisitCategory.IMMEDIATE,
    ),
    P(
        "立即家访周杰，连续两天没来上学，见了爷爷",
        HOME,
        None,
        ("周杰",),
        "爷爷",
        None,
        None,
        VisitCategory.IMMEDIATE,
    ),
    P("昨天晚上去吴迪家家访，跟他爸爸聊了聊", HOME, ago(1), ("吴迪",), "父亲", None, None),
    P("昨天下午家访郑爽，见了爸爸、妈妈", HOME, ago(1), ("郑爽",), "父母", None, ""),
    P("小明今天上门家访，见了奶奶", HOME, TODAY, ZXM, "奶奶", None, ""),
    P("今天家访子涵，见了妈妈", HOME, TODAY, ("欧阳子涵",), "母亲", None, ""),
    P("今天家访欧阳子涵，见了爸爸", HOME, TODAY, ("欧阳子涵",), "父亲", None, ""),
    P("今天家访王子轩，见了姥姥", HOME, TODAY, ("王子轩",), "外婆", None, ""),
    P("今天家访黄梓萱，见了姥爷", HOME, TODAY, ("黄梓萱",), "外公", None, ""),
    P("今天家访赵一诺 见了姑姑", HOME, TODAY, ("赵一诺",), "姑姑", None, ""),
    P("今天家访陈晨，见了舅舅", HOME, TODAY, ("陈晨",), "舅舅", None, ""),
    P("今天家访冯雪，见了叔叔", HOME, TODAY, ("冯雪",), "叔叔", None, ""),
    P("今天家访李华 见了哥哥", HOME, TODAY, LH, "哥哥", None, ""),
    P("今天家访王磊，见了姐姐", HOME, TODAY, ("王磊",), "姐姐", None, ""),
    P("今天家访刘洋，见了姨妈", HOME, TODAY, ("刘洋",), "阿姨", None, ""),
    P("今天家访了张小明和李华", HOME, TODAY, ("张小明", "李华"), None, None, ""),
    P("今天家访张小明、李娜两位同学", HOME, TODAY, ("张小明", "李娜"), None, None, "两位同学"),
    P("家访张小明", HOME, None, ZXM, None, None, ""),
    P("张小明家访", HOME, None, ZXM, None, None, ""),
    P("张小明 上门", HOME, None, ZXM, None, None, ""),
    P("张小明 入户", HOME, None, ZXM, None, None, ""),
    P("今天家访张小明！", HOME, TODAY, ZXM, None, None, ""),
    P("今天家访张小明。。", HOME, TODAY, ZXM, None, None, ""),
    P("今天家访张小明~", HOME, TODAY, ZXM, None, None, ""),
    P("今儿去张小明家家访了", HOME, TODAY, ZXM, None, None, ""),
    P("今早上门家访李华，爸爸在家", HOME, TODAY, LH, "父亲", None, None),
    P("今晚家访王磊，见了妈妈", HOME, TODAY, ("王磊",), "母亲", None, ""),
    P("昨晚家访刘洋，见了爸爸", HOME, ago(1), ("刘洋",), "父亲", None, ""),
    P("今天上午上门家访陈静，见了奶奶", HOME, TODAY, ("陈静",), "奶奶", None, ""),
    P("今天中午家访杨帆", HOME, TODAY, ("杨帆",), None, None, ""),
    P("今天放学后家访李娜，见了妈妈", HOME, TODAY, ("李娜",), "母亲", None, ""),
    # -- 电话 / 电访 / 打电话 / 微信电话 -------------------------------------------------------
    P("昨天电访李华妈妈 说孩子感冒", PHONE, ago(1), LH, "母亲", None, "说孩子感冒"),
    P("今天给张小明妈妈打了电话，孩子感冒请假", PHONE, TODAY, ZXM, "母亲", None, "孩子感冒请假"),
    P("今天打电话给王磊爸爸，沟通了作业问题", PHONE, TODAY, ("王磊",), "父亲", None, None),
    P("今天和刘洋妈妈通了电话", PHONE, TODAY, ("刘洋",), "母亲", None, None),
    P("电话家访陈静，母亲接的电话", PHONE, None, ("陈静",), "母亲", None, None),
    P("今天电话联系了杨帆爸爸", PHONE, TODAY, ("杨帆",), "父亲", None, ""),
    P("今天电话联系李娜家长，孩子发烧在家休息", PHONE, TODAY, ("李娜",), None, None, None),
    P("昨天打了个电话给周杰奶奶", PHONE, ago(1), ("周杰",), "奶奶", None, ""),
    P("前天和吴迪父亲通话，了解孩子在家情况", PHONE, ago(2), ("吴迪",), "父亲", None, None),
    P("电访郑爽母亲", PHONE, None, ("郑爽",), "母亲", None, ""),
    P("今天电访冯雪家长", PHONE, TODAY, ("冯雪",), None, None, None),
    P("微信电话联系陈晨妈妈，说孩子最近睡得晚", PHONE, None, ("陈晨",), "母亲", None, None),
    P("微信语音和张小明奶奶聊了", PHONE, None, ZXM, "奶奶", None, None),
    P("3天前给李华爸爸打电话", PHONE, ago(3), LH, "父亲", None, None),
    P(
        "上周三电话家访王磊，和妈妈沟通了学习情况",
        PHONE,
        date(2026, 11, 11),
        ("王磊",),
        "母亲",
        None,
        None,
    ),
    P("周三电话联系了刘洋的爸爸", PHONE, date(2026, 11, 11), ("刘洋",), "父亲", None, ""),
    P("11月12日电访陈静爸爸", PHONE, date(2026, 11, 12), ("陈静",), "父亲", None, ""),
    P("今天跟杨帆外婆打了电话", PHONE, TODAY, ("杨帆",), "外婆", None, None),
    P("打电话给李娜姥姥，说明了期中考试安排", PHONE, None, ("李娜",), "外婆", None, None),
    P("昨天电话：周杰爸爸，孩子在家不写作业", PHONE, ago(1), ("周杰",), "父亲", None, None),
    P("电话 吴迪 母亲 孩子身体好了", PHONE, None, ("吴迪",), "母亲", None, None),
    P("今天和郑爽爸爸妈妈打了电话", PHONE, TODAY, ("郑爽",), "父母", None, None),
    # -- 视频 / 微信视频 / 视频通话 -------------------------------------------------------------
    P("昨天视频家访李华妈妈", VIDEO, ago(1), LH, "母亲", None, ""),
    P("今天和张小明爸爸视频通话了，爸爸在外地打工", VIDEO, TODAY, ZXM, "父亲", None, None),
    P("今天微信视频联系了王磊妈妈", VIDEO, TODAY, ("王磊",), "母亲", None, ""),
    P("微信视频家访刘洋，见了爸爸妈妈", VIDEO, None, ("刘洋",), "父母", None, ""),
    P("昨天晚上跟陈静妈妈视频了，聊了孩子的学习", VIDEO, ago(1), ("陈静",), "母亲", None, None),
    P("视频家访杨帆，爷爷奶奶都在", VIDEO, None, ("杨帆",), "爷爷、奶奶", None, None),
    P("前天和李娜爸爸视频电话", VIDEO, ago(2), ("李娜",), "父亲", None, None),
    P("今天线上家访周杰，见了妈妈", VIDEO, TODAY, ("周杰",), "母亲", None, ""),
    P("上周五视频连线吴迪家长", VIDEO, date(2026, 11, 13), ("吴迪",), None, None, None),
    P("今天和郑爽母亲视频聊天，孩子最近情绪低落", VIDEO, TODAY, ("郑爽",), "母亲", None, None),
    P("3天前微信视频家访冯雪奶奶", VIDEO, ago(3), ("冯雪",), "奶奶", None, ""),
    P("今天打视频给陈晨爸爸", VIDEO, TODAY, ("陈晨",), "父亲", None, None),
    # -- 微信 / 短信 / 信 ---------------------------------------------------------------------
    P("今天微信联系了张小明妈妈，发了孩子的作业情况", LETTER, TODAY, ZXM, "母亲", None, None),
    P("微信和李华爸爸沟通了一下", LETTER, None, LH, "父亲", None, None),
    P("给王磊妈妈发了短信，提醒按时接孩子", LETTER, None, ("王磊",), "母亲", None, None),
    P("给刘洋家长写了一封信", LETTER, None, ("刘洋",), None, None, None),
    P("昨天微信家访陈静，妈妈回复了", LETTER, ago(1), ("陈静",), "母亲", None, None),
    P("今天微信留言给杨帆爸爸", LETTER, TODAY, ("杨帆",), "父亲", None, None),
    P("发邮件给李娜妈妈，说明了期末安排", LETTER, None, ("李娜",), "母亲", None, None),
    # -- 家长来校 / 来学校 ---------------------------------------------------------------------
    P("张小明妈妈来学校了，谈了孩子最近的表现", CAME, None, ZXM, "母亲", None, None),
    P("今天李华爸爸来学校了", CAME, TODAY, LH, "父亲", None, ""),
    P("今天王磊奶奶来校，了解孩子在校情况", CAME, TODAY, ("王磊",), "奶奶", None, None),
    P("家长来访：刘洋妈妈，反映孩子在家玩手机", CAME, None, ("刘洋",), "母亲", None, None),
    P("昨天陈静爸爸到学校来找我，谈了孩子的学习", CAME, ago(1), ("陈静",), "父亲", None, None),
    P("杨帆的妈妈今天来校了，说孩子想换座位", CAME, TODAY, ("杨帆",), "母亲", None, None),
    P("前天李娜外婆来学校接孩子，聊了几句", CAME, ago(2), ("李娜",), "外婆", None, None),
    P("周杰爸爸来访，沟通了打架的事", CAME, None, ("周杰",), "父亲", None, None),
    P("今天吴迪家长到校，交流了孩子学习情况", CAME, TODAY, ("吴迪",), None, None, None),
    # -- 约谈 / 约访 / 请家长 -------------------------------------------------------------------
    P("今天约谈了郑爽的父亲", INVITED, TODAY, ("郑爽",), "父亲", None, ""),
    P("约谈冯雪妈妈，孩子最近上课说话", INVITED, None, ("冯雪",), "母亲", None, None),
    P("今天请家长：陈晨爸爸来学校谈话", INVITED, TODAY, ("陈晨",), "父亲", None, None),
    P("约访张小明奶奶，谈了孩子的心理情况", INVITED, None, ZXM, "奶奶", None, None),
    P("昨天约见了李华父母", INVITED, ago(1), LH, "父母", None, ""),
    P("上周五约家长：王磊妈妈到校面谈", INVITED, date(2026, 11, 13), ("王磊",), "母亲", None, None),
    # -- 过 / 了 / word order ------------------------------------------------------------------
    P("今天去过刘洋家了，见了奶奶", HOME, TODAY, ("刘洋",), "奶奶", None, ""),
    P("昨天到王磊家里看了看，妈妈在家", HOME, ago(1), ("王磊",), "母亲", None, None),
    P("见了陈静妈妈，今天上门家访", HOME, TODAY, ("陈静",), "母亲", None, ""),
    P("奶奶在家，今天家访杨帆", HOME, TODAY, ("杨帆",), "奶奶", None, None),
    P("家访：李娜，今天，见了妈妈", HOME, TODAY, ("李娜",), "母亲", None, ""),
    P("今天 周杰 家访 爷爷", HOME, TODAY, ("周杰",), "爷爷", None, ""),
    P("吴迪 昨天 电话 妈妈", PHONE, ago(1), ("吴迪",), "母亲", None, ""),
    P("郑爽，电访，母亲，孩子感冒", PHONE, None, ("郑爽",), "母亲", None, "孩子感冒"),
    P("冯雪，视频，爸爸", VIDEO, None, ("冯雪",), "父亲", None, ""),
    P("陈晨家长来校", CAME, None, ("陈晨",), None, None, None),
    # -- full-width digits and brackets, spaces --------------------------------------------------
    P("１１月１２日家访张小明，见了奶奶", HOME, date(2026, 11, 12), ZXM, "奶奶", None, ""),
    P("今天家访三（２）班张小明", HOME, TODAY, ZXM, None, (3, 2), ""),
    P("今天　家访　张小明　奶奶", HOME, TODAY, ZXM, "奶奶", None, ""),
    # -- not a visit date, or none at all --------------------------------------------------------
    P("家访张小明，孩子每天学习3.5小时", HOME, None, ZXM, None, None, "孩子每天学习3.5小时"),
    P("电话联系李华妈妈，每周三电话沟通一次", PHONE, None, LH, "母亲", None, None),
    P("家访王磊，孩子1/3的作业没交", HOME, None, ("王磊",), None, None, "孩子1/3的作业没交"),
    P("家访刘洋，孩子相信自己能考好", HOME, None, ("刘洋",), None, None, "孩子相信自己能考好"),
    P("家访陈静，孩子按时到校", HOME, None, ("陈静",), None, None, "孩子按时到校"),
    P("家访杨帆，孩子不想来学校", HOME, None, ("杨帆",), None, None, "孩子不想来学校"),
    P("家访李娜，孩子总是看视频到很晚", HOME, None, ("李娜",), None, None, "孩子总是看视频到很晚"),
    # -- dates in the future: read, the conversation refuses them --------------------------------
    P("明天上门家访李华", HOME, ago(-1), LH, None, None, ""),
    P("后天去张小明家家访", HOME, ago(-2), ZXM, None, None, ""),
    P("明早电话联系王磊妈妈", PHONE, ago(-1), ("王磊",), "母亲", None, ""),
    P("下周三家访刘洋", HOME, date(2026, 11, 25), ("刘洋",), None, None, ""),
    P("这周五家访陈静", HOME, date(2026, 11, 20), ("陈静",), None, None, ""),
    # -- no student of the teacher's written exactly ---------------------------------------------
    P("今天上门家访，见了奶奶", HOME, TODAY, (), "奶奶", None, ""),
    P("昨天电话联系了家长", PHONE, ago(1), (), None, None, None),
)
