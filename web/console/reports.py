"""The call-category report of a period (year or month): the page, its chart (PNG) and its CSV."""
from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from hotline import clock, reports, taxonomy, tickets

from web.console.pages import _db, render


def _period(request: web.Request) -> reports.Period:
    text = request.query.get("period", "").strip()
    if not text:
        today = clock.today()
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
        "handoff_rows": reports.handoff_rows(built.handoff) if built.handoff else [], "wait": reports.minutes,
        "suggest": await _suggest(request)}, section="report")


async def _suggest(request: web.Request) -> list[str]:
    """The periods worth offering: this month and year, and the bulletins' periods (2023, 2019-10)."""
    from knowledge.queries import bulletins

    today = clock.today()
    held = await _db(request, lambda s: [b.period for b in bulletins(s)])
    return list(dict.fromkeys([f"{today.year}-{today.month:02d}", str(today.year), *sorted(held, reverse=True)]))


async def report_csv(request: web.Request) -> web.Response:
    period, built = await _requested_report(request)
    name = f"hotline-report-{period.label.replace('..', '_')}.csv"
    # With a BOM: Excel (what the centre's managers open it with) reads UTF-8 only with one.
    return web.Response(body=("\ufeff" + reports.to_csv(built)).encode("utf-8"),
                        content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


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
