"""Statistics lookups for agents: one figure, a comparison, a ranking, each a printed fact.

Every function takes the session first and raises a `NotFound` subclass that says what *is*
known (the subject's measures, the periods that have the figure), so that an answer can offer
that instead of a number the bulletins do not hold.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from knowledge.models import Bulletin, Fact, Subject
from knowledge.names import load_reference
from knowledge.queries import NotFound, resolve

# What a subject's figure means when the question names none: the headline measure of its table.
DEFAULT_MEASURE = {
    "hospital": "小计",  # its booking total
    "channel": "预约数量",
    "hotline": "受理咨询电话",
    "city": "接听电话",
}
# Kinds a ranking runs over, and the total rows that are not members of it.
RANKED_KINDS = ("hospital", "district", "channel", "city")


class UnknownSubject(NotFound):
    def __init__(self, name: str):
        super().__init__(f"no subject is called {name!r}")
        self.name = name


class UnknownMeasure(NotFound):
    """The subject has figures, but not this one."""

    def __init__(self, subject: Subject, measure: str, known: list[str]):
        super().__init__(f"{subject.name} has no figure {measure!r}")
        self.subject, self.measure, self.known = subject, measure, known


class UnknownPeriod(NotFound):
    """The figure exists, but not for the period asked: `known` lists the periods that have it."""

    def __init__(self, subject: Subject | None, measure: str, period: str, known: list[str]):
        super().__init__(f"{measure!r} has no figure for {period!r}")
        self.subject, self.measure, self.period, self.known = subject, measure, period, known


@dataclass
class Lookup:
    """The figures answering one question; `asked_period` is None when the latest was used."""

    facts: list[Fact]
    asked_period: str | None = None


def subject(session: Session, name: str, kind: str | None = None) -> list[Subject]:
    try:
        return resolve(session, name, kind)
    except NotFound:
        raise UnknownSubject(name) from None


def measures(session: Session, subj: Subject) -> list[str]:
    return sorted(set(session.scalars(select(Fact.measure).where(Fact.subject_id == subj.id))))


def unranked_measures(session: Session) -> list[tuple[Subject, str]]:
    """Every (subject, measure) of subjects outside the ranked tables: the hotline, the platforms,
    the centre (what a question naming no subject may be about)."""
    rows = session.execute(select(Subject, Fact.measure).join(Fact, Fact.subject_id == Subject.id)
                           .where(Subject.kind.not_in(RANKED_KINDS)).distinct())
    return [(subject, measure) for subject, measure in rows]


def kind_measures(session: Session, kind: str) -> list[str]:
    """Every measure subjects of the kind print (what a ranking of them can be by)."""
    query = select(Fact.measure).join(Subject, Fact.subject_id == Subject.id).where(Subject.kind == kind).distinct()
    return sorted(set(session.scalars(query)))


def all_measures(session: Session) -> list[str]:
    return sorted(set(session.scalars(select(Fact.measure).distinct())))


def ranked_holders(session: Session, measure: str, period: str | None = None) -> bool:
    """Whether hospitals, districts, channels or cities print the measure (a column of their table),
    in ``period`` when one is given (电话预约 is a hospital column of 2019-10 only)."""
    query = (select(Fact.id).join(Subject, Fact.subject_id == Subject.id)
             .where(Fact.measure == measure, Subject.kind.in_(RANKED_KINDS)))
    if period is not None:
        query = query.where(Fact.period == period)
    return session.scalar(query.limit(1)) is not None


def periods(session: Session, *, subject_id: int | None = None, measure: str | None = None) -> list[str]:
    query = select(Fact.period).distinct()
    if subject_id is not None:
        query = query.where(Fact.subject_id == subject_id)
    if measure is not None:
        query = query.where(Fact.measure.in_(family(measure)))
    return sorted(set(session.scalars(query)))


def concrete_periods(session: Session, wanted: str | None, *, today: date | None = None,
                     context: str | None = None) -> list[str]:
    """The store's periods a period entity means: 2019-10 → [2019-10]; month:10 → every October
    (the context's year first); 去年 → last calendar year; an empty list when none is held."""
    if not wanted:
        return []
    today = today or date.today()
    held = periods(session)
    relative = {
        "last_year": str(today.year - 1), "year_before_last": str(today.year - 2),
        "this_year": str(today.year), "this_month": f"{today:%Y-%m}",
        "last_month": f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}",
    }
    wanted = relative.get(wanted, wanted)
    if wanted.startswith("month:"):
        month = wanted.split(":", 1)[1]
        found = [p for p in held if p.endswith(f"-{month}")]
        year = (context or "")[:4]
        return sorted(found, key=lambda p: (not p.startswith(year), p))
    return [p for p in held if p == wanted]


def relative_label(wanted: str, *, today: date | None = None) -> str:
    """What a period entity said, in words: 2026年, 2019年10月, 10月."""
    today = today or date.today()
    if wanted.startswith("month:"):
        return f"{int(wanted.split(':')[1])}月"
    names = {"last_year": f"去年（{today.year - 1}年）", "year_before_last": f"前年（{today.year - 2}年）",
             "this_year": f"今年（{today.year}年）", "this_month": f"本月（{today.year}年{today.month}月）",
             "last_month": "上个月"}
    if wanted in names:
        return names[wanted]
    if re.fullmatch(r"\d{4}-\d{2}", wanted):
        return f"{wanted[:4]}年{int(wanted[5:])}月"
    return f"{wanted}年"


