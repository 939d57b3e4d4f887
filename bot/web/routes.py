"""Mounting the parents' pages on the bot's web server: the receipt page (`/n/…`), the
incident page (`/i/…`), the feedback page (`/f/…`) and the care page (`/c/…`, 关爱室求助), both
linked from the receipt page, and the survey page (`/s/…`, 问卷), all opened by signed links,
never served without the web server's headers and body limit (`bot.web.security`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.web.attachments import FileSource
from bot.web.care_page import CarePage
from bot.web.feedback_page import FeedbackPage
from bot.web.incident_page import IncidentPage
from bot.web.links import LinkSigner
from bot.web.receipt_page import ReceiptPage
from bot.web.security import secure
from bot.web.survey_page import SurveyPage
from models.db.columns import utcnow
from models.db.engine import Database
from models.school.rules import DEFAULT_RULES, SchoolRules


def add_parent_pages(
    app: web.Application,
    *,
    db: Database,
    signer: LinkSigner,
    zone: ZoneInfo,
    now: Callable[[], datetime] = utcnow,
    on_outbox: Callable[[], None] | None = None,
    rules: SchoolRules = DEFAULT_RULES,
    files: FileSource | None = None,
) -> None:
    """Serve the pages on `app`; `on_outbox` is called after a question or an acknowledgement
    queued messages for staff (e.g. `DeliveryWorker.wake`). `app` gets the web server's headers
    and body limit if it has not got them yet; `files` lets the receipt page serve a notice's
    attachments."""
    secure(app)
    receipts = ReceiptPage(
        db=db, signer=signer, zone=zone, now=now, on_outbox=on_outbox, rules=rules, files=files
    )
    receipts.mount(app)  # its questions obey the flood limits in `rules`
    IncidentPage(db=db, signer=signer, zone=zone, now=now, on_outbox=on_outbox).mount(app)
    feedback = FeedbackPage(
        db=db, signer=signer, zone=zone, now=now, on_outbox=on_outbox, rules=rules
    )
    feedback.mount(app)  # the same flood limits as the chat's /feedback
    care = CarePage(db=db, signer=signer, zone=zone, now=now, on_outbox=on_outbox, rules=rules)
    care.mount(app)  # the care room is told as from the chat's /care, after quiet hours
    surveys = SurveyPage(db=db, signer=signer, zone=zone, now=now, on_outbox=on_outbox, rules=rules)
    surveys.mount(app)  # a submission's low satisfaction is judged by the school's threshold
