"""`survey import FILE --name 名称 --by 工号` and `survey forms`: the school's survey forms from the
command line.

The file is a workbook with a sheet named `问卷` (a workbook with one sheet may name it anything),
or a CSV file in UTF-8 or GBK; its layout: `models.surveys.form_sheet`. Every problem is listed by
sheet, row and column, and nothing is imported until there are none; then the form is checked and
written as the chat's 保存问卷 does (`models.surveys.forms.save_form`: a name the school has, or
too many forms in use, refused with nothing written). Only 德育处 and the principal (named by
工号 with `--by`) may import a form (`survey.manage` in the permission matrix).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from bot.command_line import refused, school_or_say
from bot.roster.files import Rows, read_sheet_file
from bot.settings import Settings
from models.db.engine import Database
from models.db.migrate import upgrade
from models.errors import CommandRefused
from models.permissions.matrix import Action, permits
from models.permissions.roles import roles_of
from models.roster.duties import staff_duties
from models.roster.tables import Staff
from models.school.tables import School
from models.surveys.form_sheet import SHEET, FormSheetError, SheetForm, parse_form_sheet
from models.surveys.forms import FormRefused, Part, school_forms
from models.surveys.forms import save_form as save
from models.surveys.tables import PURPOSE_LABELS, FormPurpose
from models.surveys.templates import ensure_templates

PURPOSES = {purpose.value: purpose for purpose in FormPurpose}
WHAT = "问卷"


def read_form_file(path: Path) -> tuple[str, Rows]:
    """(the sheet's label for messages, its rows); `FileRefused` or `FormSheetError` if it cannot
    be read."""
    return read_sheet_file(path, SHEET, FormSheetError)


def load_form(path: Path) -> SheetForm:
    label, rows = read_form_file(path)
    return parse_form_sheet(rows, label=label)


async def _manager(db: Database, school: School, staff_no: str) -> Staff:
    """The member of staff named by 工号, if the matrix lets them make forms."""
    async with db.session() as session:
        query = select(Staff).where(
            col(Staff.school_id) == school.id, col(Staff.staff_no) == staff_no.strip()
        )
        staff = (await session.exec(query)).first()
        if staff is None or not staff.active:
            raise CommandRefused(f"名册中没有工号为“{staff_no.strip()}”的在职教职工。")
        duties = await staff_duties(session=session, staff=staff)
    if not permits(roles_of(staff, duties, None), Action.SURVEY_MANAGE):
        raise CommandRefused(
            f"{staff.name}（工号 {staff.staff_no}）不是德育处或校长：问卷只能由德育处和校长导入。"
        )
    return staff


async def run_survey_import(
    settings: Settings,
    path: Path,
    *,
    name: str,
    purpose: str,
    anonymous: bool,
    staff_no: str,
    school_name: str | None,
) -> int:
    """Exit status 0 when imported, 1 when the file or the form has problems (nothing written);
    2 (`CommandRefused`) for an argument that cannot be acted on."""
    chosen = PURPOSES.get(purpose)
    if chosen is None:
        raise CommandRefused(f"用途“{purpose}”无效：请用 {' / '.join(PURPOSES)} 之一。")
    try:
        sheet = await asyncio.to_thread(load_form, path)
    except FormSheetError as exc:
        return refused(exc.problems, WHAT)
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        school = await school_or_say(db, school_name or settings.school_name)
        if school is None:
            return 1
        staff = await _manager(db, school, staff_no)
        now = datetime.now(UTC)
        try:
            async with db.session() as session:
                await ensure_templates(session, school.id or 0, now=now)
                form = await save(
                    session,
                    school_id=school.id or 0,
                    by=staff.id or 0,
                    name=name,
                    purpose=chosen,
                    anonymous=anonymous,
                    questions=sheet.questions,
                    actor=f"staff:{staff.id}",
                    now=now,
                )
                form_id, form_name = form.id, form.name
        except FormRefused as exc:
            problems = [
                f"--name：{p.text(lambda s: s)}" if p.part is Part.NAME else sheet.place(p)
                for p in exc.problems
            ]
            return refused(problems, WHAT)
    finally:
        await db.dispose()
    kind = "匿名" if anonymous else "实名"
    print(
        f"已导入问卷“{form_name}”（编号 {form_id}，{PURPOSE_LABELS[chosen]}，{kind}），"
        f"共 {len(sheet.questions)} 题。发送 /survey 即可选它发出。"
    )
    return 0


async def run_survey_forms(settings: Settings, *, school_name: str | None) -> int:
    """The school's forms, one a line: id, name, purpose, anonymous or named, questions."""
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    try:
        school = await school_or_say(db, school_name or settings.school_name)
        if school is None:
            return 1
        async with db.session() as session:
            found = await school_forms(session, school.id or 0, archived=True)
    finally:
        await db.dispose()
    if not found:
        print("本校还没有问卷（发送 /survey 时会写入内置问卷）。")
        return 0
    print("编号\t名称\t用途\t匿名\t题数\t状态")
    for summary in found:
        form = summary.form
        state = "已停用" if form.archived else ("内置" if form.template_key else "在用")
        used = f"，已发出 {summary.surveys} 次" if summary.surveys else ""
        print(
            f"{form.id}\t{form.name}\t{PURPOSE_LABELS[form.purpose]}\t"
            f"{'匿名' if form.anonymous else '实名'}\t{summary.questions}\t{state}{used}"
        )
    return 0
