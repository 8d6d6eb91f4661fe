"""The login form, logging in and out, and ``/console`` → ``/console/``: the only pages reachable
without a session (auth.PUBLIC_ROUTES)."""
from __future__ import annotations

from aiohttp import web

from web.keys import ENGINE
from web.console import auth
from web.console.pages import _local, render


async def root(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/console/")


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, next_=auth.safe_next(request.query.get("next")))


def _login_form(request: web.Request, *, next_: str, name: str = "", error: str | None = None,
                status: int = 200) -> web.Response:
    token = auth.login_token(request)
    response = render(request, "login.html", {"next": next_, "name": name, "error": error, "login_csrf": token},
                      status=status)
    auth.set_login_cookie(response, request, token)
    return response


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    next_ = auth.safe_next(str(form.get("next", "")))
    if not name or not password:
        return _login_form(request, next_=next_, name=name, error="请输入用户名和密码。", status=400)
    result = await auth.log_in(request.config_dict[ENGINE], name, password, auth.client_address(request))
    if result.locked_until is not None:
        return _login_form(request, next_=next_, name=name, status=429,
                           error=f"登录失败次数过多，已暂停登录，请于 {_local(result.locked_until)} 后再试。")
    if result.token is None:
        return _login_form(request, next_=next_, name=name, error="用户名或密码错误。", status=401)
    response = web.HTTPSeeOther(next_)
    auth.set_session_cookie(response, request, result.token)
    raise response


async def logout(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther("/console/login")
    await auth.log_out(request, response)
    raise response
