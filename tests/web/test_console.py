"""The agent console (/console) in-process: the real app (aiohttp test client) on the real store, on
SQLite and PostgreSQL (the `engine` fixture's backends). The lookup box with the real Rasa, and the
pages in a real browser, are tested in tests/e2e/test_console_browser.py."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from hotline import agents as console, calllog, clock, tickets
from hotline.models import Agent, CallTurn, ConsoleSession, events, LoginFailure, Ticket, TicketAudit
from hotline.settings import Settings
from web.app import create_app
from web.console.routes import console_sender
from launcher.stack import free_ports

NAME, PASSWORD = "wang", "correct horse battery"
PHONE = "13912345678"
KEY = b"k" * 32


@pytest.fixture
def clean(engine, wipe):
    """No agents, sessions, failures, audit rows, tickets or call log before and after the test."""
    def empty() -> None:
        with engine.begin() as conn:
            for table in (TicketAudit, ConsoleSession, LoginFailure, Agent):
                conn.execute(delete(table))
        wipe()

    empty()
    yield empty
    empty()


@pytest.fixture
def agent(engine, clean) -> str:
    with Session(engine) as s, s.begin():
        console.add_agent(s, NAME, PASSWORD)
    return NAME


def _settings(database_url: str, tmp_path: Path, **kw) -> Settings:
    (closed,) = free_ports(1)  # no Rasa there: the lookup box says so
    return Settings(database_url=database_url, var_dir=tmp_path, rasa_url=f"http://127.0.0.1:{closed}",
                    secret_key_env=KEY, **kw)


class Console:
    """A browser's view of the console: a cookie jar, the CSRF token of the last page."""

    def __init__(self, client: TestClient):
        self.client = client
        self.csrf = ""

    async def page(self, path: str, status: int = 200) -> str:
        resp = await self.client.get(path, allow_redirects=False)
        text = await resp.text()
        assert resp.status == status, (path, resp.status, text[:300])
        if found := re.search(r'name="csrf" value="([^"]*)"', text):
            self.csrf = found.group(1)
        return text

    async def login(self, name: str = NAME, password: str = PASSWORD, next_: str = "/console/"):
        await self.page("/console/login")
        return await self.client.post("/console/login", allow_redirects=False,
                                      data={"csrf": self.csrf, "name": name, "password": password, "next": next_})

    async def post(self, path: str, data: dict, *, csrf: str | None = None):
        return await self.client.post(path, data={"csrf": self.csrf if csrf is None else csrf, **data},
                                      allow_redirects=False)


@pytest.fixture
async def browser(database_url, engine, tmp_path):
    client = TestClient(TestServer(create_app(_settings(database_url, tmp_path))))
    await client.start_server()
    yield Console(client)
    await client.close()


@pytest.fixture
async def logged_in(browser, agent) -> Console:
    resp = await browser.login()
    assert resp.status == 303
    await browser.page("/console/")
    return browser


def _open_ticket(engine, **kw) -> str:
    with Session(engine) as s, s.begin():
        t = tickets.open_ticket(s, hospital=kw.get("hospital", "南京鼓楼医院"), description="排队两小时没人管",
                                occurred="昨天上午", phone=kw.get("phone", PHONE), sender="abc123")
        return t.number


# --- passwords, login, sessions ------------------------------------------------------------------------

def test_passwords_are_scrypt_with_their_own_salt_and_parameters():
    first, second = console.hash_password(PASSWORD), console.hash_password(PASSWORD)
    assert first.startswith("scrypt$16384$8$1$") and first != second  # a random salt each time
    assert console.verify_password(PASSWORD, first) and console.verify_password(PASSWORD, second)
    assert not console.verify_password(PASSWORD + "x", first)
    assert not console.verify_password(PASSWORD, first.replace("scrypt$16384", "scrypt$1024"))
    assert not console.verify_password(PASSWORD, "not a hash")
    with pytest.raises(console.AgentError, match="too short"):
        console.check_password_rules("short")


