"""The agent console (``/console``): server-rendered pages (Jinja2, no script) for the hotline's agents.

- ``auth.py``: login (scrypt passwords, throttled failures), session cookies, CSRF, security headers;
- ``routes.py``: the one route table, every URL and its handler, by page group: ``login.py``,
  ``lookup.py`` (the lookup box: the assistant, as residents get it), ``queue.py`` (人工接入: the
  conversations handed to a person), ``hospitals.py`` (hospitals and
  their figures), ``tickets.py`` (list, page, status, 12345 work orders, audit), ``reports.py`` (the
  call-category report); ``pages.py``: what they share (rendering, the store, template filters);
- ``templates/``: the pages (autoescaped), ``static/``: the one stylesheet.

``add_console(app)`` mounts it as a sub-application; it uses the parent app's engine, HTTP client and
settings (``request.config_dict``).
"""
from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from web.console.auth import require_login, security_headers
from web.console.queue import crisis_alert
from web.console.routes import FILTERS, routes

HERE = Path(__file__).resolve().parent
PREFIX = "/console"


def create_console() -> web.Application:
    console = web.Application(middlewares=[security_headers, require_login, crisis_alert])
    env = aiohttp_jinja2.setup(console, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters.update(FILTERS)
    console.add_routes(routes)
    console.router.add_static("/static", HERE / "static", name="static")
    return console


def add_console(app: web.Application) -> None:
    app.add_subapp(PREFIX, create_console())
