"""The lookup box (the console's home page): the agent asks the assistant what residents ask it,
through Rasa, as a sender of its own."""
from __future__ import annotations

from aiohttp import web

from hotline import privacy
from hotline.calllog import CONSOLE_SENDER_PREFIX

from web.keys import HTTP, METRICS, RASA_PLACEMENT, SETTINGS
from web.rasa import AssistantUnavailable, ask
from web.console.pages import _agent, render

MAX_QUESTION = 500  # characters: a lookup is a question, not a document


def console_sender(key: bytes, agent: str) -> str:
    """The lookup box's Rasa sender: stable per agent (follow-ups keep their context), no clear name,
    and the prefix the call log drops (hotline/calllog.py)."""
    return privacy.pseudonym(key, f"console:{agent}", prefix=CONSOLE_SENDER_PREFIX)


async def home(request: web.Request) -> web.Response:
    return render(request, "lookup.html", {"question": "", "replies": None, "error": None}, section="lookup")


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
    request.config_dict[METRICS].receive("console")
    sender = console_sender(settings.secret_key, _agent(request))
    try:
        # One Rasa server or several (HOTLINE_RASA_URLS): web/rasa.py keeps each sender on one.
        replies = await ask(request.config_dict[HTTP], settings.rasa_instances, sender, message,
                            placement=request.config_dict.get(RASA_PLACEMENT))
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
