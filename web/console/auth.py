"""The console's gate: session cookies, CSRF tokens, throttled logins, security headers.

- Session: a random token in the cookie ``hotline_console`` (HttpOnly, SameSite=Strict, Path=/console,
  Secure when ``settings.cookie_secure``); the store keeps its SHA-256, the agent, an expiry and the
  session's CSRF token (hotline/agents.py). Logging out deletes the row.
- CSRF: every POST carries the session's token in the field ``csrf`` (403 otherwise). The login form,
  before there is a session, uses a double-submit token: the same random value in a short-lived
  cookie and in the form.
- Throttling: failed logins are recorded in the store by name and by client address (the peer's, or
  X-Forwarded-For's from a trusted proxy: ``client_address``); each failure answers after a delay that
  grows with the name's recent failures. Past 5 failures a name pauses for 30 s, doubling up to 15
  minutes; past 20 an address pauses the names that failed lately, 2 s doubling up to a minute
  (hotline/agents.py): nobody locks every agent out.
- Every console route but the login page and the CSS needs a live session: pages redirect to the
  login page, the chart, the CSV and JSON answer 401.
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from database.work import in_thread
from hotline import agents

from web.keys import ENGINE, SETTINGS

COOKIE = "hotline_console"
LOGIN_COOKIE = "hotline_console_login"  # the login form's double-submit CSRF token
COOKIE_PATH = "/console"
PUBLIC_ROUTES = {"login", "login_post", "static"}  # route names reachable without a session
LOGGED_IN = web.RequestKey("console_logged_in", agents.LoggedIn)
# A failed login answers after DELAY_STEP seconds per recent failure of that name, at most MAX_DELAY.
DELAY_STEP = 0.25
MAX_DELAY = 3.0

# No script at all, styles and images from here only, no framing, no referrer (ticket numbers are in
# URLs).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",  # pages hold phone numbers and tickets: no copies in caches
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    if request.match_info.route.name == "static":
        response.headers.update({k: v for k, v in SECURITY_HEADERS.items() if k != "Cache-Control"})
    else:
        response.headers.update(SECURITY_HEADERS)
    return response


@web.middleware
async def require_login(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Finds the request's session; without one, only the public routes answer. Checks the CSRF
    token of every POST."""
    route = request.match_info.route.name
    if route in PUBLIC_ROUTES:
        if request.method == "POST":
            form = await request.post()
            if not _same(str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE, "")):
                raise forbidden("登录表单已过期，请刷新登录页后重试。")
        return await handler(request)
    logged = await _session_of(request)
    if logged is None:
        if _wants_data(request):
            raise web.HTTPUnauthorized(text='{"error": "login required: /console/login"}',
                                       content_type="application/json")
        target = request.path_qs if request.method == "GET" else "/console/"
        raise web.HTTPSeeOther(f"{COOKIE_PATH}/login?next={quote(target, safe='')}")
    if request.method == "POST":
        form = await request.post()
        if not _same(str(form.get("csrf", "")), logged.csrf):
            raise forbidden("表单校验失败（CSRF），请返回刷新页面后重试。")
    request[LOGGED_IN] = logged
    try:
        return await handler(request)
    except web.HTTPNotFound:  # no such console page: said in the console's own page
        return aiohttp_jinja2.render_template("error.html", request, {
            "agent": logged.agent, "csrf": logged.csrf, "section": "", "title": "没有这个页面",
            "message": "工作台中没有这个地址。"}, status=404)


def forbidden(message: str) -> web.HTTPForbidden:
    return web.HTTPForbidden(text=message)  # text/plain; charset=utf-8


def _same(given: str, expected: str) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _wants_data(request: web.Request) -> bool:
    if request.path.endswith((".png", ".csv", ".json")) or request.path.startswith(f"{COOKIE_PATH}/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


async def _session_of(request: web.Request) -> agents.LoggedIn | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return await in_thread(request.config_dict[ENGINE], agents.find_session, token)


def client_address(request: web.Request) -> str | None:
    """The address the login throttling counts: the peer's, or, when the peer is one of the
    configured reverse proxies (HOTLINE_TRUSTED_PROXIES), the nearest address in X-Forwarded-For
    that is not one of them. From anybody else the header is ignored: a client cannot choose the
    address its failures are counted under."""
    peer = request.remote
    trusted = [ipaddress.ip_network(n) for n in request.config_dict[SETTINGS].trusted_proxies]
    if not trusted or not _among(peer, trusted):
        return peer
    hops = [h.strip() for value in request.headers.getall("X-Forwarded-For", ()) for h in value.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _among(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # not an address: the proxy's, rather than whatever was written there
    return peer


def _among(address: str | None, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a console path only (never another site: //evil, \\evil)."""
    if target and target.startswith(f"{COOKIE_PATH}/") and "//" not in target and "\\" not in target:
        return target
    return f"{COOKIE_PATH}/"


# --- login, logout ------------------------------------------------------------------------------------

def login_token(request: web.Request) -> str:
    """The login form's CSRF token: the cookie's while it lives (several tabs), else a new one."""
    token = request.cookies.get(LOGIN_COOKIE, "")
    return token if 20 <= len(token) <= 100 else secrets.token_urlsafe(32)


def set_login_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="Strict",
                        secure=request.config_dict[SETTINGS].cookie_secure, max_age=3600)


@dataclass(frozen=True)
class LoginResult:
    token: str | None = None  # set: logged in
    logged: agents.LoggedIn | None = None
    locked_until: datetime | None = None  # set: refused without checking the password
    failures: int = 0  # recent failures of this name, this one included


async def log_in(engine: Engine, name: str, password: str, address: str | None) -> LoginResult:
    def attempt(s: Session) -> LoginResult:  # one unit of work: check, count, open the session
        state = agents.throttle(s, name, address)
        if state.until is not None:
            return LoginResult(locked_until=state.until)
        agent = agents.authenticate(s, name, password)
        if agent is None:
            agents.record_failure(s, name, address)
            return LoginResult(failures=state.name_failures + 1)
        agents.clear_failures(s, agent.name)
        token, logged = agents.open_session(s, agent)
        return LoginResult(token=token, logged=logged)

    result = await in_thread(engine, attempt)
    if result.failures:
        # Slows guessing down; asyncio.sleep keeps other requests served meanwhile.
        await asyncio.sleep(min(DELAY_STEP * result.failures, MAX_DELAY))
    return result


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    response.set_cookie(COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="Strict",
                        secure=request.config_dict[SETTINGS].cookie_secure,
                        max_age=agents.SESSION_HOURS * 3600)
    response.del_cookie(LOGIN_COOKIE, path=COOKIE_PATH)


async def log_out(request: web.Request, response: web.StreamResponse) -> None:
    await in_thread(request.config_dict[ENGINE], agents.close_session, request[LOGGED_IN].session_id)
    response.del_cookie(COOKIE, path=COOKIE_PATH)
