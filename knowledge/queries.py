"""Read access to the store. Every function takes the session first; a miss raises NotFound."""
from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from knowledge.models import Alias, Bulletin, Fact, Finding, Hospital, Statement, Subject


class NotFound(LookupError):
    """Nothing in the store answers the question."""


def bulletins(session: Session) -> list[Bulletin]:
    return list(session.scalars(select(Bulletin).order_by(Bulletin.period, Bulletin.source)))


def facts(session: Session, *, subject: str | None = None, measure: str | None = None,
          period: str | None = None) -> Iterator[Fact]:
    query = (
        select(Fact)
        .join(Fact.subject)
        .join(Fact.bulletin)
        .options(joinedload(Fact.subject), joinedload(Fact.bulletin))
        .order_by(Bulletin.period, Bulletin.source, Fact.line, Fact.id)
    )
    if subject:
        ids = [s.id for s in resolve(session, subject)]
        query = query.where(Fact.subject_id.in_(ids))
    if measure:
        query = query.where(Fact.measure == measure)
    if period:
        query = query.where(Fact.period == period)
    return iter(session.scalars(query).unique().all())


def hospitals(session: Session) -> list[Hospital]:
    return list(session.scalars(
        select(Hospital).options(selectinload(Hospital.aliases), joinedload(Hospital.district))
        .order_by(Hospital.name)
    ).unique())


def resolve(session: Session, name: str, kind: str | None = None) -> list[Subject]:
    """Every subject the name may mean: one when it is clear, several when it is ambiguous."""
    name = name.strip()
    query = select(Subject).where(Subject.name == name)
    if kind:
        query = query.where(Subject.kind == kind)
    exact = list(session.scalars(query))
    if exact:
        return exact
    query = select(Subject).join(Alias).where(Alias.text == name)
    if kind:
        query = query.where(Subject.kind == kind)
    found = list(session.scalars(query.order_by(Subject.name)).unique())
    if not found:
        raise NotFound(f"no subject is called {name!r}")
    return found


def ambiguous_aliases(session: Session) -> dict[tuple[str, str], list[str]]:
    """(kind, alias) → the canonical names it may mean, for aliases naming more than one subject."""
    rows = session.execute(select(Subject.kind, Alias.text, Subject.name).join(Alias.subject))
    names: dict[tuple[str, str], set[str]] = defaultdict(set)
    for kind, text, name in rows:
        names[(kind, text)].add(name)
    return {key: sorted(v) for key, v in names.items() if len(v) > 1}


def findings(session: Session) -> list[Finding]:
    return list(session.scalars(
        select(Finding).join(Finding.bulletin).options(joinedload(Finding.bulletin))
        .order_by(Bulletin.source, Finding.line, Finding.id)
    ))


def gazetteer(session: Session, reference=None) -> dict:
    """Every subject with all its names, and every measure: what the NLU needs to recognise them.

    Kinds the NLU extracts as entities only; cities and organisations are left to the actions.
    """
    subjects = []
    query = (select(Subject).options(selectinload(Subject.aliases))
             .where(Subject.kind.in_(("hospital", "district", "channel", "platform", "hotline")))
             .order_by(Subject.kind, Subject.name))
    for subject in session.scalars(query):
        names = sorted({subject.name, *(a.text for a in subject.aliases)})
        subjects.append({"kind": subject.kind, "name": subject.name, "names": names})
    measures = sorted(set(session.scalars(select(Fact.measure).distinct())))
    periods = sorted(set(session.scalars(select(Fact.period).distinct())))
    aliases = {e.name: list(e.aliases) for e in (reference.measure_aliases if reference else ())}
    ordinary = sorted(reference.ordinary_words) if reference else []
    unheld = sorted(reference.unheld_measures) if reference else []
    return {"subjects": subjects, "measures": measures, "periods": periods, "measure_aliases": aliases,
            "ordinary_words": ordinary, "unheld_measures": unheld}


def statement(session: Session, topic: str) -> Statement:
    found = session.scalar(select(Statement).where(Statement.topic == topic))
    if found is None:
        raise NotFound(f"no statement on {topic!r}: has the store been built (hotline ingest)?")
    return found


class HospitalNotFound(NotFound):
    """No hospital has that id."""


# --- hospitals (the console's hospital pages) -------------------------------------------------------

def search_hospitals(session: Session, text: str, *, limit: int = 200) -> list[Hospital]:
    """Hospitals whose name or any alias contains the text (all of them for an empty text)."""
    query = (select(Hospital).options(selectinload(Hospital.aliases), joinedload(Hospital.district))
             .order_by(Hospital.name).limit(limit))
    text = text.strip()
    if text:
        aliased = select(Alias.subject_id).where(Alias.text.contains(text, autoescape=True))
        query = query.where(or_(Subject.name.contains(text, autoescape=True), Subject.id.in_(aliased)))
    return list(session.scalars(query).unique())


def hospital(session: Session, hospital_id: int) -> Hospital:
    found = session.scalar(select(Hospital).where(Hospital.id == hospital_id)
                           .options(selectinload(Hospital.aliases), joinedload(Hospital.district)))
    if found is None:
        raise HospitalNotFound(f"no hospital has id {hospital_id}")
    return found


def hospital_figures(session: Session, hospital_id: int) -> dict[str, list[Fact]]:
    """Every figure of the hospital, by period (latest first), each as printed with its bulletin."""
    facts = session.scalars(select(Fact).where(Fact.subject_id == hospital_id)
                            .options(joinedload(Fact.bulletin)).order_by(Fact.period.desc(), Fact.line, Fact.id))
    by_period: dict[str, list[Fact]] = {}
    for fact in facts:
        by_period.setdefault(fact.period, []).append(fact)
    return by_period
