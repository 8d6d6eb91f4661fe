"""Nothing leaked: residents type phone, ID-card and bank-card numbers the ways people do, through
Rasa's REST channel, WeChat (/wechat) and the agent console; then every file under the run's var/ (the
store with its WAL, every log), the reports in every format and the store's every table are searched.
Only the ticket's own phone may be in clear, and only in its column of the store.

Rasa's tracker store is in the Rasa process's memory in this shape (masked: tests/bot/test_trackers.py);
the production shape's PostgreSQL tracker store is searched by tests/prod/test_privacy_sweep_prod.py.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from hotline import calllog
from hotline.clock import today
from hotline.models import Ticket
from sweep import assert_nowhere, assert_nowhere_in_rows
from wechat_fake import WechatServer, new_openid, text_xml

pytestmark = pytest.mark.e2e

AGENT, PASSWORD = "privacy-sweep", "sweep-password-2026"

# Each number as typed, and its digits. None is used by any other test.
TICKET_PHONE = ("158 5029 1734", "15850291734")  # the confirmed complaint's: kept on its ticket only
CLEAR_NOWHERE = {
    "mobile in a story": ("136-0518-4729", "13605184729"),
    "landline": ("0512-67305829", "051267305829"),
    "ID card": ("32010619870512461x", "3201061987051246"),
    "old ID card": ("320106870512461", "320106870512461"),
    "bank card": ("6217 0012 3456 7812 345", "6217001234567812345"),
    "full-width mobile": ("１５２５１８３６０７４", "15251836074"),
    "mobile in Chinese numerals": ("一八九五一七二六三零四", "18951726304"),
    "cancelled complaint's phone": ("13851627094", "13851627094"),
    "WeChat": ("137 7051 8264", "13770518264"),
    "WeChat ID card": ("320106198705124629", "320106198705124629"),
    "console": ("13951468027", "13951468027"),
}


async def rest(system, sender: str, message: str) -> str:
    return system.text(await system.send(sender, message))


@pytest.fixture(scope="module")
def conversations(system):
    """What the residents and an agent said; the ticket's number."""
    import asyncio

    async def talk() -> str:
        n = CLEAR_NOWHERE
        complaint = system.new_sender("sweep")
        await rest(system, complaint, "我要投诉鼓楼医院")
        await rest(system, complaint, f"挂号窗口的人态度很差，还让我报身份证{n['ID card'][0]}和银行卡"
                                      f"{n['bank card'][0]}，手机{n['mobile in a story'][0]}也被登记了")
        await rest(system, complaint, "昨天下午三点")
        await rest(system, complaint, TICKET_PHONE[0])
        done = await rest(system, complaint, "确认提交")
        number = re.search(r"TS-\d{8}-\d{4}", done)
        assert number, done

        free = system.new_sender("sweep")
        await rest(system, free, f"我电话是{n['landline'][0]}，老身份证{n['old ID card'][0]}，帮我查下挂号记录")
        await rest(system, free, f"或者打{n['full-width mobile'][0]}，再不行打{n['mobile in Chinese numerals'][0]}")

        cancelled = system.new_sender("sweep")
        for said in ("我要投诉省人医", "医生看病敷衍，五分钟就把我打发走了", "上周三上午", n["cancelled complaint's phone"][0]):
            await rest(system, cancelled, said)
        await rest(system, cancelled, "先不提交")

        s = system.settings
        wechat = WechatServer(s.wechat_token, s.wechat_appid, s.wechat_aes_key)
        openid = new_openid()
        query, body = wechat.callback(text_xml(openid, f"我手机{n['WeChat'][0]}，身份证{n['WeChat ID card'][0]}，"
                                                       "想预约鼓楼医院"), openid=openid)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            async with http.post(system.app_url + "/wechat", params=query, data=body) as resp:
                assert resp.status == 200

        await console_lookup(system, f"来电人{n['console'][0]}问鼓楼医院2023年预约量")

        senders = [complaint, free, cancelled]
        key = system.settings.secret_key
        await system.eventually(lambda session: all(
            len(calllog.turns(session, sender=sender, key=key)) >= 2 for sender in senders), timeout=20)
        return number.group(0)

    return asyncio.run(talk())


async def console_lookup(system, question: str) -> None:
    hotline = Path(sys.executable).with_name("hotline")
    added = subprocess.run([str(hotline), "--database-url", system.database_url, "agent", "add", AGENT,
                            "--password-stdin"], input=PASSWORD + "\n", capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    csrf = re.compile(r'name="csrf" value="([^"]+)"')
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        async with http.get(system.app_url + "/console/login") as resp:
            token = csrf.search(await resp.text()).group(1)
        async with http.post(system.app_url + "/console/login",
                             data={"csrf": token, "next": "/console/", "name": AGENT, "password": PASSWORD}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "智能查询" in page, page[:300]
        async with http.post(system.app_url + "/console/lookup",
                             data={"csrf": csrf.search(page).group(1), "question": question}) as resp:
            assert resp.status == 200
        for path in ("/console/report", "/console/report.csv", "/console/tickets"):
            async with http.get(system.app_url + path) as resp:
                assert resp.status == 200, path
                (system.var_dir / "sweep" / path.strip("/").replace("/", "-")).parent.mkdir(exist_ok=True)
                (system.var_dir / "sweep" / path.strip("/").replace("/", "-")).write_bytes(await resp.read())


def test_no_number_in_clear_in_any_file_or_report(system, conversations):
    hotline = Path(sys.executable).with_name("hotline")
    reports = []
    for fmt in ("text", "json", "csv"):
        done = subprocess.run([str(hotline), "--database-url", system.database_url, "report", "--period", str(today().year), "--format", fmt],
                              capture_output=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "HOTLINE_VAR_DIR": str(system.var_dir)})
        assert done.returncode == 0, done.stderr
        reports.append((f"hotline report --format {fmt}", done.stdout))
    files = [p for p in system.var_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("hotline.db") for p in files) and any(p.suffix == ".log" for p in files)
    assert any(p.parent.name == "sweep" for p in files)  # the console's pages, as the agent got them
    for path in files:
        content = path.read_bytes()
        assert_nowhere(content, str(path), CLEAR_NOWHERE)
        if not path.name.startswith("hotline.db"):  # the store's file holds the ticket's phone
            assert_nowhere(content, str(path), {"ticket's phone": TICKET_PHONE})
    for where, content in reports:
        assert_nowhere(content, where, {**CLEAR_NOWHERE, "ticket's phone": TICKET_PHONE})


def test_in_the_store_only_the_tickets_phone_column_holds_it(system, conversations):
    with Session(system.engine) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == conversations))
        assert ticket.phone == TICKET_PHONE[1]  # the handler can call back
        assert "320106" in ticket.description and "3201061987051246" not in ticket.description
        tables = inspect(system.engine).get_table_names()
        assert "pending_contact" in tables and "events" in tables
        assert assert_nowhere_in_rows(session, "the store", {**CLEAR_NOWHERE, "ticket's phone": TICKET_PHONE},
                                      allowed=(("ticket", "phone"),)) > 100
