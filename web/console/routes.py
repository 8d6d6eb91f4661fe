"""The console's one route table: every URL, its name and its handler, by page group. All of them
but the login page need a session (auth.require_login), and every POST carries the session's CSRF
token.

- ``pages.py``: what the pages share (``render``, the store in a worker thread, the template filters);
- ``login.py``: login, logout; ``lookup.py``: the lookup box; ``hospitals.py``: hospitals and their
  figures; ``tickets.py``: the list, a ticket, status changes, 12345 work orders, the audit;
  ``queue.py``: the handoff queue (人工接入: take, answer, close); ``reports.py``: the call-category
  report, its chart and CSV.

Order matters where paths overlap: ``/tickets/new`` before ``/tickets/{number}``.
"""
from __future__ import annotations

from aiohttp import web

from web.console import hospitals, login, lookup, queue, reports, tickets
from web.console.lookup import console_sender
from web.console.pages import FILTERS

__all__ = ["FILTERS", "console_sender", "routes"]

routes: list[web.RouteDef] = [
    # login, logout
    web.get("", login.root, name="root"),
    web.get("/login", login.login_page, name="login"),
    web.post("/login", login.login, name="login_post"),
    web.post("/logout", login.logout, name="logout"),
    # the lookup box
    web.get("/", lookup.home, name="home"),
    web.post("/lookup", lookup.lookup, name="lookup"),
    # hospitals
    web.get("/hospitals", hospitals.hospitals, name="hospitals"),
    # (a longer id overflows PostgreSQL's integer)
    web.get(r"/hospitals/{id:\d{1,9}}", hospitals.hospital, name="hospital"),
    # tickets
    web.get("/tickets", tickets.ticket_list, name="tickets"),
    web.get("/tickets/new", tickets.work_order_page, name="work_order"),
    web.post("/tickets/new", tickets.work_order, name="work_order_post"),
    web.get("/tickets/{number}", tickets.ticket_page, name="ticket"),
    web.post("/tickets/{number}/status", tickets.ticket_status, name="ticket_status"),
    web.get("/audit", tickets.audit, name="audit"),
    # the handoff queue (人工接入)
    web.get("/queue", queue.queue_page, name="queue"),
    web.get(r"/queue/{id:\d{1,9}}", queue.entry_page, name="handoff"),
    web.post(r"/queue/{id:\d{1,9}}/take", queue.take, name="handoff_take"),
    web.post(r"/queue/{id:\d{1,9}}/answer", queue.answer, name="handoff_answer"),
    web.post(r"/queue/{id:\d{1,9}}/close", queue.close, name="handoff_close"),
    # reports
    web.get("/report", reports.report, name="report"),
    web.get("/report.csv", reports.report_csv, name="report_csv"),
    web.get("/report.png", reports.report_png, name="report_png"),
]
