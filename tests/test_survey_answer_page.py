"""The survey page 问卷 a family on WeCom opens from the school's survey message: the whole form
with the saved answers filled in, every answer checked before any is saved, submitted in one go;
polite refusals past the deadline (410), before consent (403), and for links forged, of another
kind or naming a family the survey was not sent to (404).

The test school (tests/helpers/factories.py): 刘梅 is the mother of 张小明 (三(2)班) and 张小红
(四(1)班); 赵刚家长 is 赵刚's. The clock: Monday 16 November 2026, 10:00 in Shanghai. The survey is
the seed-003 parent form (anonymous; questions 1–7 required, 8 free text and optional).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import col, delete, select

from bot.web.links import LinkSigner
from bot.web.routes import add_parent_pages
from models.db.engine import Database
from models.privacy.tables import GuardianConsent
from models.surveys.tables import Survey, SurveyAnswer, SurveyQuestion
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.visits import ZONE, ChatUser, full_dispatcher
from tests.test_survey_answer_chat import (
    DEADLINE,
    PARENT_ANSWERS,
    answers,
    recipient_of_mother,
    sent_survey,
)

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

SECRET = "survey-page-test-secret-0123456789"


@dataclass
class Page:
    client: TestClient[web.Request, web.Application]
    ts: TestSchool
    signer: LinkSigner
    clock: FakeClock
    survey_id: int
    questions: list[SurveyQuestion]

    def token(self, guardian: str = "刘梅", survey_id: int | None = None) -> str:
        return self.signer.sign_survey(
            survey_id=self.survey_id if survey_id is None else survey_id,
            guardian_id=self.ts.guardians[guardian].id or 0,
            expires_at=self.clock() + DEADLINE,
        )

    def form(self, *, leave_out: int | None = None, **by_number: str) -> dict[str, str]:
        """Every question answered as the chat test answers it (question `leave_out` blank)."""
        values = [*PARENT_ANSWERS, "多组织户外活动"]
        form = {f"q{q.id}": v for q, v in zip(self.questions, values, strict=True)}
        for key, value in by_number.items():
            form[f"q{self.questions[int(key[1:]) - 1].id}"] = value
        if leave_out is not None:
            form[f"q{self.questions[leave_out - 1].id}"] = ""
        return form


@pytest.fixture
async def page(db: Database, clock: FakeClock) -> AsyncIterator[Page]:
    ts = await seed_school(db)
    survey_id = await sent_survey(db, clock, ts)
    async with db.session() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None
        query = (
            select(SurveyQuestion)
            .where(SurveyQuestion.form_id == survey.form_id)
            .order_by(col(SurveyQuestion.position))
        )
        questions = list((await session.exec(query)).all())
    app = web.Application()
    signer = LinkSigner(SECRET)
    add_parent_pages(app, db=db, signer=signer, zone=ZONE, now=clock)
    async with TestClient(TestServer(app)) as client:
        yield Page(client, ts, signer, clock, survey_id, questions)


async def _send(page: Page, token: str, form: dict[str, str]) -> tuple[int, str]:
    response = await page.client.post(f"/s/{token}", data=form)
    return response.status, await response.text()


# -- the form -------------------------------------------------------------------------------------


async def test_the_page_shows_the_whole_form_with_the_saved_answers_filled_in(
    db: Database, page: Page, clock: FakeClock
) -> None:
    mother = ChatUser(full_dispatcher(db, clock), await bind(db, clock, page.ts.guardians["刘梅"]))
    await mother.callback(f"!svs:{page.survey_id}")
    await mother.steps("是", "不满意")  # answered in the chat first
    response = await page.client.get(f"/s/{page.token()}")
    assert response.status == 200
    body = await response.text()
    for question in page.questions:
        assert question.prompt in body
    assert "学校看不到是哪个家庭填写了什么" in body
    assert f'name="q{page.questions[0].id}" value="是" required checked' in body
    assert f'name="q{page.questions[1].id}" value="不满意" required checked' in body
    assert f'name="q{page.questions[2].id}" value="满意" required>' in body


async def test_posting_the_form_saves_every_answer_and_submits(
    db: Database, page: Page, clock: FakeClock
) -> None:
    status, body = await _send(page, page.token(), page.form())
    assert status == 200
    assert "问卷已提交" in body
    saved = await answers(db)
    assert [a.value for a in saved] == [*PARENT_ANSWERS, "多组织户外活动"]
    assert all(a.answered_at is None for a in saved)  # an anonymous form
    assert (await recipient_of_mother(db, page.ts, page.survey_id)).submitted_at == clock()
    # Opened again before the deadline: the answers shown, one changed.
    shown = await (await page.client.get(f"/s/{page.token()}")).text()
    assert "您已提交过这份问卷" in shown and "多组织户外活动" in shown
    status, _body = await _send(page, page.token(), page.form(q2="不满意", q8=""))
    assert status == 200
    changed = await answers(db)
    assert len(changed) == 8
    assert (changed[1].value, changed[7].value) == ("不满意", "")


async def test_a_required_question_left_blank_brings_the_form_back_and_saves_nothing(
    db: Database, page: Page
) -> None:
    status, body = await _send(page, page.token(), page.form(leave_out=3))
    assert status == 400
    assert "第 3 题必须回答" in body
    assert "多组织户外活动" in body  # what was sent, kept
    assert await answers(db) == []
    status, body = await _send(page, page.token(), page.form(q2="非常满意"))
    assert status == 400
    assert "第 2 题的回答无效" in body
    assert await answers(db) == []
    assert (await recipient_of_mother(db, page.ts, page.survey_id)).submitted_at is None


# -- refusals -------------------------------------------------------------------------------------


async def test_after_the_deadline_the_page_answers_410_politely(
    db: Database, page: Page, clock: FakeClock
) -> None:
    token = page.token()
    clock.advance(days=7)
    response = await page.client.get(f"/s/{token}")
    assert response.status == 410
    assert "不能再填写或修改" in await response.text()
    status, _body = await _send(page, token, page.form())
    assert status == 410
    assert await answers(db) == []


async def test_without_consent_the_page_answers_403(db: Database, page: Page) -> None:
    async with db.session() as session:
        await session.exec(
            delete(GuardianConsent).where(
                col(GuardianConsent.guardian_id) == page.ts.guardians["刘梅"].id
            )
        )
    assert (await page.client.get(f"/s/{page.token()}")).status == 403
    status, _body = await _send(page, page.token(), page.form())
    assert status == 403
    assert await answers(db) == []


async def test_forged_tampered_and_other_kind_tokens_open_nothing(db: Database, page: Page) -> None:
    token = page.token()
    subject, _guardian, expiry, signature = token.split(".")
    other = page.ts.guardians["赵刚家长"].id or 0
    tampered = f"{subject}.{other:x}.{expiry}.{signature}"
    feedback = page.signer.sign_feedback(
        school_id=page.ts.school.id or 0,
        guardian_id=page.ts.guardians["刘梅"].id or 0,
        expires_at=page.clock() + DEADLINE,
    )
    for bad in (tampered, feedback, "nonsense", token[:-2] + "AA"):
        assert (await page.client.get(f"/s/{bad}")).status == 404
        status, _body = await _send(page, bad, page.form())
        assert status == 404
    assert await answers(db) == []


async def test_a_genuine_link_to_a_survey_not_sent_to_the_family_opens_nothing(
    db: Database, page: Page, clock: FakeClock
) -> None:
    elsewhere = await sent_survey(db, clock, page.ts, classes=("三(1)班",))
    token = page.token(survey_id=elsewhere)
    assert (await page.client.get(f"/s/{token}")).status == 404
    status, _body = await _send(page, token, page.form())
    assert status == 404
    async with db.session() as session:
        assert (await session.exec(select(SurveyAnswer))).all() == []