async def test_login_sets_a_strict_httponly_session_cookie_and_logout_ends_it(browser, agent, engine):
    resp = await browser.login(next_="/console/tickets")
    assert resp.status == 303 and resp.headers["Location"] == "/console/tickets"
    cookie = resp.cookies["hotline_console"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/console"
    assert not cookie["secure"]  # plain http on loopback; HOTLINE_COOKIE_SECURE turns it on
    with Session(engine) as s:
        stored = s.scalar(select(ConsoleSession))
        assert stored.token_hash == console.token_hash(cookie.value) and cookie.value not in stored.token_hash
        assert s.scalar(select(Agent.last_login)) is not None
    assert "坐席：wang" in await browser.page("/console/tickets")

    resp = await browser.post("/console/logout", {})
    assert resp.status == 303 and resp.headers["Location"] == "/console/login"
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(ConsoleSession)) == 0
    # The old token is worth nothing now, even sent again by hand.
    browser.client.session.cookie_jar.update_cookies({"hotline_console": cookie.value})
    await browser.page("/console/tickets", status=303)


async def test_the_cookie_is_secure_behind_https(database_url, engine, agent, tmp_path):
    client = TestClient(TestServer(create_app(_settings(database_url, tmp_path, cookie_secure=True))))
    await client.start_server()
    try:
        resp = await client.get("/console/login")
        assert resp.cookies["hotline_console_login"]["secure"]
        token = re.search(r'name="csrf" value="([^"]*)"', await resp.text()).group(1)
        # Sent back by hand: the client does not return a Secure cookie over plain http (a browser
        # on the HTTPS site does).
        resp = await client.post("/console/login", allow_redirects=False,
                                 data={"csrf": token, "name": NAME, "password": PASSWORD},
                                 headers={"Cookie": f"hotline_console_login={token}"})
    finally:
        await client.close()
    assert resp.status == 303 and resp.cookies["hotline_console"]["secure"]


async def test_wrong_passwords_unknown_and_disabled_agents_are_refused(browser, agent, engine):
    for name, password in ((NAME, "wrong password!"), ("nobody", PASSWORD), ("", "")):
        resp = await browser.login(name, password)
        assert resp.status in (400, 401) and "hotline_console" not in resp.cookies
        assert "用户名" in await resp.text()
    with Session(engine) as s, s.begin():
        console.disable_agent(s, NAME)
    resp = await browser.login()
    assert resp.status == 401 and "用户名或密码错误" in await resp.text()


async def test_repeated_failures_lock_the_name_even_for_the_right_password(browser, agent, database_url,
                                                                         tmp_path):
    for _ in range(console.NAME_LIMIT):
        assert (await browser.login(NAME, "wrong password!")).status == 401
    resp = await browser.login()
    assert resp.status == 429 and "登录失败次数过多" in await resp.text()
    assert "hotline_console" not in resp.cookies
    # Recorded in the store: a restarted app refuses it too.
    client = TestClient(TestServer(create_app(_settings(database_url, tmp_path))))
    await client.start_server()
    try:
        again = Console(client)
        assert (await again.login()).status == 429
    finally:
        await client.close()


async def test_every_post_needs_the_sessions_csrf_token(logged_in, engine):
    number = _open_ticket(engine)
    for token in ("", "forged"):
        resp = await logged_in.post(f"/console/tickets/{number}/status", {"status": "in_progress"}, csrf=token)
        assert resp.status == 403
        resp = await logged_in.post("/console/logout", {}, csrf=token)
        assert resp.status == 403
    with Session(engine) as s:
        assert tickets.get_ticket(s, number).status == "open"
        assert s.scalar(select(func.count()).select_from(ConsoleSession)) == 1
    # The login form's own token (double submit: form field and cookie).
    resp = await logged_in.client.post("/console/login", data={"name": NAME, "password": PASSWORD},
                                       allow_redirects=False)
    assert resp.status == 403


def _console_routes(app) -> list[tuple[str, str, str]]:
    """(method, path with sample parameters, route name) of every console route."""
    found = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if not path.startswith("/console") or route.method == "HEAD":
            continue
        sample = re.sub(r"\{id[^}]*\}", "1", path.replace("{number}", "TS-20260101-0001"))
        found.append((route.method, sample, route.name))
    return found


