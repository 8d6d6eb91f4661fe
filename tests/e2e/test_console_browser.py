"""The agent console in a real browser (Debian's headless Chromium, driven by Playwright) on the real
running system: the agent made with the CLI, the lookup box answered by the real Rasa and actions,
tickets, the report's chart and CSV, at 1366x768 and at a phone's 390x844. Screenshots go to
test-artifacts/screenshots/."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import calllog, tickets
from hotline.models import CallTurn
from web.console.routes import console_sender

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium's own connections are refused on this machine
# and slow every page down.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP, PHONE_SIZE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
AGENT, PASSWORD = "e2e-wang", "e2e password 12320"
PHONE = "13812345678"
CITE_2023 = "《南京卫生信息化简报》2024年第1期"
WAIT_MS = 90_000  # the first question warms TensorFlow up


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: the console's browser tests need Debian's chromium; "
                    "`make system-deps` installs it (apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def agent(system) -> str:
    """Made as an administrator makes one: `hotline agent add` against the system's store."""
    hotline = Path(sys.executable).with_name("hotline")
    done = subprocess.run([str(hotline), "--database-url", system.database_url, "agent", "add", AGENT,
                           "--password-stdin"], input=PASSWORD + "\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return AGENT


def _context(chromium, size: dict):
    context = chromium.new_context(viewport=size, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(30_000)
    return context


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _log_in(page, system) -> None:
    page.goto(f"{system.app_url}/console/login")
    page.fill("input[name=name]", AGENT)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"{system.app_url}/console/")


def _eventually(system, check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        with Session(system.engine) as session:
            result = check(session)
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_logged_out_every_page_leads_to_the_login_page(system, chromium):
    for size, tag in ((DESKTOP, "1366x768"), (PHONE_SIZE, "390x844")):
        context = _context(chromium, size)
        page = context.new_page()
        for path in ("/console", "/console/", "/console/hospitals?q=鼓楼", "/console/hospitals/1",
                     "/console/tickets", "/console/tickets/new", "/console/tickets/TS-20260101-0001",
                     "/console/audit", "/console/report?period=2023"):
            page.goto(system.app_url + path)
            assert "/console/login" in page.url, path
            assert page.locator("h1").inner_text() == "坐席登录", path
        for path in ("/console/report.png?period=2023", "/console/report.csv?period=2023"):
            assert context.request.get(system.app_url + path).status == 401, path
        _shot(page, f"login-{tag}")
        context.close()


def test_an_agent_looks_up_a_figure_and_sees_its_source(system, chromium, agent):
    system.send_now(system.new_sender("warmup"), "你好")  # Rasa's first answer loads TensorFlow
    context = _context(chromium, DESKTOP)
    page = context.new_page()
    _log_in(page, system)
    page.fill("input[name=question]", "鼓楼医院2023年预约量多少")
    page.click("button:has-text('查询')")
    answer = page.locator(".answers .reply").first
    answer.wait_for(timeout=WAIT_MS)
    text = page.locator(".answers").inner_text()
    assert "385480" in text and "来源" in text and CITE_2023 in text, text
    _shot(page, "lookup-1366x768")
    context.close()

    # The agent's lookup is not a resident's call: a resident's message after it reaches the call
    # log, the lookup never does.
    resident = system.new_sender()
    system.send_now(resident, "鼓楼医院预约量多少")
    key = system.settings.secret_key
    assert _eventually(system, lambda s: s.scalars(select(CallTurn).where(
        CallTurn.sender == calllog.pseudonym(key, resident))).all())
    agent_turns = Session(system.engine).scalars(select(CallTurn).where(
        CallTurn.sender == calllog.pseudonym(key, console_sender(key, agent)))).all()
    assert agent_turns == []


def test_an_agent_opens_a_ticket_and_changes_its_status(system, chromium, agent):
    with Session(system.engine) as s, s.begin():
        number = tickets.open_ticket(s, hospital="南京鼓楼医院", description="挂号窗口排队两小时无人处理",
                                     occurred="今天上午", phone=PHONE, sender="e2e0000000000000").number
    context = _context(chromium, DESKTOP)
    page = context.new_page()
    _log_in(page, system)
    page.goto(f"{system.app_url}/console/tickets")
    row = page.locator("tr", has_text=number)
    assert "138****5678" in row.inner_text() and PHONE not in page.content()
    _shot(page, "tickets-1366x768")
    row.locator("a").click()
    page.wait_for_url(f"**/console/tickets/{number}")
    assert page.locator("#phone").inner_text() == PHONE
    page.select_option("select[name=status]", "in_progress")
    page.fill("input[name=note]", "已转医院核实")
    page.click("button:has-text('提交')")
    page.wait_for_url(f"**/console/tickets/{number}?done=status")
    assert page.locator("#status").inner_text() == "处理中"
    assert "状态已更新" in page.inner_text("main") and "已转医院核实" in page.inner_text("main")
    _shot(page, "ticket-1366x768")
    context.close()
    with Session(system.engine) as s:
        t = tickets.get_ticket(s, number)
        assert t.status == "in_progress" and t.changes[-1].actor == agent


def test_the_report_chart_loads_and_the_csv_downloads(system, chromium, agent, tmp_path):
    context = _context(chromium, DESKTOP)
    page = context.new_page()
    _log_in(page, system)
    page.goto(f"{system.app_url}/console/report?period=2023")
    assert "527519个" in page.inner_text("main") and CITE_2023 in page.inner_text("main")
    chart = page.locator("img#chart")
    chart.scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('chart').complete", timeout=60_000)
    assert chart.evaluate("img => img.naturalWidth") > 0
    _shot(page, "report-1366x768")
    with page.expect_download() as download:
        page.click("a:has-text('下载 CSV')")
    assert download.value.suggested_filename == "hotline-report-2023.csv"
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    content = saved.read_text(encoding="utf-8-sig")
    assert content.startswith("section,category,ours") and "527519个" in content
    context.close()


def test_the_console_fits_a_phone(system, chromium, agent):
    context = _context(chromium, PHONE_SIZE)
    page = context.new_page()
    _log_in(page, system)
    for path, name in (("/console/", "lookup"), ("/console/hospitals?q=鼓楼", "hospitals"),
                       ("/console/tickets", "tickets"), ("/console/tickets/new", "work-order"),
                       ("/console/report?period=2023", "report")):
        page.goto(system.app_url + path)
        # Nothing wider than the screen: wide tables scroll inside their card, not the page.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_SIZE["width"], (path, width)
        assert page.locator("nav.nav").is_visible()
        _shot(page, f"{name}-390x844")
    context.close()
