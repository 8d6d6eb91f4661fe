"""Every page of the console. All of them but the login page need a session (auth.require_login),
and every POST carries the session's CSRF token.

Store work runs in a worker thread (``asyncio.to_thread``), one SQLAlchemy session and transaction
per handler. Phone numbers are masked everywhere but on a ticket's own page, and every view or
change of a ticket is written to the audit (knowledge/console.py).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import tempfile
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.orm import Session

from knowledge import console as store
from knowledge import report as reports
from knowledge import taxonomy, tickets
from knowledge.calllog import CONSOLE_SENDER_PREFIX
from knowledge.masking import mask_phone

from ..keys import ENGINE, HTTP, SETTINGS
from ..rasa import AssistantUnavailable, ask
from . import auth

routes = web.RouteTableDef()
T = TypeVar("T")

MAX_QUESTION = 500  # characters: a lookup is a question, not a document
MAX_TICKETS = 300  # rows of the ticket list (newest first)
STATUS_LABELS = reports.STATUS_LABELS  # 待处理, 处理中, 已办结
SCOPE_LABELS = {"period": "本期", "cumulative": "期末累计"}
ACTION_LABELS = {"viewed": "查看", "status": "变更状态", "registered": "登记"}


# --- helpers --------------------------------------------------------------------------------------------

def _local(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.replace(tzinfo=timezone.utc).astimezone(tickets.NANJING).strftime("%Y-%m-%d %H:%M")


FILTERS: dict[str, Callable[..., Any]] = {
    "local": _local,
    "status_label": lambda s: STATUS_LABELS.get(s or "", s or "—"),
    "masked": lambda phone: mask_phone(phone) if phone else "未留",
    "scope_label": lambda s: SCOPE_LABELS.get(s, s),
    "action_label": lambda a: ACTION_LABELS.get(a, a),
}


def console_sender(key: bytes, agent: str) -> str:
    """The lookup box's Rasa sender: stable per agent (follow-ups keep their context), no clear name,
    and the prefix the call log drops (knowledge/calllog.py)."""
    return CONSOLE_SENDER_PREFIX + hmac.new(key, f"console:{agent}".encode(), hashlib.sha256).hexdigest()[:16]


async def _db(request: web.Request, work: Callable[[Session], T]) -> T:
    """`work` in one session and transaction, in a worker thread."""
    engine = request.config_dict[ENGINE]

    def run() -> T:
        with Session(engine) as s, s.begin():
            return work(s)

    return await asyncio.to_thread(run)


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200,
           section: str = "") -> web.Response:
    logged = request.get(auth.LOGGED_IN)
    base = {"agent": logged.agent if logged else None, "csrf": logged.csrf if logged else "",
            "section": section, "status_labels": STATUS_LABELS}
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def error_page(request: web.Request, status: int, title: str, message: str, section: str = "") -> web.Response:
    return render(request, "error.html", {"title": title, "message": message}, status=status, section=section)


def _agent(request: web.Request) -> str:
    return request[auth.LOGGED_IN].agent


def _nanjing_day(text: str, name: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}“{text}”不是日期（例如 2026-11-01）") from None
    if not 1900 <= day.year <= 2999:  # (and Nanjing midnight of year 1 or 9999 is no UTC datetime)
        raise ValueError(f"{name}“{text}”超出范围。")
    return day


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tickets.NANJING).astimezone(timezone.utc).replace(tzinfo=None)


# --- login, logout --------------------------------------------------------------------------------------

@routes.get("", name="root")
async def root(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/console/")


@routes.get("/login", name="login")
async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, next_=auth.safe_next(request.query.get("next")))


def _login_form(request: web.Request, *, next_: str, name: str = "", error: str | None = None,
                status: int = 200) -> web.Response:
    token = auth.login_token(request)
    response = render(request, "login.html", {"next": next_, "name": name, "error": error, "login_csrf": token},
                      status=status)
    auth.set_login_cookie(response, request, token)
    return response


@routes.post("/login", name="login_post")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    next_ = auth.safe_next(str(form.get("next", "")))
    if not name or not password:
        return _login_form(request, next_=next_, name=name, error="请输入用户名和密码。", status=400)
    result = await auth.log_in(request.config_dict[ENGINE], name, password, request.remote)
    if result.locked_until is not None:
        return _login_form(request, next_=next_, name=name, status=429,
                           error=f"登录失败次数过多，已暂停登录，请于 {_local(result.locked_until)} 后再试。")
    if result.token is None:
        return _login_form(request, next_=next_, name=name, error="用户名或密码错误。", status=401)
    response = web.HTTPSeeOther(next_)
    auth.set_session_cookie(response, request, result.token)
    raise response


@routes.post("/logout", name="logout")
async def logout(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther("/console/login")
    await auth.log_out(request, response)
    raise response


# --- the lookup box ---------------------------------------------------------------------------------------

@routes.get("/", name="home")
async def home(request: web.Request) -> web.Response:
    return render(request, "lookup.html", {"question": "", "replies": None, "error": None}, section="lookup")


@routes.post("/lookup", name="lookup")
async def lookup(request: web.Request) -> web.Response:
    form = await request.post()
    payload = str(form.get("payload", "")).strip()
    question = " ".join(str(form.get("question", "")).split())
    message = payload or question
    shown = str(form.get("title", "")).strip() or question
    if not message:
        return render(request, "lookup.html", {"question": "", "replies": None, "error": "请输入问题。"},
                      status=400, section="lookup")
    if len(message) > MAX_QUESTION:
        return render(request, "lookup.html", {"question": question[:MAX_QUESTION], "replies": None,
                                               "error": f"问题太长（最多 {MAX_QUESTION} 个字）。"},
                      status=400, section="lookup")
    settings = request.config_dict[SETTINGS]
    sender = console_sender(settings.secret_key, _agent(request))
    try:
        # One Rasa server or several (HOTLINE_RASA_URLS): web/rasa.py keeps each sender on one.
        replies = await ask(request.config_dict[HTTP], settings.rasa_instances, sender, message)
    except AssistantUnavailable:
        return render(request, "lookup.html", {
            "question": question, "replies": None,
            "error": "智能助手暂时无法连接（Rasa 服务未响应），请稍后再试；医院数据可在“医院”页直接查询。"},
            status=503, section="lookup")
    if any((r.custom or {}).get("temporary_failure") for r in replies):
        # Rasa answered nothing (a custom action failed): the resident's wording sends to 12320,
        # which is where the agent already is.
        return render(request, "lookup.html", {
            "question": question, "replies": None,
            "error": "智能助手这次没有给出回答（动作服务器或知识库暂时出错），请稍后再试；医院数据可在“医院”页直接查询。"},
            status=503, section="lookup")
    return render(request, "lookup.html", {"question": question, "asked": shown, "replies": replies,
                                           "error": None}, section="lookup")


# --- hospitals -------------------------------------------------------------------------------------------

@routes.get("/hospitals", name="hospitals")
async def hospitals(request: web.Request) -> web.Response:
    text = request.query.get("q", "").strip()[:100]

    def work(s: Session) -> list[dict]:
        from knowledge.queries import ambiguous_aliases

        ambiguous = ambiguous_aliases(s)
        return [{"id": h.id, "name": h.name, "category": h.category,
                 "district": h.district.name if h.district else None,
                 "aliases": [(a.text, ("hospital", a.text) in ambiguous) for a in h.aliases]}
                for h in store.search_hospitals(s, text)]

    found = await _db(request, work)
    return render(request, "hospitals.html", {"q": text, "hospitals": found}, section="hospitals")


@routes.get(r"/hospitals/{id:\d{1,9}}", name="hospital")  # (a longer id overflows PostgreSQL's integer)
async def hospital(request: web.Request) -> web.Response:
    hospital_id = int(request.match_info["id"])

    def work(s: Session) -> dict:
        h = store.hospital(s, hospital_id)
        periods = [(period, [{"measure": f.measure, "printed": f"{f.value}{f.unit}", "scope": f.scope,
                              "section": f.section, "flag": f.flag, "citation": f.bulletin.citation,
                              "source": f.bulletin.source, "line": f.line} for f in facts])
                   for period, facts in store.hospital_figures(s, hospital_id).items()]
        return {"name": h.name, "category": h.category, "district": h.district.name if h.district else None,
                "aliases": [a.text for a in h.aliases], "periods": periods}

    try:
        data = await _db(request, work)
    except store.HospitalNotFound:
        return error_page(request, 404, "没有这家医院", "知识库中没有这个编号的医院。", "hospitals")
    from knowledge.models import period_label

    return render(request, "hospital.html", {"h": data, "period_label": period_label}, section="hospitals")


# --- tickets -------------------------------------------------------------------------------------------

@routes.get("/tickets", name="tickets")
async def ticket_list(request: web.Request) -> web.Response:
    q = request.query
    filters = {k: q.get(k, "").strip()[:40] for k in ("status", "kind", "from", "to", "number")}
    try:
        first = _nanjing_day(filters["from"], "起始日期")
        last = _nanjing_day(filters["to"], "截止日期")
        if first and last and last < first:
            raise ValueError("截止日期早于起始日期。")
        status = filters["status"] or None
        kind = filters["kind"] or None
        if status is not None and status not in tickets.STATUSES:
            raise ValueError(f"没有“{status}”这种状态。")
        if kind is not None and kind not in tickets.KINDS:
            raise ValueError(f"没有“{kind}”这种工单类型。")
    except ValueError as exc:
        return render(request, "tickets.html", {"f": filters, "rows": [], "error": str(exc), "more": False,
                                                "kinds": tickets.KINDS}, status=400, section="tickets")
    number = filters["number"].upper()

    def work(s: Session) -> list[dict]:
        found = tickets.list_tickets(s, status=status, kind=kind,
                                     since=_utc_start(first) if first else None,
                                     until=_utc_start(last.fromordinal(last.toordinal() + 1)) if last else None)
        rows = [t for t in reversed(found) if number in t.number]
        return [{"number": t.number, "kind": t.kind, "status": t.status, "hospital": t.hospital,
                 "occurred": t.occurred, "phone": mask_phone(t.phone) if t.phone else "未留",
                 "created_at": t.created_at, "description": t.description[:60]} for t in rows[:MAX_TICKETS + 1]]

    rows = await _db(request, work)
    return render(request, "tickets.html", {"f": filters, "rows": rows[:MAX_TICKETS], "error": None,
                                            "more": len(rows) > MAX_TICKETS, "kinds": tickets.KINDS},
                  section="tickets")


async def _work_order_form(request: web.Request, values: dict[str, str], error: str | None,
                           status: int) -> web.Response:
    # The hospitals' names as suggestions: a registered work order names the hospital as 12345 wrote it,
    # but the canonical name where the agent can.
    names = await _db(request, lambda s: [h.name for h in store.search_hospitals(s, "", limit=1000)])
    return render(request, "work_order.html", {"v": values, "error": error, "kinds": tickets.WORK_ORDER_KINDS,
                                               "hospital_names": names}, status=status, section="new")


@routes.get("/tickets/new", name="work_order")
async def work_order_page(request: web.Request) -> web.Response:
    return await _work_order_form(request, {"kind": tickets.WORK_ORDER_KINDS[0]}, None, 200)


@routes.post("/tickets/new", name="work_order_post")
async def work_order(request: web.Request) -> web.Response:
    form = await request.post()
    values = {k: str(form.get(k, "")) for k in ("kind", "hospital", "description", "occurred", "phone")}
    agent = _agent(request)

    def work(s: Session) -> str:
        t = tickets.register_work_order(s, kind=values["kind"], hospital=values["hospital"],
                                        description=values["description"], occurred=values["occurred"],
                                        phone=values["phone"] or None, actor=agent)
        store.audit(s, agent, t.number, "registered", t.kind)
        return t.number

    try:
        number = await _db(request, work)
    except tickets.TicketError as exc:
        return await _work_order_form(request, values, _ticket_error(exc), 400)
    raise web.HTTPSeeOther(f"/console/tickets/{number}?{urlencode({'done': 'registered'})}")


def _ticket_error(exc: Exception) -> str:
    """The store's English message, said in the console's language."""
    text = str(exc)
    if "needs its" in text:
        field = text.rsplit(" ", 1)[-1]
        return {"hospital": "请填写医院。", "description": "请填写工单内容。", "occurred": "请填写发生时间。",
                "actor": "缺少经办人。"}.get(field, text)
    if "phone" in text:
        return "联系电话不是有效的手机或固定电话号码。"
    if "registered work order is" in text:
        return "工单类型只能是市12345工单或省12345工单。"
    if "cannot become" in text:
        return "该工单当前状态不能改为所选状态。"
    if "unknown status" in text:
        return "没有这种状态。"
    return text


@routes.get("/tickets/{number}", name="ticket")
async def ticket_page(request: web.Request) -> web.Response:
    return await _ticket(request, request.match_info["number"])


async def _ticket(request: web.Request, number: str, *, error: str | None = None, status: int = 200) -> web.Response:
    agent = _agent(request)

    def work(s: Session) -> dict:
        t = tickets.get_ticket(s, number)
        store.audit(s, agent, t.number, "viewed")  # the clear phone is about to be shown
        return {"number": t.number, "kind": t.kind, "status": t.status, "hospital": t.hospital,
                "description": t.description, "occurred": t.occurred, "phone": t.phone,
                "created_at": t.created_at, "updated_at": t.updated_at,
                "changes": [{"at": c.at, "actor": c.actor, "from": c.from_status, "to": c.to_status,
                             "note": c.note} for c in t.changes],
                "next": sorted(tickets.TRANSITIONS[t.status], key=tickets.STATUSES.index),
                "audit": [{"at": a.at, "agent": a.agent, "action": a.action, "detail": a.detail}
                          for a in store.audit_log(s, ticket_number=t.number, limit=50)]}

    try:
        data = await _db(request, work)
    except tickets.TicketNotFound:
        return error_page(request, 404, "没有这个工单", f"没有编号为 {number[:30]} 的工单。", "tickets")
    done = {"status": "状态已更新。", "registered": "工单已登记。"}.get(request.query.get("done", ""))
    return render(request, "ticket.html", {"t": data, "error": error, "done": done}, status=status,
                  section="tickets")


@routes.post("/tickets/{number}/status", name="ticket_status")
async def ticket_status(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    form = await request.post()
    to_status, note = str(form.get("status", "")), str(form.get("note", ""))
    agent = _agent(request)

    def work(s: Session) -> str:
        t = tickets.change_status(s, number, to_status, actor=agent, note=note or None)
        store.audit(s, agent, t.number, "status", f"{t.changes[-1].from_status} → {t.status}")
        return t.number

    try:
        changed = await _db(request, work)
    except tickets.TicketNotFound:
        return error_page(request, 404, "没有这个工单", f"没有编号为 {number[:30]} 的工单。", "tickets")
    except tickets.InvalidTransition as exc:
        return await _ticket(request, number, error=_ticket_error(exc), status=409)
    except tickets.TicketError as exc:
        return await _ticket(request, number, error=_ticket_error(exc), status=400)
    raise web.HTTPSeeOther(f"/console/tickets/{changed}?done=status")


@routes.get("/audit", name="audit")
async def audit(request: web.Request) -> web.Response:
    number = request.query.get("number", "").strip()[:30]
    agent = request.query.get("agent", "").strip()[:50]

    def work(s: Session) -> list[dict]:
        return [{"at": a.at, "agent": a.agent, "ticket": a.ticket_number, "action": a.action, "detail": a.detail}
                for a in store.audit_log(s, ticket_number=number or None, agent=agent or None)]

    rows = await _db(request, work)
    return render(request, "audit.html", {"rows": rows, "number": number, "who": agent}, section="audit")


# --- reports -------------------------------------------------------------------------------------------

def _period(request: web.Request) -> reports.Period:
    text = request.query.get("period", "").strip()
    if not text:
        today = datetime.now(tickets.NANJING).date()
        text = f"{today.year}-{today.month:02d}"
    try:
        return reports.parse_period(text[:20])
    except reports.PeriodError:
        raise
    except ValueError as exc:  # a well-formed year no calendar has (0000, 9999 + 1)
        raise reports.PeriodError(f"{text[:20]!r}: {exc}") from None


def _period_error(exc: reports.PeriodError) -> str:
    return f"期间应为年份（2023）或月份（2023-10）：{str(exc).split(':', 1)[0]}"


async def _build(request: web.Request, period: reports.Period) -> reports.Report:
    return await _db(request, lambda s: reports.build_report(s, period))


async def _requested_report(request: web.Request) -> tuple[reports.Period, reports.Report]:
    """The report of the query's period, for the downloads; a plain-text 400 on a bad period."""
    try:
        period = _period(request)
    except reports.PeriodError as exc:
        raise web.HTTPBadRequest(text=_period_error(exc)) from None
    return period, await _build(request, period)


