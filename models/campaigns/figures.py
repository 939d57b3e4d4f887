"""What the 大走访 campaign's views show, computed at once from what
`models.campaigns.queries.campaign_figures` reads (pure): each household with its responsible
teacher, leader, first counted visit and left-behind contact; 入户率 per class, grade, school
and leader; double visits; the left-behind households contacted this month.

- *Visited*: the household has a visit the campaign's rule counts (`counted_visits`), by anyone;
  its first such visit (who, when) is shown. Counted once however often visited.
- *Per class*: a household with children in two classes is a household of each (as
  `coverage.coverage` counts it), so a class's households not yet visited are its households
  minus those visited.
- *Per leader*: the households of the 包保表's rows with that leader 校领导 (free text as typed
  in the sheet; rows with none are not counted under any leader). A leader text names a member
  of staff when it is exactly one active member's name, or that name followed by a title
  (`张军副校长`): that member of staff may then see the campaign's overview.
- *Left-behind* 留守: a household with a child tagged 留守; contacted this month when any
  teacher logged a visit of any form dated in the month (`left_behind_contacts`) — the month of
  `today`, or of the last day once the campaign is over.
- *Due* (a teacher's list): households not yet visited first, those with a left-behind child not
  contacted this month first among them and flagged; then visited households (a left-behind one
  not contacted this month still first); each part by class, then 学号.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from models.campaigns.assignment import Assignment, CampaignClass, home_class
from models.campaigns.coverage import (
    CampaignVisit,
    Coverage,
    DoubleVisit,
    Rate,
    coverage,
    double_visits,
    left_behind_contacts,
    teacher_progress,
)
from models.families.households import Household
from models.quota.rules import is_left_behind

#: Titles a leader's name may carry in the 包保表 (`张军副校长`), longest first.
LEADER_TITLES = ("副校长", "副书记", "校长", "书记", "主任", "老师")


@dataclass(frozen=True)
class ClassInfo:
    class_id: int
    grade: int
    number: int
    name: str


@dataclass(frozen=True)
class Pupil:
    student_id: int
    student_no: str
    name: str
    class_id: int
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class HouseholdLine:
    """One household of the campaign as the views show it."""

    key: int
    #: The class it is assigned through (the 包保表's row, else the eldest child's class).
    class_id: int
    #: Its children in the campaign: the one in `class_id` first, then by 学号.
    children: tuple[Pupil, ...]
    teacher_id: int | None
    leader: str
    #: Its first counted visit (None: not visited yet).
    first: CampaignVisit | None
    left_behind: bool
    #: Left-behind: contacted this month (always True for the others).
    contacted: bool

    @property
    def visited(self) -> bool:
        return self.first is not None

    @property
    def contact_due(self) -> bool:
        """A left-behind household not contacted this month."""
        return self.left_behind and not self.contacted

    @property
    def student_id(self) -> int:
        """The child a visit is started for: the one in its class."""
        return self.children[0].student_id

    def class_ids(self) -> set[int]:
        return {child.class_id for child in self.children}


@dataclass(frozen=True)
class CampaignFigures:
    campaign_id: int
    #: The day the figures are for, and the month whose left-behind contacts they count.
    today: date
    month: date
    #: By grade, then number.
    classes: tuple[ClassInfo, ...]
    #: By class, then the first child's 学号.
    households: tuple[HouseholdLine, ...]
    coverage: Coverage
    #: Leader text → the households of their rows (leaders in the order of their first class).
    by_leader: dict[str, Rate]
    doubles: tuple[DoubleVisit, ...]
    #: Left-behind households contacted this month / left-behind households.
    left_behind: Rate
    #: Responsible teacher → their households they visited themselves / theirs.
    progress: dict[int, Rate]
    #: Staff id → name (inactive staff too: old visits name them).
    names: dict[int, str]
    #: Leader text → the member of staff it names (only those that name one).
    leader_staff: dict[str, int]
    #: Visits that count for the campaign (all teachers, every household).
    counted: int

    def class_name(self, class_id: int) -> str:
        return next((k.name for k in self.classes if k.class_id == class_id), "?")

    def household(self, key: int) -> HouseholdLine | None:
        return next((h for h in self.households if h.key == key), None)

    def of_teacher(self, teacher_id: int) -> list[HouseholdLine]:
        """The teacher's households, most due first (see the module's docstring)."""
        order = {k.class_id: n for n, k in enumerate(self.classes)}
        mine = [h for h in self.households if h.teacher_id == teacher_id]
        return sorted(
            mine,
            key=lambda h: (
                h.visited,
                not h.contact_due,
                order.get(h.class_id, len(order)),
                h.children[0].student_no,
            ),
        )

    def unvisited_in(self, class_id: int) -> list[HouseholdLine]:
        """The class's households not yet visited (those assigned through another class too)."""
        return [h for h in self.households if not h.visited and class_id in h.class_ids()]

    def unvisited_per_class(self) -> list[tuple[ClassInfo, int]]:
        """Each class with households not yet visited, and how many."""
        found = []
        for klass in self.classes:
            rate = self.coverage.per_class.get(klass.class_id, Rate(0, 0))
            if rate.households > rate.visited:
                found.append((klass, rate.households - rate.visited))
        return found

    def leaders_of(self, staff_id: int) -> list[str]:
        """The leader texts naming this member of staff."""
        return [text for text, sid in self.leader_staff.items() if sid == staff_id]