async def test_every_page_and_api_needs_a_login(browser, engine):
    number = _open_ticket(engine)
    routes = _console_routes(browser.client.server.app)
    names = {name for _, _, name in routes}
    assert {"home", "lookup", "hospitals", "hospital", "tickets", "ticket", "ticket_status", "work_order",
            "work_order_post", "audit", "report", "report_png", "report_csv", "logout"} <= names
    for method, path, name in routes:
        if name in ("login", "login_post", "static"):
            continue
        path = path.replace("TS-20260101-0001", number)
        resp = await browser.client.request(method, path, allow_redirects=False,
                                            data={"status": "in_progress"} if method == "POST" else None)
        if path.endswith((".png", ".csv")):
            assert resp.status == 401, (method, path)
            assert "login required" in await resp.text()
        else:
            assert resp.status == 303, (method, path, resp.status)
            assert resp.headers["Location"].startswith("/console/login"), (method, path)
            assert PHONE not in await resp.text()
    # Also what is not a route, and JSON clients.
    assert (await browser.client.get("/console/no-such-page", allow_redirects=False)).status == 303
    resp = await browser.client.get("/console/tickets", headers={"Accept": "application/json"})
    assert resp.status == 401
    with Session(engine) as s:
        assert tickets.get_ticket(s, number).status == "open"
    # The login page itself answers, with the security headers.
    resp = await browser.client.get("/console/login")
    assert resp.status == 200
    assert "script-src" not in resp.headers["Content-Security-Policy"]  # default-src 'none': no script
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Referrer-Policy"] == "no-referrer"


async def test_the_next_page_after_login_stays_in_the_console(browser, agent):
    resp = await browser.client.get("/console/report?period=2023", allow_redirects=False)
    assert resp.status == 303
    page = await browser.page(resp.headers["Location"])
    assert 'name="next" value="/console/report?period=2023"' in page
    for evil in ("//evil.example/", "https://evil.example/", "/console/\\evil"):
        resp = await browser.login(next_=evil)
        assert resp.status == 303 and resp.headers["Location"] == "/console/"


# --- tickets ---------------------------------------------------------------------------------------------

async def test_phones_are_masked_in_the_list_clear_on_the_ticket_page_and_each_view_audited(logged_in, engine):
    number = _open_ticket(engine)
    _open_ticket(engine, phone=None)
    listing = await logged_in.page("/console/tickets")
    assert number in listing and "139****5678" in listing and PHONE not in listing
    page = await logged_in.page(f"/console/tickets/{number}")
    assert PHONE in page and "排队两小时没人管" in page
    with Session(engine) as s:
        rows = s.scalars(select(TicketAudit)).all()
        assert [(a.agent, a.ticket_number, a.action) for a in rows] == [(NAME, number, "viewed")]
    audit = await logged_in.page(f"/console/audit?number={number}")
    assert number in audit and "查看" in audit and NAME in audit and PHONE not in audit


async def test_an_agent_moves_a_ticket_and_the_move_is_audited(logged_in, engine):
    number = _open_ticket(engine)
    await logged_in.page(f"/console/tickets/{number}")
    resp = await logged_in.post(f"/console/tickets/{number}/status", {"status": "in_progress", "note": "已联系医院"})
    assert resp.status == 303 and resp.headers["Location"] == f"/console/tickets/{number}?done=status"
    page = await logged_in.page(resp.headers["Location"])
    assert "状态已更新" in page and "处理中" in page and "已联系医院" in page
    with Session(engine) as s:
        t = tickets.get_ticket(s, number)
        assert t.status == "in_progress" and t.changes[-1].actor == NAME
        actions = [(a.action, a.detail) for a in s.scalars(select(TicketAudit).order_by(TicketAudit.id))]
        assert ("status", "open → in_progress") in actions
    # A move the workflow does not allow: said, and nothing changes.
    resp = await logged_in.post(f"/console/tickets/{number}/status", {"status": "in_progress"})
    assert resp.status == 409 and "不能改为" in await resp.text()
    resp = await logged_in.post("/console/tickets/TS-19990101-0001/status", {"status": "closed"})
    assert resp.status == 404
    with Session(engine) as s:
        assert len(tickets.get_ticket(s, number).changes) == 2