@routes.get("/report", name="report")
async def report(request: web.Request) -> web.Response:
    try:
        period = _period(request)
    except reports.PeriodError as exc:
        return render(request, "report.html", {"period": request.query.get("period", "")[:20], "r": None,
                                               "error": _period_error(exc), "suggest": await _suggest(request)},
                      status=400, section="report")
    built = await _build(request, period)
    cats = [*taxonomy.CATEGORIES, taxonomy.UNCATEGORISED]
    return render(request, "report.html", {
        "period": period.label, "r": built, "error": None, "cats": cats, "kinds": taxonomy.WORK_ORDER_KINDS,
        "statuses": tickets.STATUSES, "query": urlencode({"period": period.label}),
        "suggest": await _suggest(request)}, section="report")


async def _suggest(request: web.Request) -> list[str]:
    """The periods worth offering: this month and year, and the bulletins' periods (2023, 2019-10)."""
    from knowledge.queries import bulletins

    today = datetime.now(tickets.NANJING).date()
    held = await _db(request, lambda s: [b.period for b in bulletins(s)])
    return list(dict.fromkeys([f"{today.year}-{today.month:02d}", str(today.year), *sorted(held, reverse=True)]))


@routes.get("/report.csv", name="report_csv")
async def report_csv(request: web.Request) -> web.Response:
    period, built = await _requested_report(request)
    name = f"hotline-report-{period.label.replace('..', '_')}.csv"
    # With a BOM: Excel (what the centre's managers open it with) reads UTF-8 only with one.
    return web.Response(body=("\ufeff" + reports.to_csv(built)).encode("utf-8"),
                        content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@routes.get("/report.png", name="report_png")
async def report_png(request: web.Request) -> web.Response:
    _, built = await _requested_report(request)

    def draw() -> bytes:
        with tempfile.TemporaryDirectory(prefix="console-chart-") as tmp:
            return reports.to_png(built, Path(tmp) / "report.png").path.read_bytes()

    try:
        png = await asyncio.to_thread(draw)
    except reports.FontMissing as exc:
        return web.Response(status=503, text=f"无法绘制图表：{exc}", charset="utf-8")
    return web.Response(body=png, content_type="image/png")
