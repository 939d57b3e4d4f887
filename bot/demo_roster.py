"""The demo school's people: two grades of two classes, their teachers, 德育处, the principal and a
care-room staff member, 120 students with guardians and special-type tags, one team with its
coach — the same every time (a fixed seed)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from models.roster.tables import STUDENT_TAGS

SEED = 2026
STUDENTS_PER_CLASS = 30
#: (grade, number) → display name; the demo has two grades of two classes.
CLASSES: dict[tuple[int, int], str] = {
    (3, 1): "三(1)班",
    (3, 2): "三(2)班",
    (4, 1): "四(1)班",
    (4, 2): "四(2)班",
}
TEAM_NAME = "篮球队"
TEAM_SIZE = 10
#: The person the console plays by default: the head teacher of 三(2)班.
DEFAULT_CONSOLE_CLASS = (3, 2)
ADMIN_NO = "A01"
PRINCIPAL_NO = "P01"
CARE_NO = "C01"
#: Demo visits carry this channel, so a second seeding can tell they are already there.
DEMO_CHANNEL = "demo"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
BOY_NAMES = _words(
    "浩然 子轩 宇轩 俊杰 梓豪 一鸣 博文 明辰 皓轩 天佑 泽宇 睿 磊 鹏飞 晨阳 嘉乐 思远 逸飞 浩宇 子墨 昊天 宇航 佳豪 文博 家豪 承泽 俊熙 振宇 锦程 亦凡"
)
GIRL_NAMES = _words(
    "欣怡 梓涵 雨萱 诗琪 佳悦 可馨 若彤 思语 晓婷 雪 静怡 嘉颖 慧敏 婉清 语桐 一诺 紫涵 梦琪 雨桐 欣妍 子涵 晨曦 芷若 安琪 心怡 语嫣 梓萱 思彤 佳琪 雅琴"
)
MEN_NAMES = _words(
    "建国 军 志强 伟 海涛 国平 建华 明 永刚 德明 勇 斌 文杰 立新 卫东 国庆 海峰 春生"
)
WOMEN_NAMES = _words("秀英 丽娟 芳 红梅 艳 玉兰 桂芳 美琴 雪梅 海燕 晓燕 丽华 春花 淑芬 敏 小红 慧")
GRANDMOTHER_NAMES = _words("秀英 桂兰 玉珍 淑珍 凤英 秀兰 桂英")
GRANDFATHER_NAMES = _words("德福 长贵 守仁 永福 国栋 振华 保国")


@dataclass(frozen=True)
class DemoTeacher:
    staff_no: str
    name: str
    phone: str
    head_of: tuple[int, int] | None = None
    #: (grade, number, subject) for every class taught.
    teaches: tuple[tuple[int, int, str], ...] = ()
    roles: str = ""
    coaches: bool = False


@dataclass(frozen=True)
class DemoGuardian:
    name: str
    phone: str
    relation: str


@dataclass(frozen=True)
class DemoStudent:
    student_no: str
    name: str
    klass: tuple[int, int]
    tags: str
    guardians: tuple[DemoGuardian, ...]


@dataclass(frozen=True)
class DemoRoster:
    teachers: tuple[DemoTeacher, ...]
    students: tuple[DemoStudent, ...]
    team: tuple[str, ...]  # student numbers of the 篮球队


@dataclass
class DemoSummary:
    """What the demo school holds after seeding, for the CLI to print."""

    school: str
    classes: int
    students: int
    guardians: int
    staff: int
    visits_this_month: int
    #: Rows added by this run (0 when everything was already there).
    added: int
    console_teacher: str
    console_teacher_no: str
    admin: str
    admin_no: str

    def describe(self) -> str:
        return (
            f"示范学校「{self.school}」：{self.classes} 个班，{self.students} 名学生，"
            f"{self.guardians} 位家长，{self.staff} 位教职工（含德育处{self.admin}，工号 {self.admin_no}），"
            f"本月已有 {self.visits_this_month} 条家访记录。"
        )


TEACHERS: tuple[DemoTeacher, ...] = (
    DemoTeacher("T01", "李强", "13900000001", (3, 1), ((3, 1, "语文"),)),
    DemoTeacher("T02", "王芳", "13900000002", (3, 2), ((3, 2, "语文"), (3, 1, "数学"))),
    DemoTeacher("T03", "孙丽", "13900000003", (4, 1), ((4, 1, "语文"),)),
    DemoTeacher("T04", "周建华", "13900000004", (4, 2), ((4, 2, "语文"), (4, 1, "数学"))),
    DemoTeacher("T05", "陈静", "13900000005", None, ((3, 2, "数学"), (4, 2, "数学"))),
    DemoTeacher("T06", "刘晓燕", "13900000006", None, tuple((g, n, "英语") for g, n in CLASSES)),
    DemoTeacher("T07", "黄志明", "13900000007", None, ((3, 1, "科学"), (3, 2, "科学"))),
    DemoTeacher(
        "T08",
        "钱进",
        "13900000008",
        None,
        tuple((g, n, "体育") for g, n in CLASSES),
        coaches=True,
    ),
    DemoTeacher(ADMIN_NO, "赵丽华", "13900000009", None, (), roles="admin"),
    DemoTeacher(PRINCIPAL_NO, "郑国强", "13900000010", None, (), roles="principal"),
    DemoTeacher(CARE_NO, "林静", "13900000011", None, (), roles="care"),
)

#: A few fixed students, so the examples in the banner and the README work on the demo.
FIXED_STUDENTS: dict[tuple[int, int], list[tuple[str, str, list[tuple[str, str]]]]] = {
    (3, 2): [
        ("张小明", "留守", [("张秀英", "奶奶")]),
        ("李华", "", [("赵美琴", "母亲"), ("李建国", "父亲")]),
    ],
}
FIXED_NAMES = frozenset(name for fixed in FIXED_STUDENTS.values() for name, _, _ in fixed)


def _child_name(rng: random.Random, surname: str) -> str:
    return surname + rng.choice(rng.choice((BOY_NAMES, GIRL_NAMES)))


def _guardians(rng: random.Random, surname: str, phones: list[str]) -> tuple[DemoGuardian, ...]:
    """One or two guardians: usually a parent or two, sometimes a grandparent who cares alone."""
    roll = rng.random()
    if roll < 0.1:
        people = [(rng.choice(SURNAMES) + rng.choice(GRANDMOTHER_NAMES), "奶奶")]
    elif roll < 0.15:
        people = [(surname + rng.choice(GRANDFATHER_NAMES), "爷爷")]
    else:
        mother = (rng.choice(SURNAMES) + rng.choice(WOMEN_NAMES), "母亲")
        father = (surname + rng.choice(MEN_NAMES), "父亲")
        people = [mother, father] if roll < 0.65 else [rng.choice((mother, father))]
    return tuple(DemoGuardian(name, phones.pop(), relation) for name, relation in people)


def _tags(rng: random.Random) -> str:
    first = rng.choice(STUDENT_TAGS)
    chosen = {first}
    if rng.random() < 0.25:
        chosen.add(rng.choice(STUDENT_TAGS))
    return ",".join(t for t in STUDENT_TAGS if t in chosen)


def demo_roster() -> DemoRoster:
    """The whole demo roster, the same on every call (pure; no database)."""
    rng = random.Random(SEED)
    phones = [f"138{n:08d}" for n in rng.sample(range(10_000_000, 99_999_999), 400)]
    phones.reverse()
    taken = set(FIXED_NAMES)
    students: list[DemoStudent] = []
    for (grade, number), _class_name in CLASSES.items():
        fixed = FIXED_STUDENTS.get((grade, number), [])
        for seq in range(1, STUDENTS_PER_CLASS + 1):
            student_no = f"2026{grade}{number}{seq:02d}"
            if seq <= len(fixed):
                name, tags, carers = fixed[seq - 1]
                guardians = tuple(DemoGuardian(n, phones.pop(), r) for n, r in carers)
            else:
                surname = rng.choice(SURNAMES)
                name = _child_name(rng, surname)
                while name in taken:
                    name = _child_name(rng, surname)
                tags = _tags(rng) if rng.random() < 0.15 else ""
                guardians = _guardians(rng, surname, phones)
            taken.add(name)
            students.append(DemoStudent(student_no, name, (grade, number), tags, guardians))
    # Sibling pairs: a third-grader and a fourth-grader of the same family share guardians.
    third = [i for i, s in enumerate(students) if s.klass[0] == 3 and s.name not in FIXED_NAMES]
    fourth = [i for i, s in enumerate(students) if s.klass[0] == 4]
    for younger, older in zip(rng.sample(third, 4), rng.sample(fourth, 4), strict=True):
        elder = students[older]
        surname = elder.name[0]
        name = _child_name(rng, surname)
        while name in taken:
            name = _child_name(rng, surname)
        taken.add(name)
        old = students[younger]
        students[younger] = DemoStudent(old.student_no, name, old.klass, old.tags, elder.guardians)
    team = tuple(sorted(s.student_no for s in rng.sample(students, TEAM_SIZE)))
    return DemoRoster(teachers=TEACHERS, students=tuple(students), team=team)
