"""What every console page shares: rendering (with the logged-in agent and the CSRF token), the
template filters, the store in a worker thread, the error page.

Store work runs in a worker thread (``database.work.in_thread``), one SQLAlchemy session and
transaction per handler. Phone numbers are masked everywhere but on a ticket's own page, and every view or
change of a ticket is written to the audit (hotline/agents.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, TypeVar

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.orm import Session

from database.work import in_thread
from hotline import clock, reports
from hotline.privacy import mask_phone

from web.keys import ENGINE
from web.console import auth

T = TypeVar("T")

STATUS_LABELS = reports.STATUS_LABELS  # 待处理, 处理中, 已办结
SCOPE_LABELS = {"period": "本期", "cumulative": "期末累计"}
ACTION_LABELS = {"viewed": "查看", "status": "变更状态", "registered": "登记",
                 "taken": "接入会话", "answered": "答复来访者", "closed": "结束会话"}
# How many crisis conversations wait or are held (web/console/queue.py crisis_alert): a banner on every page.
CRISIS_ALERT = web.RequestKey("console_crisis_alert", int)


def _local(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return clock.minutes(moment)


FILTERS: dict[str, Callable[..., Any]] = {
    "local": _local,
    "status_label": lambda s: STATUS_LABELS.get(s or "", s or "—"),
    "masked": lambda phone: mask_phone(phone) if phone else "未留",
    "scope_label": lambda s: SCOPE_LABELS.get(s, s),
    "action_label": lambda a: ACTION_LABELS.get(a, a),
}


async def _db(request: web.Request, work: Callable[[Session], T]) -> T:
    """`work` in one session and transaction, in a worker thread."""
    return await in_thread(request.config_dict[ENGINE], work)


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200,
           section: str = "") -> web.Response:
    logged = request.get(auth.LOGGED_IN)
    base = {"agent": logged.agent if logged else None, "csrf": logged.csrf if logged else "",
            "section": section, "status_labels": STATUS_LABELS, "crisis_alert": request.get(CRISIS_ALERT, 0)}
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def error_page(request: web.Request, status: int, title: str, message: str, section: str = "") -> web.Response:
    return render(request, "error.html", {"title": title, "message": message}, status=status, section=section)


def _agent(request: web.Request) -> str:
    return request[auth.LOGGED_IN].agent