def figure(session: Session, subj: Subject, measure: str | None, period: str | None,
           *, today: date | None = None, context_period: str | None = None) -> Lookup:
    """The subject's figure for the measure (its default when None) in the period (the latest
    that has it when None). Raises UnknownMeasure or UnknownPeriod with what is known."""
    known = measures(session, subj)
    if not known:
        raise UnknownMeasure(subj, measure or "", [])
    if measure is None:
        measure = DEFAULT_MEASURE.get(subj.kind)
        if measure is None or not _held(measure, known):
            return overview(session, subj, period, today=today, context_period=context_period)
    names = [m for m in family(measure) if m in known]
    if not names:
        raise UnknownMeasure(subj, measure, known)
    have = periods(session, subject_id=subj.id, measure=measure)
    if period:
        chosen = concrete_periods(session, period, today=today, context=context_period)
        chosen = [p for p in chosen if p in have]
        if not chosen:
            raise UnknownPeriod(subj, measure, period, have)
        use = chosen[0]
    else:
        use = have[-1]
    facts = _facts(session, subject_id=subj.id, measures=names, period=use)
    # The name asked, when printed for that period; its family's other name only in its place.
    facts = [f for f in facts if f.measure == measure] or facts
    return Lookup(facts=facts, asked_period=period)


def overview(session: Session, subj: Subject, period: str | None = None, *, today: date | None = None,
             context_period: str | None = None) -> Lookup:
    """Every figure of the subject in the period (the latest when None)."""
    have = periods(session, subject_id=subj.id)
    if period:
        chosen = [p for p in concrete_periods(session, period, today=today, context=context_period)
                  if p in have]
        if not chosen:
            raise UnknownPeriod(subj, "", period, have)
        use = chosen[0]
    else:
        use = have[-1]
    return Lookup(facts=_facts(session, subject_id=subj.id, period=use), asked_period=period)


def ranking(session: Session, measure: str, period: str | None, *, kind: str | None = "hospital", n: int = 5,
            ascending: bool = False, today: date | None = None) -> Lookup:
    """The top (or bottom) n subjects of a kind by a measure. A printed ranking (…排名) is used as
    the bulletin ordered it; otherwise the table's figures are sorted. Duplicate rows count once."""
    printed = measure if measure.endswith("排名") else f"{measure}排名"
    have = periods(session, measure=printed)
    rank_by = printed if have else measure
    if not have:
        have = _kind_periods(session, measure, kind)
    if not have:
        raise NotFound(f"no {kind} has a figure {measure!r}")
    use = have[-1]
    if period:
        chosen = [p for p in concrete_periods(session, period, today=today) if p in have]
        if not chosen:
            raise UnknownPeriod(None, measure, period, have)
        use = chosen[0]
    query = (select(Fact).join(Fact.subject).options(joinedload(Fact.subject), joinedload(Fact.bulletin))
             .where(Fact.measure == rank_by, Fact.period == use))
    if rank_by != printed:
        query = query.where(Fact.number.is_not(None))
        if kind:
            query = query.where(Subject.kind == kind)
    facts = list(session.scalars(query).unique())
    seen: set[int] = set()
    unique = []
    for fact in facts:
        if fact.subject_id not in seen:
            seen.add(fact.subject_id)
            unique.append(fact)
    if rank_by == printed:  # rank 1 first, as the bulletin printed the places
        unique = [f for f in unique if _place(f) is not None]
        unique.sort(key=_place, reverse=ascending)
    else:
        unique.sort(key=lambda f: f.number, reverse=not ascending)
    return Lookup(facts=unique[:n], asked_period=period)


def _place(fact: Fact) -> int | None:
    digits = re.sub(r"\D", "", fact.value)
    return int(digits) if digits else None


def _kind_periods(session: Session, measure: str, kind: str) -> list[str]:
    query = select(Fact.period).join(Fact.subject).where(Fact.measure == measure).distinct()
    if kind:
        query = query.where(Subject.kind == kind)
    return sorted(set(session.scalars(query)))


def _held(measure: str, known: list[str]) -> bool:
    return any(m in known for m in family(measure))


def family(measure: str) -> tuple[str, ...]:
    """The measure and the names it is printed under elsewhere (小计 in hospital rows is 合计 in the
    platform's total row; 医疗投诉 was 医疗服务投诉 in 2019): reference.yml's measure families."""
    for family in load_reference().measure_families:
        if measure in family:
            return (measure, *(m for m in family if m != measure))
    return (measure,)


def scopes(session: Session, subj: Subject, measure: str) -> set[str]:
    """How the subject's figures of the measure are printed: "cumulative" (截至…底), "period" (the
    period's own), or both."""
    return set(session.scalars(select(Fact.scope).where(Fact.subject_id == subj.id, Fact.measure == measure)
                               .distinct()))


def scopes_by_measure(session: Session, subj: Subject) -> dict[str, set[str]]:
    """`scopes` of every measure of the subject, in one query."""
    out: dict[str, set[str]] = {}
    for measure, scope in session.execute(select(Fact.measure, Fact.scope).where(Fact.subject_id == subj.id)
                                          .distinct()):
        out.setdefault(measure, set()).add(scope)
    return out


def _facts(session: Session, *, subject_id: int, period: str, measures: list[str] | None = None) -> list[Fact]:
    query = (select(Fact).join(Fact.bulletin)
             .options(joinedload(Fact.subject), joinedload(Fact.bulletin))
             .where(Fact.subject_id == subject_id, Fact.period == period)
             .order_by(Bulletin.source, Fact.line, Fact.id))
    if measures:
        query = query.where(Fact.measure.in_(measures))
    facts = list(session.scalars(query).unique())
    seen: set[tuple[str, str]] = set()
    out = []
    for fact in facts:  # a duplicated row prints the same figure twice: say it once
        key = (fact.measure, fact.value)
        if key not in seen:
            seen.add(key)
            out.append(fact)
    return out
