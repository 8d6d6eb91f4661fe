"""人工接入: the queue of conversations handed to a person (hotline/handoff.py). The list (crisis
first, then the longest waiting), an entry's page (the masked transcript, intent, category, ticket),
take (one conditional UPDATE: of two agents, one wins), answer, close. Every take, answer and close
is written to the audit (操作记录) under the entry's name (HO-<id>).

An answer on WeChat goes through the customer-service message API (the gateway's ``deliver``: its
retry rules, WeChat's 48-hour window); on REST there is nothing to push to: it is stored in the
entry's transcript, and the page says so. A page the agent reloads, no script: the queue shows what
was there when it was loaded, and a crisis waiting or held shows a banner on every console page
(``crisis_alert``).
"""
from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web
from sqlalchemy.orm import Session

from hotline import agents, clock, handoff

from web.console import auth
from web.console.pages import CRISIS_ALERT, _agent, _db, error_page, render
from web.wechat.routes import WECHAT

MAX_ANSWER = handoff.MAX_MESSAGE


def entry_name(entry_id: int) -> str:
    """How the audit names a queue entry."""
    return f"HO-{entry_id}"


@web.middleware
async def crisis_alert(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    """Every page of a logged-in agent knows how many crisis conversations wait or are held."""
    if auth.LOGGED_IN in request:
        request[CRISIS_ALERT] = await _db(request, handoff.open_crises)
    return await handler(request)


def _row(entry, now) -> dict:
    waited = ((entry.taken_at or entry.closed_at or now) - entry.created_at).total_seconds()
    return {"id": entry.id, "name": entry_name(entry.id), "channel": entry.channel, "state": entry.state,
            "crisis": entry.crisis, "created_at": entry.created_at, "taken_at": entry.taken_at,
            "first_answer_at": entry.first_answer_at, "closed_at": entry.closed_at, "agent": entry.agent,
            "closed_by": entry.closed_by, "ticket": entry.ticket, "waited": _duration(waited)}


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{seconds // 60} 分 {seconds % 60} 秒"
    return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分"


async def queue_page(request: web.Request) -> web.Response:
    def work(s: Session) -> list[dict]:
        now = clock.utc()
        return [_row(e, now) for e in handoff.queue(s, now)]

    rows = await _db(request, work)
    return render(request, "queue.html", {"open": [r for r in rows if r["state"] in handoff.OPEN],
                                          "done": [r for r in rows if r["state"] not in handoff.OPEN]},
                  section="queue")


async def entry_page(request: web.Request) -> web.Response:
    return await _entry(request, int(request.match_info["id"]))


async def _entry(request: web.Request, entry_id: int, *, error: str | None = None, status: int = 200) -> web.Response:
    def work(s: Session) -> dict:
        now = clock.utc()
        entry = handoff.get(s, entry_id)
        lines = handoff.transcript(s, entry, now)
        return {**_row(entry, now), "lines": lines,
                "ticket": entry.ticket or next((line.ticket for line in reversed(lines) if line.ticket), None),
                "why_not": handoff.can_answer(entry, _agent(request), now),
                "audit": [{"at": a.at, "agent": a.agent, "action": a.action, "detail": a.detail}
                          for a in agents.audit_log(s, ticket_number=entry_name(entry.id), limit=50)]}

    try:
        data = await _db(request, work)
    except handoff.HandoffError:
        return _missing(request, entry_id)
    done = DONE.get(request.query.get("done", ""))
    return render(request, "handoff.html", {"e": data, "error": error, "done": done, "me": _agent(request)},
                  status=status, section="queue")


DONE = {"taken": "已接入，请在下方答复来访者。", "sent": "答复已发送。", "stored": "答复已记录（REST 渠道无法推送给来访者）。",
        "closed": "会话已结束，来访者的下一条消息由智能助手答复。"}


def _missing(request: web.Request, entry_id: int) -> web.Response:
    return error_page(request, 404, "没有这个会话", f"人工接入队列中没有 {entry_name(entry_id)}。", "queue")


async def take(request: web.Request) -> web.Response:
    entry_id, agent = int(request.match_info["id"]), _agent(request)

    def work(s: Session) -> bool:
        handoff.get(s, entry_id)
        won = handoff.take(s, entry_id, agent)
        if won:
            agents.audit(s, agent, entry_name(entry_id), "taken")
        return won

    try:
        won = await _db(request, work)
    except handoff.HandoffError:
        return _missing(request, entry_id)
    if not won:
        return await _entry(request, entry_id, error="这个会话已被其他坐席接入，或已结束、已超时。", status=409)
    raise web.HTTPSeeOther(f"/console/queue/{entry_id}?done=taken")


async def answer(request: web.Request) -> web.Response:
    entry_id, agent = int(request.match_info["id"]), _agent(request)
    form = await request.post()
    text = str(form.get("text", "")).strip()
    if not text:
        return await _entry(request, entry_id, error="请输入答复内容。", status=400)
    if len(text) > MAX_ANSWER:
        return await _entry(request, entry_id, error=f"答复太长（最多 {MAX_ANSWER} 个字）。", status=400)
    try:
        entry = await _db(request, lambda s: handoff.get(s, entry_id))
    except handoff.HandoffError:
        return _missing(request, entry_id)
    why_not = handoff.can_answer(entry, agent)
    if why_not is not None:
        return await _entry(request, entry_id, error=WHY_NOT[why_not], status=409)
    if entry.channel == handoff.WECHAT:
        channel = request.config_dict.get(WECHAT)
        delivery = handoff.FAILED if channel is None else await channel.gateway.deliver(entry.id, entry.reach, text)
    else:
        delivery = handoff.STORED  # REST: no way to push; kept in the transcript

    def record(s: Session) -> None:
        handoff.answered(s, entry_id, agent, text, delivery)
        agents.audit(s, agent, entry_name(entry_id), "answered", DELIVERY[delivery])

    await _db(request, record)
    if delivery == handoff.FAILED:
        return await _entry(request, entry_id, error="答复没有送达（微信客服消息接口失败或未配置），请稍后重试，"
                                                     "或请来访者拨打12320。", status=502)
    raise web.HTTPSeeOther(f"/console/queue/{entry_id}?done={delivery}")


WHY_NOT = {"not taken": "请先接入这个会话。", "over": "这个会话已结束或已超时。",
           "another agent's": "这个会话由其他坐席接入。",
           "48 hours": "来访者最后一条消息已超过48小时，微信不允许再发送客服消息。"}
DELIVERY = {handoff.SENT: "已发送", handoff.FAILED: "未送达", handoff.STORED: "已记录（REST）"}


async def close(request: web.Request) -> web.Response:
    entry_id, agent = int(request.match_info["id"]), _agent(request)

    def work(s: Session) -> bool:
        done = handoff.close(s, entry_id, f"agent:{agent}")
        if done:
            agents.audit(s, agent, entry_name(entry_id), "closed")
        return done

    try:
        done = await _db(request, work)
    except handoff.HandoffError:
        return _missing(request, entry_id)
    if not done:
        return await _entry(request, entry_id, error="这个会话已经结束。", status=409)
    raise web.HTTPSeeOther(f"/console/queue/{entry_id}?done=closed")
