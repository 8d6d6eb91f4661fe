"""The hospitals: search by name or alias, and one hospital's figures by period with their citations."""
from __future__ import annotations

from aiohttp import web
from sqlalchemy.orm import Session

from knowledge import queries

from web.console.pages import _db, error_page, render


async def hospitals(request: web.Request) -> web.Response:
    text = request.query.get("q", "").strip()[:100]

    def work(s: Session) -> list[dict]:
        from knowledge.queries import ambiguous_aliases

        ambiguous = ambiguous_aliases(s)
        return [{"id": h.id, "name": h.name, "category": h.category,
                 "district": h.district.name if h.district else None,
                 "aliases": [(a.text, ("hospital", a.text) in ambiguous) for a in h.aliases]}
                for h in queries.search_hospitals(s, text)]

    found = await _db(request, work)
    return render(request, "hospitals.html", {"q": text, "hospitals": found}, section="hospitals")


async def hospital(request: web.Request) -> web.Response:
    hospital_id = int(request.match_info["id"])

    def work(s: Session) -> dict:
        h = queries.hospital(s, hospital_id)
        periods = [(period, [{"measure": f.measure, "printed": f"{f.value}{f.unit}", "scope": f.scope,
                              "section": f.section, "flag": f.flag, "citation": f.bulletin.citation,
                              "source": f.bulletin.source, "line": f.line} for f in facts])
                   for period, facts in queries.hospital_figures(s, hospital_id).items()]
        return {"name": h.name, "category": h.category, "district": h.district.name if h.district else None,
                "aliases": [a.text for a in h.aliases], "periods": periods}

    try:
        data = await _db(request, work)
    except queries.HospitalNotFound:
        return error_page(request, 404, "没有这家医院", "知识库中没有这个编号的医院。", "hospitals")
    from knowledge.models import period_label

    return render(request, "hospital.html", {"h": data, "period_label": period_label}, section="hospitals")