def leader_staff(leaders: Iterable[str], staff: Iterable[tuple[int, str, bool]]) -> dict[str, int]:
    """Leader text → the active member of staff it names: exactly one active member has that
    name, or the text is such a name followed by a title in `LEADER_TITLES`."""
    by_name: dict[str, list[int]] = {}
    for staff_id, name, active in staff:
        if active and name:
            by_name.setdefault(name, []).append(staff_id)
    found: dict[str, int] = {}
    for text in leaders:
        wanted = text.strip()
        candidates = [wanted]
        candidates += [wanted.removesuffix(t) for t in LEADER_TITLES if wanted.endswith(t)]
        for name in candidates:
            ids = by_name.get(name.strip(), [])
            if len(ids) == 1:
                found[text] = ids[0]
                break
    return found


def campaign_figures_from(
    *,
    campaign_id: int,
    today: date,
    month: date,
    classes: Sequence[ClassInfo],
    pupils: Mapping[int, Pupil],
    households: Sequence[Household],
    assignment: Assignment,
    visits: Sequence[CampaignVisit],
    counted: Sequence[CampaignVisit],
    staff: Sequence[tuple[int, str, bool]],
) -> CampaignFigures:
    """Every figure of the views from the campaign's households, 包保表, visits (all forms, for
    left-behind contacts) and counted visits (in order), and the school's staff (id, name,
    active)."""
    campaign_classes = {k.class_id: CampaignClass(k.class_id, k.grade, k.number) for k in classes}
    order = {k.class_id: n for n, k in enumerate(classes)}
    rows = {r.household: r for r in assignment.responsible}
    first: dict[int, CampaignVisit] = {}
    for visit in counted:
        first.setdefault(visit.household, visit)
    left = {
        h.key
        for h in households
        if any(
            is_left_behind(pupils[c.student_id].tags) for c in h.children if c.student_id in pupils
        )
    }
    contacts = left_behind_contacts(left, visits, month)
    lines = []
    for household in households:
        row = rows.get(household.key)
        class_id = row.class_id if row is not None else home_class(household, campaign_classes)
        if class_id is None:
            continue
        children = sorted(
            (pupils[c.student_id] for c in household.children if c.student_id in pupils),
            key=lambda p: (p.class_id != class_id, p.student_no),
        )
        if not children:
            continue
        lines.append(
            HouseholdLine(
                key=household.key,
                class_id=class_id,
                children=tuple(children),
                teacher_id=row.teacher_id if row is not None else None,
                leader=row.leader.strip() if row is not None else "",
                first=first.get(household.key),
                left_behind=household.key in left,
                contacted=contacts.get(household.key, True),
            )
        )
    lines.sort(key=lambda h: (order.get(h.class_id, len(order)), h.children[0].student_no))
    by_leader: dict[str, Rate] = {}
    for line in lines:
        if line.leader:
            before = by_leader.get(line.leader, Rate(0, 0))
            by_leader[line.leader] = Rate(before.visited + line.visited, before.households + 1)
    campaign_classes_list = [campaign_classes[k.class_id] for k in classes]
    return CampaignFigures(
        campaign_id=campaign_id,
        today=today,
        month=month,
        classes=tuple(classes),
        households=tuple(lines),
        coverage=coverage(households, campaign_classes_list, counted),
        by_leader=by_leader,
        doubles=tuple(double_visits(counted)),
        left_behind=Rate(sum(contacts.values()), len(contacts)),
        progress=teacher_progress(assignment, counted),
        names={sid: name for sid, name, _active in staff},
        leader_staff=leader_staff(by_leader, staff),
        counted=len(counted),
    )
