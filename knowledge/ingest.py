"""Writing parsed bulletins into the store, and keeping the dimensions and aliases in step."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from knowledge.bulletin.figures import Parsed
from knowledge.models import (
    Alias,
    Bulletin,
    Channel,
    City,
    District,
    Fact,
    Finding,
    Hospital,
    Hotline,
    Organisation,
    Platform,
    Statement,
    Subject,
)
from knowledge.names import Reference, derive_short_names, load_guidance, district_in_name, hospital_category, match_key

_CLASSES = {
    "hospital": Hospital,
    "district": District,
    "channel": Channel,
    "platform": Platform,
    "city": City,
    "organisation": Organisation,
    "hotline": Hotline,
}


@dataclass
class IngestResult:
    bulletin: Bulletin
    status: str  # added, replaced, unchanged
    facts: int
    findings: int


def ingest(session: Session, parsed: Parsed, reference: Reference, *, refresh: bool = False) -> IngestResult:
    """Add one parsed bulletin. The caller's transaction makes it all or nothing.

    The same file again changes nothing, unless `refresh`: then its facts are read anew (the
    parser or the reference data changed) and the curated statements updated."""
    same = session.scalar(select(Bulletin).where(Bulletin.checksum == parsed.checksum))
    if same is not None and not refresh:
        return IngestResult(same, "unchanged", len(same.facts), len(same.findings))
    status = "added"
    previous = same or session.scalar(select(Bulletin).where(Bulletin.source == parsed.source))
    if previous is not None:  # a corrected file under the same name replaces what it said before
        session.delete(previous)
        session.flush()
        status = "replaced"
    ensure_reference(session, reference)
    resolver = Resolver(session, reference)
    bulletin = Bulletin(
        series=parsed.series, issue=parsed.issue, serial=parsed.serial, published=parsed.published,
        period=parsed.period, source=parsed.source, checksum=parsed.checksum,
        ingested_at=datetime.now(timezone.utc).replace(tzinfo=None),
    )
    session.add(bulletin)
    # Table rows carry full names; resolve them first so that short names in prose find them.
    ordered = sorted(parsed.figures, key=lambda f: f.role not in ("cell", "row_total", "column_total")
                     or not f.group)
    for fig in ordered:
        subject = resolver.subject(fig.subject_kind, fig.subject)
        bulletin.facts.append(Fact(
            subject=subject, period=fig.period, scope=fig.scope, measure=fig.measure, value=fig.value,
            number=fig.number, unit=fig.unit, section=fig.section, line=fig.line,
            flag=",".join(sorted(set(f for f in fig.flags if f != "number_repaired"))) or None,
        ))
    for platform_name, centre_name in parsed.centres.items():
        platform = resolver.subject("platform", platform_name)
        centre = resolver.subject("hospital", centre_name)
        if isinstance(platform, Platform) and isinstance(centre, Hospital):
            platform.centre = centre
    for note in parsed.notes:
        bulletin.findings.append(Finding(severity=note.severity, code=note.code, line=note.line,
                                         message=note.message))
    session.flush()
    refresh_aliases(session, reference)
    return IngestResult(bulletin, status, len(bulletin.facts), len(bulletin.findings))


def ensure_reference(session: Session, reference: Reference) -> None:
    """The curated subjects and their curated aliases, created once; the curated statements."""
    for topic, text, source in load_guidance():
        statement = session.scalar(select(Statement).where(Statement.topic == topic))
        if statement is None:
            session.add(Statement(topic=topic, text=text, source=source))
        else:
            statement.text, statement.source = text, source
    districts = [e.name for e in reference.districts]
    curated: dict[int, set[str]] = {}  # subject id -> its curated aliases, as reference.yml lists them now
    for kind, entries in reference.kinds().items():
        cls = _CLASSES[kind]
        for entry in entries:
            subject = session.scalar(select(cls).where(cls.name == entry.name))
            if subject is None:
                subject = _new(session, kind, entry.name, districts, mode=entry.mode)
            known = {a.text for a in subject.aliases}
            for alias in entry.aliases:
                if alias not in known and alias != entry.name:
                    subject.aliases.append(Alias(text=alias, origin="curated"))
            curated.setdefault(subject.id, set()).update(entry.aliases)
    # A curated alias taken out of reference.yml leaves the store too: the file is the one place they live.
    for alias in session.scalars(select(Alias).where(Alias.origin == "curated")).all():
        if alias.text not in curated.get(alias.subject_id, ()):
            session.delete(alias)
    session.flush()


def _new(session: Session, kind: str, name: str, districts: list[str], mode: str | None = None) -> Subject:
    cls = _CLASSES[kind]
    if cls is Hospital:
        district_name = district_in_name(name, districts)
        district = (session.scalar(select(District).where(District.name == district_name))
                    if district_name else None)
        subject = Hospital(name=name, category=hospital_category(name), district=district)
    elif cls is Channel:
        subject = Channel(name=name, mode=mode or "unknown")
    else:
        subject = cls(name=name)
    session.add(subject)
    session.flush()
    return subject


class Resolver:
    """Finds the canonical subject for a name as a bulletin prints it, or creates one."""

    def __init__(self, session: Session, reference: Reference):
        self.session = session
        self.districts = [e.name for e in reference.districts]
        self._cache: dict[tuple[str, str], Subject] = {}

    def subject(self, kind: str, printed: str) -> Subject:
        key = (kind, printed)
        if key not in self._cache:
            self._cache[key] = self._resolve(kind, printed)
        return self._cache[key]

    def _resolve(self, kind: str, printed: str) -> Subject:
        cls = _CLASSES[kind]
        s = self.session
        exact = s.scalar(select(cls).where(cls.name == printed))
        if exact is not None:
            return exact
        by_alias = s.scalars(select(cls).join(Alias).where(Alias.text == printed).distinct()).all()
        if len(by_alias) == 1:
            return by_alias[0]
        if cls is Hospital:
            found = self._hospital_by_rule(printed)
            if found is not None:
                found.aliases.append(Alias(text=printed, origin="printed"))
                return found
        return _new(s, kind, printed, self.districts)

    def _hospital_by_rule(self, printed: str) -> Hospital | None:
        """南京江北人民医院 is 南京市江北人民医院; 高淳人民医院 is 南京市高淳人民医院."""
        hospitals = self.session.scalars(select(Hospital)).all()
        key = match_key(printed, self.districts)
        same_key = [h for h in hospitals if match_key(h.name, self.districts) == key]
        if len(same_key) == 1:
            return same_key[0]
        derived = [h for h in hospitals if printed in derive_short_names(h.name, self.districts)]
        return derived[0] if len(derived) == 1 else None


def refresh_aliases(session: Session, reference: Reference) -> None:
    """Rule-derived short names for every hospital and district, rebuilt from the current names."""
    districts = [e.name for e in reference.districts]
    session.execute(delete(Alias).where(Alias.origin == "rule"))
    session.expire_all()
    for hospital in session.scalars(select(Hospital)).all():
        known = {a.text for a in hospital.aliases} | {hospital.name}
        for short in sorted(derive_short_names(hospital.name, districts) - known):
            hospital.aliases.append(Alias(text=short, origin="rule"))
    for district in session.scalars(select(District)).all():
        bare = district.name.removesuffix("区")
        known = {a.text for a in district.aliases} | {district.name}
        if len(bare) >= 2 and bare not in known and bare != district.name:
            district.aliases.append(Alias(text=bare, origin="rule"))
    session.flush()
