"""The tickets: the list (filters), a ticket's page (the clear phone, so audited), status changes,
registering a 12345 work order, and the audit log."""
from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.orm import Session

from hotline import agents, clock, tickets
from hotline.privacy import mask_phone, mask_text
from knowledge import queries

from web.console.pages import _agent, _db, error_page, render

MAX_TICKETS = 300  # rows of the ticket list (newest first)


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
    return clock.day_start(day)


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
        # The list masks every number (the page says so); the ticket's own page, audited, shows it.
        return [{"number": t.number, "kind": t.kind, "status": t.status, "hospital": mask_text(t.hospital),
                 "occurred": mask_text(t.occurred), "phone": mask_phone(t.phone) if t.phone else "未留",
                 "created_at": t.created_at, "description": mask_text(t.description)[:60]}
                for t in rows[:MAX_TICKETS + 1]]

    rows = await _db(request, work)
    return render(request, "tickets.html", {"f": filters, "rows": rows[:MAX_TICKETS], "error": None,
                                            "more": len(rows) > MAX_TICKETS, "kinds": tickets.KINDS},
                  section="tickets")


async def _work_order_form(request: web.Request, values: dict[str, str], error: str | None,
                           status: int) -> web.Response:
    # The hospitals' names as suggestions: a registered work order names the hospital as 12345 wrote it,
    # but the canonical name where the agent can.
    names = await _db(request, lambda s: [h.name for h in queries.search_hospitals(s, "", limit=1000)])
    return render(request, "work_order.html", {"v": values, "error": error, "kinds": tickets.FORWARDED_KINDS,
                                               "hospital_names": names}, status=status, section="new")


async def work_order_page(request: web.Request) -> web.Response:
    return await _work_order_form(request, {"kind": tickets.FORWARDED_KINDS[0]}, None, 200)


async def work_order(request: web.Request) -> web.Response:
    form = await request.post()
    values = {k: str(form.get(k, "")) for k in ("kind", "hospital", "description", "occurred", "phone")}
    agent = _agent(request)

    def work(s: Session) -> str:
        t = tickets.register_work_order(s, kind=values["kind"], hospital=values["hospital"],
                                        description=values["description"], occurred=values["occurred"],
                                        phone=values["phone"] or None, actor=agent)
        agents.audit(s, agent, t.number, "registered", t.kind)
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


async def ticket_page(request: web.Request) -> web.Response:
    return await _ticket(request, request.match_info["number"])


async def _ticket(request: web.Request, number: str, *, error: str | None = None, status: int = 200) -> web.Response:
    agent = _agent(request)

    def work(s: Session) -> dict:
        t = tickets.get_ticket(s, number)
        agents.audit(s, agent, t.number, "viewed")  # the clear phone is about to be shown
        return {"number": t.number, "kind": t.kind, "status": t.status, "hospital": t.hospital,
                "description": t.description, "occurred": t.occurred, "phone": t.phone,
                "created_at": t.created_at, "updated_at": t.updated_at,
                "changes": [{"at": c.at, "actor": c.actor, "from": c.from_status, "to": c.to_status,
                             "note": c.note} for c in t.changes],
                "next": sorted(tickets.TRANSITIONS[t.status], key=tickets.STATUSES.index),
                "audit": [{"at": a.at, "agent": a.agent, "action": a.action, "detail": a.detail}
                          for a in agents.audit_log(s, ticket_number=t.number, limit=50)]}

    try:
        data = await _db(request, work)
    except tickets.TicketNotFound:
        return error_page(request, 404, "没有这个工单", f"没有编号为 {number[:30]} 的工单。", "tickets")
    done = {"status": "状态已更新。", "registered": "工单已登记。"}.get(request.query.get("done", ""))
    return render(request, "ticket.html", {"t": data, "error": error, "done": done}, status=status,
                  section="tickets")


async def ticket_status(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    form = await request.post()
    to_status, note = str(form.get("status", "")), str(form.get("note", ""))
    agent = _agent(request)

    def work(s: Session) -> str:
        t = tickets.change_status(s, number, to_status, actor=agent, note=note or None)
        agents.audit(s, agent, t.number, "status", f"{t.changes[-1].from_status} → {t.status}")
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


async def audit(request: web.Request) -> web.Response:
    number = request.query.get("number", "").strip()[:30]
    agent = request.query.get("agent", "").strip()[:50]

    def work(s: Session) -> list[dict]:
        return [{"at": a.at, "agent": a.agent, "ticket": a.ticket_number, "action": a.action, "detail": a.detail}
                for a in agents.audit_log(s, ticket_number=number or None, agent=agent or None)]

    rows = await _db(request, work)
    return render(request, "audit.html", {"rows": rows, "number": number, "who": agent}, section="audit")
