"""Nothing leaked in the production shape: conversations holding phone, ID-card and bank-card numbers
go through the two Rasa servers (as the app sends them), then Rasa's tracker store on Redis, the
store on PostgreSQL (every table), the logs under var/ and the reports are searched. Only the ticket's
phone may be in clear, in its column. (The default shape: tests/e2e/test_privacy_sweep.py.)"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import calllog
from hotline.clock import today
from hotline.models import PendingContact, Ticket
from launcher.provision import redis_command
from sweep import assert_nowhere, assert_nowhere_in_rows

pytestmark = [pytest.mark.prod, pytest.mark.e2e]

# Every conversation Rasa keeps (bot/server/trackers.py: one key tracker:<sender> each), in one command.
ALL_TRACKERS = ("local out = {} for _, k in ipairs(redis.call('KEYS', 'tracker:*')) do "
                "out[#out + 1] = redis.call('GET', k) end return out")
TICKET_PHONE = ("159 6150 2837", "15961502837")
CLEAR_NOWHERE = {
    "mobile in a story": ("135-1407-2968", "13514072968"),
    "ID card": ("32010419790815283X", "3201041979081528"),
    "bank card": ("6228 4801 2345 6789 012", "6228480123456789012"),
    "landline": ("(0510) 8573 6291", "051085736291"),
    "cancelled complaint's phone": ("18751934026", "18751934026"),
}


async def test_the_tracker_store_the_store_the_logs_and_reports_hold_no_number_in_clear(prod):
    n = CLEAR_NOWHERE
    complaint, other, cancelled = (prod.new_sender("privacy") for _ in range(3))
    for said in ("我要投诉鼓楼医院", f"收费处多收了钱，要我身份证{n['ID card'][0]}，银行卡{n['bank card'][0]}，"
                 f"我手机{n['mobile in a story'][0]}", "前天上午", TICKET_PHONE[0]):
        await prod.ask(complaint, said)
    done = prod.text(await prod.ask(complaint, "确认提交"))
    number = re.search(r"TS-\d{8}-\d{4}", done)
    assert number, done
    await prod.ask(other, f"我家座机{n['landline'][0]}，能帮我预约吗")
    for said in ("我要投诉省人医", "护士打针很粗暴", "昨天", n["cancelled complaint's phone"][0], "先不提交"):
        await prod.ask(cancelled, said)
    key = prod.settings.secret_key
    await prod.eventually(lambda s: all(len(calllog.turns(s, sender=x, key=key)) >= 1
                                        for x in (complaint, other, cancelled)))

    everything = {**n, "ticket's phone": TICKET_PHONE}
    # Rasa's tracker store (Redis): every conversation, every event of it, masked.
    rows = [stored.decode() for stored in redis_command(prod.settings.tracker_store_url, "EVAL", ALL_TRACKERS, "0")]
    assert len(rows) >= 3 and sum(row.count('"event"') for row in rows) > 20
    for row in rows:
        assert_nowhere(row.encode(), "Rasa's tracker store", everything)
    assert any('"contact:' in row for row in rows)  # the form's phone slot: a reference

    with Session(prod.engine) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number.group(0)))
        assert ticket.phone == TICKET_PHONE[1]
        assert session.scalar(select(func.count()).select_from(PendingContact)) == 0  # used or cancelled
        assert assert_nowhere_in_rows(session, "the store", everything, allowed=(("ticket", "phone"),)) > 50

    files = [p for p in prod.settings.var_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files)
    for path in files:
        assert_nowhere(path.read_bytes(), str(path), everything)
    hotline = Path(sys.executable).with_name("hotline")
    for fmt in ("text", "json", "csv"):
        report = subprocess.run([str(hotline), "--database-url", prod.settings.database_url, "report",
                                 "--period", str(today().year), "--format", fmt], capture_output=True, timeout=120,
                                env={"PATH": "/usr/bin:/bin", "HOTLINE_VAR_DIR": str(prod.settings.var_dir)})
        assert report.returncode == 0, report.stderr
        assert_nowhere(report.stdout, f"hotline report --format {fmt}", everything)
