"""One survey's results in the chat (the button 结果 under `/survey results`, `!svr:<survey id>`:
德育处 and the principal): the response rate per class, each question's distribution
(school-wide; per class too for a named form), the free texts without names, then one chart per
question with options, each a picture of its own.

What is counted and what is withheld is `models.surveys.results`'s: groups under five merged into
其他, an anonymous form school-wide only and only once closed, nothing until five families have
submitted. Nothing here names a family.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.context import Context
from handlers.i18n import Translator
from handlers.notice.render import format_moment
from handlers.stored_png import stored_png
from handlers.surveys.chart import chart_specs, draw_survey_charts, option_label
from handlers.types import Attachment, Inbound, Reply
from models.surveys.results import (
    MIN_GROUP,
    Distribution,
    QuestionResult,
    SurveyResults,
    Withheld,
    survey_results,
)
from models.surveys.tables import STATUS_LABELS

#: Free texts listed in the chat per question; the export has them all.
TEXTS_SHOWN = 30


def _distribution_text(question: QuestionResult, shown: Distribution, t: Translator) -> str:
    _ = t._
    parts = [
        _("{option} {count}（{percent}%）").format(
            option=option_label(question, value, t),
            count=count,
            percent=shown.percent(value),
        )
        for value, count in shown.counts
    ]
    if shown.skipped:
        parts.append(_("未答 {count}").format(count=shown.skipped))
    return " · ".join(parts)


def _question_lines(results: SurveyResults, question: QuestionResult, t: Translator) -> list[str]:
    _ = t._
    if question.is_text:
        lines = [
            _("{position}. {prompt}（文字意见 {count} 条）").format(
                position=question.position, prompt=question.prompt, count=len(question.texts)
            )
        ]
        lines += [f"   · {text}" for text in question.texts[:TEXTS_SHOWN]]
        more = len(question.texts) - TEXTS_SHOWN
        if more > 0:
            lines.append(
                _("   ……另有 {count} 条，见导出文件（export survey {id}）").format(
                    count=more, id=results.survey_id
                )
            )
        return lines
    assert question.school is not None
    lines = [
        f"{question.position}. {question.prompt}",
        "   " + _("全校：") + _distribution_text(question, question.school, t),
    ]
    for group, shown in question.by_group:
        lines.append(f"   {_(group.name)}：" + _distribution_text(question, shown, t))
    return lines


def results_text(results: SurveyResults, t: Translator, zone: ZoneInfo) -> str:
    """The results as one message (the channel splits it if it is long)."""
    _ = t._
    lines = [
        _("问卷 #{id}：{form}（{status}，{deadline} 截止）").format(
            id=results.survey_id,
            form=results.form_name,
            status=_(STATUS_LABELS[results.status]),
            deadline=format_moment(t, results.deadline, zone),
        ),
        _("回收：已提交 {submitted}/{drawn}（{percent}%）").format(
            submitted=results.submitted, drawn=results.drawn, percent=results.percent
        ),
        _("各班回收（已提交/抽到，不足 {n} 份的班级合并为“其他”）：").format(n=MIN_GROUP),
        *(
            _("{klass} {submitted}/{drawn}（{percent}%）").format(
                klass=_(g.name), submitted=g.submitted, drawn=g.drawn, percent=g.percent
            )
            for g in results.groups
        ),
    ]
    if results.withheld is Withheld.TOO_FEW:
        if results.anonymous:
            lines.append(_("匿名问卷回收不足 {n} 份，暂不显示各题分布。").format(n=MIN_GROUP))
        else:
            lines.append(_("回收不足 {n} 份，暂不显示各题分布。").format(n=MIN_GROUP))
        return "\n".join(lines)
    if results.withheld is Withheld.OPEN_ANONYMOUS:
        lines.append(
            _(
                "这是匿名问卷：各题结果和文字意见在问卷结束后显示。答卷期间结果随每一份提交而变，"
                "前后对比就能推出刚提交的家庭的答案。"
            )
        )
        return "\n".join(lines)
    if results.per_group:
        lines.append(
            _("各题结果（全校及各班，不足 {n} 份的班级合并为“其他”）：").format(n=MIN_GROUP)
        )
    else:
        lines.append(_("各题结果（匿名问卷只统计全校，不分班级）："))
    for question in results.questions:
        lines += _question_lines(results, question, t)
    return "\n".join(lines)


async def _stored(ctx: Context, survey_id: int, position: int, png: bytes) -> Attachment:
    """The chart stored in `media` and named for a reply."""
    return await stored_png(
        ctx.session,
        png,
        key=f"survey-chart:{ctx.school.id}:{survey_id}:{position}:{ctx.t.language}",
        filename=f"survey-{survey_id}-{position}.png",
    )


async def chart_replies(results: SurveyResults, ctx: Context) -> list[Reply]:
    """One picture per question with options, captioned with the survey and the question."""
    charted = [q for q in results.questions if not q.is_text and q.school and q.school.answered]
    specs = chart_specs(results, ctx.t)
    pngs = await draw_survey_charts(specs)
    replies = []
    for question, png in zip(charted, pngs, strict=True):
        if png is None:
            continue
        image = await _stored(ctx, results.survey_id, question.position, png)
        caption = ctx.t._("问卷 #{id} 第{position}题").format(
            id=results.survey_id, position=question.position
        )
        replies.append(Reply(caption, image=image))
    return replies


async def show_results(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    try:
        survey_id = int(argument)
    except ValueError:
        return [Reply(_("没有找到这份问卷。"))]
    results = await survey_results(ctx.session, ctx.school.id or 0, survey_id)
    if results is None:
        return [Reply(_("没有找到这份问卷。"))]
    return [Reply(results_text(results, ctx.t, ctx.zone)), *await chart_replies(results, ctx)]