async def test_an_agent_registers_a_12345_work_order(logged_in, engine):
    await logged_in.page("/console/tickets/new")
    form = {"kind": "省12345工单", "hospital": "江苏省人民医院", "description": "转办：检查预约等待过长",
            "occurred": "11月20日", "phone": "025-8362 6620"}
    resp = await logged_in.post("/console/tickets/new", {**form, "phone": "12345"})
    text = await resp.text()
    assert resp.status == 400 and "联系电话不是有效" in text and "转办：检查预约等待过长" in text
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0  # nothing half-written
    resp = await logged_in.post("/console/tickets/new", {**form, "kind": "自接工单"})
    assert resp.status == 400
    resp = await logged_in.post("/console/tickets/new", form)
    assert resp.status == 303
    number = resp.headers["Location"].split("/")[-1].split("?")[0]
    with Session(engine) as s:
        t = tickets.get_ticket(s, number)
        assert (t.kind, t.hospital, t.phone, t.changes[0].actor) == ("省12345工单", "江苏省人民医院", "02583626620", NAME)
        assert s.scalar(select(TicketAudit.action).where(TicketAudit.ticket_number == number)) == "registered"


async def test_the_ticket_list_filters(logged_in, engine):
    first, second = _open_ticket(engine), _open_ticket(engine, hospital="江苏省人民医院")
    with Session(engine) as s, s.begin():
        tickets.change_status(s, second, "in_progress", actor="li")
    page = await logged_in.page("/console/tickets?status=in_progress")
    assert second in page and first not in page
    page = await logged_in.page(f"/console/tickets?number={first[-4:]}&kind=自接工单")
    assert first in page and second not in page
    today = clock.today().isoformat()
    page = await logged_in.page(f"/console/tickets?from={today}&to={today}")
    assert first in page and second in page
    page = await logged_in.page("/console/tickets?from=2000-01-01&to=2000-01-02")
    assert first not in page and "没有符合条件的工单" in page
    page = await logged_in.page("/console/tickets?from=yesterday", status=400)
    assert "不是日期" in page
    await logged_in.page("/console/tickets?from=0001-01-01&to=9999-12-31", status=400)
    await logged_in.page("/console/tickets?status=lost", status=400)
    await logged_in.page("/console/tickets/TS-19990101-0001", status=404)


# --- hospitals, report, lookup ---------------------------------------------------------------------------

async def test_hospitals_are_found_by_any_alias_and_show_every_figure_with_its_source(logged_in, engine):
    page = await logged_in.page("/console/hospitals?q=省人医")
    assert "江苏省人民医院" in page and "南京鼓楼医院" not in page
    page = await logged_in.page("/console/hospitals?q=鼓楼")
    hospital_id = re.search(r'href="/console/hospitals/(\d+)">南京鼓楼医院<', page).group(1)
    page = await logged_in.page(f"/console/hospitals/{hospital_id}")
    assert "2023年" in page and "2019年10月" in page
    assert re.search(r"<td>小计</td>\s*<td class=\"num\">385480次", page)
    assert "《南京卫生信息化简报》2024年第1期" in page
    page = await logged_in.page("/console/hospitals?q=<script>alert(1)</script>")
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page  # autoescaped
    await logged_in.page("/console/hospitals/999999", status=404)
    assert "没有这个页面" in await logged_in.page("/console/hospitals/99999999999999999999", status=404)


async def test_the_report_page_chart_and_csv_download(logged_in):
    page = await logged_in.page("/console/report?period=2023")
    assert "527519个" in page and "《南京卫生信息化简报》2024年第1期" in page
    assert 'src="/console/report.png?period=2023"' in page
    resp = await logged_in.client.get("/console/report.csv?period=2023")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="hotline-report-2023.csv"'
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0] == ["section", "category", "ours", "bulletin_measure", "bulletin_value", "bulletin_flag",
                       "source"]
    assert any(r[3] == "受理咨询电话" and r[4] == "527519个" for r in rows)
    resp = await logged_in.client.get("/console/report.png?period=2019-10")
    body = await resp.read()
    assert resp.status == 200 and resp.content_type == "image/png" and body.startswith(b"\x89PNG")
    page = await logged_in.page("/console/report?period=2023-13", status=400)
    assert "期间应为年份" in page
    assert (await logged_in.client.get("/console/report.csv?period=soon")).status == 400
    assert (await logged_in.client.get("/console/report.png?period=0000")).status == 400


async def test_the_lookup_box_says_when_the_assistant_is_down(logged_in):
    resp = await logged_in.post("/console/lookup", {"question": "鼓楼医院2023年预约量多少"})
    text = await resp.text()
    assert resp.status == 503 and "智能助手暂时无法连接" in text
    resp = await logged_in.post("/console/lookup", {"question": "  "})
    assert resp.status == 400 and "请输入问题" in await resp.text()


