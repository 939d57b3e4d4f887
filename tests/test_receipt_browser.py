"""The receipt page and the incident page in a real headless browser (Debian's chromium +
chromedriver, Selenium) on a 375-px-wide phone screen: nothing scrolls sideways, 确认收到 and
已知悉 are big buttons, pressing one shows the confirmation and the database records it.

Without chromium the test skips on a developer machine, and fails under CI (`CI=true`), where
`.ci/run` installs it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import update
from sqlmodel import col

from bot.web.links import LinkSigner, incident_link_expiry, link_expiry
from bot.web.routes import add_parent_pages
from models.db.engine import Database
from models.notices.tables import Notice
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.incidents import REPORT, the_incident
from tests.helpers.notices import receipts
from tests.helpers.receipts import ZONE, published_notice
from tests.helpers.visits import full_dispatcher, person

CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 375
SECRET = "browser-test-secret-0123456789abc"
#: A body with a long unbroken address: it must wrap, not widen the page.
BODY = (
    "11月20日（周五）全天赴科技馆研学，请穿校服，自带水杯。\n"
    "报名表下载：https://school.example.edu.cn/" + "downloads/" * 12 + "form.xlsx\n"
    "如遇雨天，活动顺延至下周五。"
)


def _missing() -> str | None:
    """Why the browser cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return "chromium is not installed (apt-get install -y chromium chromium-driver)"
    if shutil.which("chromedriver") is None:
        return "chromedriver is not installed (apt-get install -y chromium-driver)"
    return None


@pytest.fixture
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run under CI: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"):
        options.add_argument(argument)
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": WIDTH, "height": 740, "pixelRatio": 2.0}}
    )
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


async def _serve_pages(
    db: Database, signer: LinkSigner, clock: FakeClock
) -> tuple[web.AppRunner, int]:
    """The signed pages on 127.0.0.1, a free port."""
    app = web.Application()
    add_parent_pages(app, db=db, signer=signer, zone=ZONE, now=clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


@pytest.fixture
async def page_url(db: Database, clock: FakeClock) -> AsyncIterator[tuple[str, int]]:
    """The receipt page on 127.0.0.1 (a free port) and 刘梅's link to an outing notice."""
    ts = await seed_school(db)
    notice = await published_notice(db, ts, clock(), classes=("三(2)班", "四(1)班"))
    async with db.session() as session:
        await session.exec(update(Notice).where(col(Notice.id) == notice.id).values(body=BODY))
    signer = LinkSigner(SECRET)
    runner, port = await _serve_pages(db, signer, clock)
    token = signer.sign(
        notice_id=notice.id or 0,
        guardian_id=ts.guardians["刘梅"].id or 0,
        expires_at=link_expiry(notice.display_until, ZONE),
    )
    try:
        yield f"http://127.0.0.1:{port}/n/{token}", ts.guardians["刘梅"].id or 0
    finally:
        await runner.cleanup()


def _fits(driver: Any) -> tuple[int, int]:
    width = driver.execute_script("return window.innerWidth")
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    return int(width), int(scroll)


def _open_and_press(driver: Any, url: str, button_id: str, done_id: str) -> dict[str, Any]:
    """Open the page, press the button `button_id`, wait for `done_id` (blocking; runs in a
    thread while the loop serves the page)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    before = _fits(driver)
    button = driver.find_element(By.ID, button_id)
    size = button.size
    text_before = driver.find_element(By.TAG_NAME, "body").text
    button.click()
    WebDriverWait(driver, 15).until(
        expected_conditions.presence_of_element_located((By.ID, done_id))
    )
    return {
        "before": before,
        "after": _fits(driver),
        "button": (int(size["width"]), int(size["height"])),
        "text_before": text_before,
        "text_after": driver.find_element(By.TAG_NAME, "body").text,
        "url_after": driver.current_url,
    }


def _assert_fits_a_phone(seen: dict[str, Any]) -> None:
    width, scroll = seen["before"]
    assert width == WIDTH
    assert scroll <= WIDTH, f"the page scrolls sideways: {scroll}px wide"
    assert seen["after"][1] <= WIDTH
    button_width, button_height = seen["button"]
    assert button_width >= WIDTH - 64 and button_height >= 48


async def test_a_parent_confirms_on_a_phone_sized_screen(
    db: Database, browser: Any, page_url: tuple[str, int]
) -> None:
    url, mother = page_url
    seen = await asyncio.to_thread(_open_and_press, browser, url, "confirm", "confirmed")
    _assert_fits_a_phone(seen)
    assert "张小明（三(2)班）、张小红（四(1)班）的家长：" in seen["text_before"]
    assert "form.xlsx" in seen["text_before"]
    assert "已确认收到，谢谢您！" in seen["text_after"]
    assert "✓ 已确认收到（11月16日 10:00）" in seen["text_after"]
    assert seen["url_after"] == f"{url}?s=ok"
    confirmed = [r for r in await receipts(db) if r.confirmed_at is not None]
    assert len(confirmed) == 2
    assert {(r.confirmed_by, r.channel) for r in confirmed} == {(mother, "wecom-parent")}


# -- the incident page -------------------------------------------------------------------------


@pytest.fixture
async def incident_url(db: Database, clock: FakeClock) -> AsyncIterator[tuple[str, int]]:
    """The incident page on 127.0.0.1 (a free port) and 刘梅's link to an incident about 张小明."""
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    await person(db, clock, dispatcher, ts.staff["王芳"])
    coach = await person(db, clock, dispatcher, ts.staff["钱进"])
    await coach.steps("/incident 张小明", *REPORT[3:], "确认上报")
    incident = await the_incident(db)
    signer = LinkSigner(SECRET)
    runner, port = await _serve_pages(db, signer, clock)
    token = signer.sign_incident(
        incident_id=incident.id or 0,
        guardian_id=ts.guardians["刘梅"].id or 0,
        expires_at=incident_link_expiry(incident.reported_at),
    )
    try:
        yield f"http://127.0.0.1:{port}/i/{token}", ts.guardians["刘梅"].id or 0
    finally:
        await runner.cleanup()


async def test_a_parent_acknowledges_an_incident_on_a_phone_sized_screen(
    db: Database, browser: Any, incident_url: tuple[str, int]
) -> None:
    url, mother = incident_url
    seen = await asyncio.to_thread(_open_and_press, browser, url, "ack", "acknowledged")
    _assert_fits_a_phone(seen)
    assert "【紧急】张小明在校突发情况" in seen["text_before"]
    assert "请尽快与班主任王芳老师联系。" in seen["text_before"]
    assert "✓ 您已于 10:00 确认知悉，谢谢。" in seen["text_after"]
    assert seen["url_after"] == f"{url}?s=ok"
    incident = await the_incident(db)
    assert incident.acknowledged_by == mother
