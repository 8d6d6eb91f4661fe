"""The store: a star of dimensions (bulletins, subjects and their aliases) around one fact table.

Subjects use joined-table inheritance: every hospital, district, channel and platform is a
``Subject`` (the one thing a fact and an alias point at), with its own table for what only
that kind has. Kinds without extra columns (city, organisation, hotline) live in ``subject``.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.base import Base


class Bulletin(Base):
    __tablename__ = "bulletin"

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(100))
    issue: Mapped[str | None] = mapped_column(String(50))  # 2024年第1期
    serial: Mapped[str | None] = mapped_column(String(50))  # 总第143期
    published: Mapped[date | None] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(10))  # what its statistics cover: 2023, 2019-10
    source: Mapped[str] = mapped_column(String(255), unique=True)  # file name
    checksum: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the bytes
    ingested_at: Mapped[datetime] = mapped_column(DateTime)

    facts: Mapped[list[Fact]] = relationship(back_populates="bulletin", cascade="all, delete-orphan")
    findings: Mapped[list[Finding]] = relationship(
        back_populates="bulletin", cascade="all, delete-orphan"
    )

    @property
    def citation(self) -> str:
        """How an answer names its source: 《南京卫生信息化简报》2024年第1期."""
        title = f"《{self.series}》"
        if self.issue:
            return title + self.issue
        # The issue number is not printed: say which period the issue reports instead.
        return title + f"（{period_label(self.period)}数据，期号未载明）"


class Subject(Base):
    __tablename__ = "subject"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))

    aliases: Mapped[list[Alias]] = relationship(
        back_populates="subject", cascade="all, delete-orphan", order_by="Alias.text"
    )

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "subject"}


class District(Subject):
    __tablename__ = "district"
    id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    __mapper_args__ = {"polymorphic_identity": "district"}


class Hospital(Subject):
    __tablename__ = "hospital"
    id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20))  # 综合, 中医, 儿童, 口腔, 社区卫生服务中心 …
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))

    district: Mapped[District | None] = relationship(foreign_keys=[district_id])
    __mapper_args__ = {"polymorphic_identity": "hospital", "inherit_condition": id == Subject.id}


class Channel(Subject):
    __tablename__ = "channel"
    id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(20))  # online, phone, hospital
    note: Mapped[str | None] = mapped_column(Text)
    __mapper_args__ = {"polymorphic_identity": "channel"}


class Platform(Subject):
    __tablename__ = "platform"
    id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("hospital.id"))

    centre: Mapped[Hospital | None] = relationship(foreign_keys=[centre_id])
    __mapper_args__ = {"polymorphic_identity": "platform", "inherit_condition": id == Subject.id}


class City(Subject):
    __mapper_args__ = {"polymorphic_identity": "city"}


class Organisation(Subject):
    __mapper_args__ = {"polymorphic_identity": "organisation"}


class Hotline(Subject):
    __mapper_args__ = {"polymorphic_identity": "hotline"}


class Alias(Base):
    """Another name for a subject. The same text may name several subjects: it is then ambiguous."""

    __tablename__ = "alias"
    __table_args__ = (UniqueConstraint("subject_id", "text"), Index("ix_alias_text", "text"))

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(20))  # curated, rule, printed (as a bulletin spells it)

    subject: Mapped[Subject] = relationship(back_populates="aliases")


class Fact(Base):
    """One figure of one bulletin, exactly as printed."""

    __tablename__ = "fact"
    __table_args__ = (
        Index("ix_fact_lookup", "subject_id", "measure", "period"),
        Index("ix_fact_bulletin", "bulletin_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletin.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    period: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(12))  # period: during it; cumulative: as of its end
    measure: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(100))  # as printed: 810万, 672153.37, 6/11
    number: Mapped[Decimal | None] = mapped_column(Numeric(24, 4))  # for sums, sorting, checks
    unit: Mapped[str] = mapped_column(String(20))
    section: Mapped[str] = mapped_column(String(200))  # the table or paragraph heading
    line: Mapped[int] = mapped_column(Integer)
    flag: Mapped[str | None] = mapped_column(String(100))  # suspect: duplicate_row, out_of_scale …

    bulletin: Mapped[Bulletin] = relationship(back_populates="facts")
    subject: Mapped[Subject] = relationship()


class Statement(Base):
    """A curated statement the assistant quotes (safety advice, how a service works), with its source."""

    __tablename__ = "statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(50), unique=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))


class Finding(Base):
    """Something the checks found in a bulletin: kept, never fixed silently."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletin.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(10))  # error, warning, info
    code: Mapped[str] = mapped_column(String(40))
    line: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)

    bulletin: Mapped[Bulletin] = relationship(back_populates="findings")


def period_label(period: str) -> str:
    """2023 -> 2023年, 2019-10 -> 2019年10月."""
    if "-" in period:
        year, month = period.split("-", 1)
        return f"{year}年{int(month)}月"
    return f"{period}年"