# --- the call log, the CLI --------------------------------------------------------------------------------

def test_the_call_log_drops_the_consoles_lookups(engine, clean):
    agent_sender, resident = console_sender(KEY, NAME), "wx-resident-1"
    assert agent_sender.startswith("console-") and NAME not in agent_sender
    with engine.begin() as conn:
        for i, sender in enumerate((agent_sender, resident, agent_sender)):
            event = {"event": "user", "text": "鼓楼医院2023年预约量多少", "timestamp": 1700000000 + i,
                     "message_id": f"m{i}", "parse_data": {"intent": {"name": "ask_statistic", "confidence": 0.9}},
                     "input_channel": "rest"}
            conn.execute(insert(events).values(sender_id=sender, data=json.dumps(event)))
    assert calllog.consume_once(engine, KEY) == 3
    with Session(engine) as s:
        senders = [t.sender for t in s.scalars(select(CallTurn))]
        assert senders == [calllog.pseudonym(KEY, resident)]  # the agent's two lookups are not calls
        assert s.scalar(select(func.count()).select_from(events)) == 0  # and not kept either


def _hotline(database_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("hotline")
    return subprocess.run([str(exe), "--database-url", database_url, "agent", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)


async def test_agents_are_created_listed_and_disabled_with_the_cli(browser, database_url, engine, clean):
    done = _hotline(database_url, "add", "li", "--password-stdin", stdin="short\n")
    assert done.returncode == 1 and "too short" in done.stderr
    done = _hotline(database_url, "add", "li", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert _hotline(database_url, "add", "li", "--password-stdin", stdin=PASSWORD + "\n").returncode == 1
    with Session(engine) as s:
        assert PASSWORD not in s.scalar(select(Agent.password_hash).where(Agent.name == "li"))
    assert (await browser.login("li", PASSWORD)).status == 303
    await browser.page("/console/tickets")
    assert re.match(r"li\tactive\tlast login \d{4}-", _hotline(database_url, "list").stdout)
    assert _hotline(database_url, "disable", "li").returncode == 0
    await browser.page("/console/tickets", status=303)  # the open session ended with it
    assert (await browser.login("li", PASSWORD)).status == 401
    assert _hotline(database_url, "disable", "nobody").returncode == 1


# --- throttling that slows, and whose address ------------------------------------------------------------

def test_a_name_pauses_after_its_free_failures_longer_each_time_up_to_a_ceiling(engine, clean):
    at = clock.utc()
    with Session(engine) as s, s.begin():
        for i in range(console.NAME_LIMIT - 1):
            console.record_failure(s, NAME, "10.0.0.1", now=at)
        assert console.throttle(s, NAME, "10.0.0.1", now=at).until is None  # mistyping is free, at first
        console.record_failure(s, NAME, "10.0.0.2", now=at)  # from anywhere: the name counts them all
        assert console.locked_until(s, NAME, "10.0.0.3", now=at) == at + console.NAME_PAUSE
        console.record_failure(s, NAME, "10.0.0.2", now=at)
        assert console.locked_until(s, NAME, "10.0.0.3", now=at) == at + 2 * console.NAME_PAUSE
        for _ in range(10):
            console.record_failure(s, NAME, "10.0.0.2", now=at)
        assert console.locked_until(s, NAME, "10.0.0.3", now=at) == at + console.NAME_MAX_PAUSE
        # Another agent is not affected, from the same addresses either.
        assert console.locked_until(s, "li", "10.0.0.2", now=at) is None


def test_a_busy_address_pauses_only_the_names_that_failed_from_it(engine, clean):
    at = clock.utc()
    with Session(engine) as s, s.begin():
        for i in range(console.ADDRESS_LIMIT + 3):  # someone tries name after name from one place
            console.record_failure(s, f"guess{i}", "10.0.0.9", now=at)
        state = console.throttle(s, NAME, "10.0.0.9", now=at)
        assert state.address_failures == console.ADDRESS_LIMIT + 3 and state.until is None  # wang gets in
        assert console.locked_until(s, "guess0", "10.0.0.9", now=at) == at + 8 * console.ADDRESS_PAUSE
        for i in range(30):
            console.record_failure(s, f"more{i}", "10.0.0.9", now=at)
        assert console.locked_until(s, "more0", "10.0.0.9", now=at) == at + console.ADDRESS_MAX_PAUSE
        assert console.locked_until(s, "more0", "10.0.0.8", now=at) is None  # elsewhere, the name is free


@pytest.mark.parametrize("trusted", [(), ("127.0.0.1/32",)])
async def test_x_forwarded_for_is_read_only_from_the_configured_proxy(database_url, engine, agent, tmp_path, trusted):
    client = TestClient(TestServer(create_app(_settings(database_url, tmp_path, trusted_proxies=trusted))))
    await client.start_server()
    try:
        console_ = Console(client)
        await console_.page("/console/login")
        resp = await client.post("/console/login", allow_redirects=False,
                                 data={"csrf": console_.csrf, "name": NAME, "password": "wrong password!"},
                                 headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
        assert resp.status == 401
    finally:
        await client.close()
    with Session(engine) as s:
        keys = set(s.scalars(select(LoginFailure.key)))
    # From the proxy (the test client's 127.0.0.1), the client the proxy saw; from anybody else, the peer.
    assert f"addr:{'203.0.113.9' if trusted else '127.0.0.1'}" in keys


async def test_behind_the_proxy_many_bad_logins_lock_no_other_agent_out(database_url, engine, agent, tmp_path):
    client = TestClient(TestServer(create_app(_settings(database_url, tmp_path, trusted_proxies=("127.0.0.0/8",)))))
    await client.start_server()
    try:
        attacker, wang = Console(client), Console(client)

        async def login(who: Console, name: str, password: str, address: str):
            await who.page("/console/login")
            return await client.post("/console/login", allow_redirects=False, headers={"X-Forwarded-For": address},
                                     data={"csrf": who.csrf, "name": name, "password": password})

        with Session(engine) as s, s.begin():  # 25 failed guesses at other names, already made
            for i in range(console.ADDRESS_LIMIT + 5):
                console.record_failure(s, f"guess{i}", "203.0.113.9")
        assert (await login(attacker, "guess0", PASSWORD, "203.0.113.9")).status == 429  # slowed
        # wang, behind the same proxy, from the same address even, has not failed: in at once.
        assert (await login(wang, NAME, PASSWORD, "203.0.113.9")).status == 303
    finally:
        await client.close()


async def test_descriptions_are_masked_in_the_list_and_by_the_cli(logged_in, engine, database_url):
    from sqlalchemy import update

    number = _open_ticket(engine)
    with Session(engine) as s, s.begin():  # written before tickets were kept masked
        s.execute(update(Ticket).where(Ticket.number == number).values(
            description="医生让我打13800001111，身份证320102199001011234，卡号6222 0212 3456 7890",
            hospital="鼓楼医院（电话025-84567890）"))
    listing = await logged_in.page("/console/tickets")
    for clear in ("13800001111", "320102199001011234", "6222 0212 3456 7890", "84567890"):
        assert clear not in listing
    assert "138****1111" in listing and "025****7890" in listing
    out = subprocess.run([str(Path(sys.executable).with_name("hotline")), "--database-url", database_url, "tickets"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and number in out.stdout, out.stderr
    for clear in ("13800001111", "320102199001011234", "84567890", PHONE):
        assert clear not in out.stdout
    assert "138****1111" in out.stdout


def test_the_trusted_proxies_setting_takes_addresses_and_networks_only():
    s = Settings.from_env({"HOTLINE_TRUSTED_PROXIES": "10.0.0.5, 172.18.0.0/16,::1"})
    assert s.trusted_proxies == ("10.0.0.5/32", "172.18.0.0/16", "::1/128")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ValueError, match="HOTLINE_TRUSTED_PROXIES"):
        Settings.from_env({"HOTLINE_TRUSTED_PROXIES": "the-proxy"})


# --- 人工接入: the handoff queue ------------------------------------------------------------------------

@pytest.fixture
def queue(engine, clean):
    from hotline.models import Handoff, HandoffMessage

    def empty() -> None:
        with engine.begin() as conn:
            conn.execute(delete(HandoffMessage))
            conn.execute(delete(Handoff))

    empty()
    yield
    empty()


def _handoff(engine, sender: str, **kw) -> int:
    from hotline import handoff

    with Session(engine) as s, s.begin():
        return handoff.request(s, sender, **kw).id


async def test_two_agents_taking_one_conversation_at_once_one_gets_it(logged_in, engine, database_url, tmp_path,
                                                                       queue):
    import asyncio

    from hotline import handoff

    with Session(engine) as s, s.begin():
        console.add_agent(s, "li", PASSWORD)
    other = Console(TestClient(TestServer(create_app(_settings(database_url, tmp_path)))))
    await other.client.start_server()
    try:
        assert (await other.login("li")).status == 303
        for _ in range(3):
            entry = _handoff(engine, f"{_:016d}")
            await logged_in.page("/console/queue")
            await other.page("/console/queue")
            first, second = await asyncio.gather(logged_in.post(f"/console/queue/{entry}/take", {}),
                                                 other.post(f"/console/queue/{entry}/take", {}))
            assert sorted([first.status, second.status]) == [303, 409]
            loser = second if first.status == 303 else first
            assert "已被其他坐席接入" in await loser.text()
            with Session(engine) as s:
                taken = handoff.get(s, entry)
                assert taken.agent == (NAME if first.status == 303 else "li")
                assert s.scalar(select(func.count()).select_from(TicketAudit).where(
                    TicketAudit.ticket_number == f"HO-{entry}", TicketAudit.action == "taken")) == 1
    finally:
        await other.client.close()


async def test_an_agent_answers_and_closes_only_what_they_took(logged_in, engine, queue):
    from hotline import handoff

    entry = _handoff(engine, "a" * 16)
    page = await logged_in.page(f"/console/queue/{entry}")
    assert "REST" in page and "答复内容" not in page  # not taken: no answer form
    resp = await logged_in.post(f"/console/queue/{entry}/answer", {"text": "您好"})
    assert resp.status == 409 and "请先接入" in await resp.text()
    with Session(engine) as s, s.begin():
        handoff.take(s, entry, "li")
    resp = await logged_in.post(f"/console/queue/{entry}/answer", {"text": "您好"})
    assert resp.status == 409 and "其他坐席" in await resp.text()
    with Session(engine) as s, s.begin():
        s.get(handoff.Handoff, entry).agent = NAME
    # REST: stored, not pushed, and said so.
    resp = await logged_in.post(f"/console/queue/{entry}/answer", {"text": "请拨打12320，电话13912345678"})
    assert resp.status == 303 and resp.headers["Location"].endswith("done=stored")
    page = await logged_in.page(resp.headers["Location"])
    assert "REST 渠道无法推送" in page and "139****5678" in page and PHONE not in page
    resp = await logged_in.post(f"/console/queue/{entry}/close", {})
    assert resp.status == 303
    assert (await logged_in.post(f"/console/queue/{entry}/close", {})).status == 409
    audit = await logged_in.page(f"/console/audit?number=HO-{entry}")
    for label in ("答复来访者", "结束会话"):  # (taken in the store above, not in the console)
        assert label in audit
    with Session(engine) as s:
        e = handoff.get(s, entry)
        assert e.state == handoff.CLOSED and e.closed_by == f"agent:{NAME}" and e.first_answer_at is not None


async def test_a_crisis_waiting_shows_on_every_page_and_heads_the_queue(logged_in, engine, queue):
    plain = _handoff(engine, "1" * 16)
    assert "crisis-alert" not in await logged_in.page("/console/tickets")
    crisis = _handoff(engine, "2" * 16, crisis=True)
    for path in ("/console/", "/console/tickets", "/console/report", "/console/queue"):
        assert 'id="crisis-alert"' in await logged_in.page(path), path
    page = await logged_in.page("/console/queue")
    assert page.index(f'data-entry="{crisis}"') < page.index(f'data-entry="{plain}"')
    await logged_in.post(f"/console/queue/{crisis}/take", {})
    assert 'id="crisis-alert"' in await logged_in.page("/console/tickets")  # held: still shown
    await logged_in.post(f"/console/queue/{crisis}/close", {})
    assert 'id="crisis-alert"' not in await logged_in.page("/console/tickets")


async def test_the_queue_pages_need_a_login(browser, queue):
    for path in ("/console/queue", "/console/queue/1"):
        resp = await browser.client.get(path, allow_redirects=False)
        assert resp.status in (302, 303) and "/console/login" in resp.headers["Location"], path
    resp = await browser.client.post("/console/queue/1/take", allow_redirects=False)
    assert resp.status in (302, 303, 401, 403)
