"""All ORM classes, in one place. Table names are singular snake_case; constraints are named.

Skill lists are stored as JSON on their owner (demand, graduate, course): they are read and written
whole, and the matcher loads them in bulk. Each skill keeps the text the user typed and, when the
taxonomy recognised it confidently, a canonical ``skill_id``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from service import industries, regions

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database (SQLite stores them without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UTCDateTime(),
    }


def _id_column() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[str] = _id_column()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(200))
    # The GB/T 2260 code of the region when it names a division, and the key filters compare (the code,
    # else the region's normal form); both follow ``region`` (see service.regions).
    region_code: Mapped[str | None] = mapped_column(String(6))
    region_key: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(200))
    # The GB/T 4754 section of the industry when it names one (C: 制造业, "manufacturing"), and the key
    # filters compare (the letter, else the industry's normal form); both follow ``industry``.
    industry_code: Mapped[str | None] = mapped_column(String(1))
    industry_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @validates("region")
    def _region_keys(self, _: str, value: str | None) -> str | None:
        self.region_code, self.region_key = regions.region_key(value)
        return value

    @validates("industry")
    def _industry_keys(self, _: str, value: str | None) -> str | None:
        self.industry_code, self.industry_key = industries.industry_key(value)
        return value

    @property
    def region_name(self) -> str | None:
        """The division's standard Chinese name (合肥市), when the region names one."""
        return regions.standard_name(self.region_code)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="organization", cascade="all, delete-orphan")


class ApiKey(Base):
    """An API key, stored only as its SHA-256 hash; the key itself is shown once at creation."""

    __tablename__ = "api_key"

    id: Mapped[str] = _id_column()
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    # When the key last signed a request or a page sign-in (written at most every few minutes).
    last_used_at: Mapped[datetime | None] = mapped_column()

    organization: Mapped[Organization] = relationship(back_populates="api_keys")


class WebSession(Base):
    """A signed-in browser session of the web pages. The cookie names it; signing out ends it here,
    so a copy of the cookie no longer signs in; revoking its key ends it too."""

    __tablename__ = "web_session"

    id: Mapped[str] = _id_column()
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()


class Demand(Base):
    __tablename__ = "demand"
    __table_args__ = (Index("ix_demand_status_created", "status", "created_at"),)

    id: Mapped[str] = _id_column()
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(200), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)  # as Organization's
    region_key: Mapped[str | None] = mapped_column(String(200), index=True)
    industry: Mapped[str | None] = mapped_column(String(200), index=True)
    industry_code: Mapped[str | None] = mapped_column(String(1))  # as Organization's
    industry_key: Mapped[str | None] = mapped_column(String(200), index=True)
    headcount: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    # [{"name", "importance", "level", "required", "skill_id", "inferred"}]
    skills: Mapped[list[Any]] = mapped_column(default=list)
    # The occupation the demand was posted for (ESCO concept URI or CSCO code), when one was named.
    occupation_id: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # One conditional UPDATE ... WHERE id = ? AND version = ?; no row changed is StaleDataError (412).
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @validates("region")
    def _region_keys(self, _: str, value: str | None) -> str | None:
        self.region_code, self.region_key = regions.region_key(value)
        return value

    @validates("industry")
    def _industry_keys(self, _: str, value: str | None) -> str | None:
        self.industry_code, self.industry_key = industries.industry_key(value)
        return value

    @property
    def region_name(self) -> str | None:
        return regions.standard_name(self.region_code)


class Program(Base):
    __tablename__ = "program"

    id: Mapped[str] = _id_column()
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # One conditional UPDATE ... WHERE id = ? AND version = ?; no row changed is StaleDataError (412).
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    courses: Mapped[list[Course]] = relationship(
        back_populates="program",
        cascade="all, delete-orphan",
        order_by="Course.position",
        lazy="selectin",
    )


class Course(Base):
    __tablename__ = "course"

    id: Mapped[str] = _id_column()
    program_id: Mapped[str] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    learning_outcomes: Mapped[list[Any]] = mapped_column(default=list)
    # [{"name", "skill_id"}]
    skills: Mapped[list[Any]] = mapped_column(default=list)
    hours: Mapped[int | None] = mapped_column(Integer)

    program: Mapped[Program] = relationship(back_populates="courses")


class Graduate(Base):
    """A graduate profile: personal data, kept to what matching needs (no names, phones, ID numbers)."""

    __tablename__ = "graduate"
    __table_args__ = (UniqueConstraint("organization_id", "external_ref"),)

    id: Mapped[str] = _id_column()
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    external_ref: Mapped[str] = mapped_column(String(200))
    program_id: Mapped[str | None] = mapped_column(ForeignKey("program.id", ondelete="SET NULL"), index=True)
    graduation_year: Mapped[int | None] = mapped_column(Integer)
    # [{"name", "level", "skill_id"}]
    skills: Mapped[list[Any]] = mapped_column(default=list)
    certificates: Mapped[list[Any]] = mapped_column(default=list)
    placed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # One conditional UPDATE ... WHERE id = ? AND version = ?; no row changed is StaleDataError (412).
    __mapper_args__ = {"version_id_col": version}
    # Value of the "graduate" state counter at the last write; lets each API process reload changes.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GraduateTombstone(Base):
    """Ids of deleted graduates (no personal data), so other processes drop them from memory."""

    __tablename__ = "graduate_tombstone"

    graduate_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)


class StateCounter(Base):
    """Monotonic change counters (e.g. "graduate", "demand"), bumped in the writing transaction."""

    __tablename__ = "state_counter"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class PhraseEmbedding(Base):
    """One embedding per (encoder, normalised phrase); the phrase cache."""

    __tablename__ = "phrase_embedding"
    __table_args__ = (UniqueConstraint("model", "text_hash"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    model: Mapped[str] = mapped_column(String(200))
    text_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchRun(Base):
    """A persisted ranking for a demand, pinned to the encoder and taxonomy that produced it."""

    __tablename__ = "match_run"

    id: Mapped[str] = _id_column()
    demand_id: Mapped[str] = mapped_column(ForeignKey("demand.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    model: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(64))
    taxonomy_version: Mapped[str | None] = mapped_column(String(64))
    top_k: Mapped[int] = mapped_column(Integer)
    min_score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    results: Mapped[list[MatchResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="MatchResult.rank", lazy="selectin"
    )


class MatchResult(Base):
    __tablename__ = "match_result"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    run_id: Mapped[str] = mapped_column(ForeignKey("match_run.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    graduate_id: Mapped[str] = mapped_column(ForeignKey("graduate.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[str] = mapped_column(String(36))
    score: Mapped[float] = mapped_column(Float)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    missing_required: Mapped[list[Any]] = mapped_column(default=list)

    run: Mapped[MatchRun] = relationship(back_populates="results")


class TrainingOrder(Base):
    __tablename__ = "training_order"

    id: Mapped[str] = _id_column()
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[str | None] = mapped_column(ForeignKey("program.id", ondelete="SET NULL"))
    demand_id: Mapped[str | None] = mapped_column(ForeignKey("demand.id", ondelete="SET NULL"))
    headcount: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    curriculum_additions: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # One conditional UPDATE ... WHERE id = ? AND version = ?; no row changed is StaleDataError (412).
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    history: Mapped[list[OrderTransition]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderTransition.seq", lazy="selectin"
    )
    deliveries: Mapped[list[OrderDelivery]] = relationship(
        back_populates="order", cascade="all, delete-orphan", lazy="selectin"
    )


class OrderTransition(Base):
    """Append-only history of an order: who did what, from which state to which, why, when."""

    __tablename__ = "order_transition"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    order_id: Mapped[str] = mapped_column(ForeignKey("training_order.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    actor_organization_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[TrainingOrder] = relationship(back_populates="history")


class OrderDelivery(Base):
    """A graduate placed by an order; a graduate is delivered by at most one order (unique)."""

    __tablename__ = "order_delivery"
    __table_args__ = (UniqueConstraint("graduate_id"),)

    order_id: Mapped[str] = mapped_column(
        ForeignKey("training_order.id", ondelete="CASCADE"), primary_key=True
    )
    graduate_id: Mapped[str] = mapped_column(ForeignKey("graduate.id", ondelete="CASCADE"), primary_key=True)
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[TrainingOrder] = relationship(back_populates="deliveries")


class IdempotencyKey(Base):
    """An Idempotency-Key claimed by an organisation, with the response to replay."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    endpoint: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column()
    # Resource ids the stored response mentions (e.g. graduate ids), so erasure can find it.
    resource_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TaxonomyVersion(Base):
    __tablename__ = "taxonomy_version"

    id: Mapped[str] = _id_column()
    source: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(64))
    skills: Mapped[int] = mapped_column(Integer, default=0)
    labels: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaxonomySkill(Base):
    __tablename__ = "taxonomy_skill"
    __table_args__ = (UniqueConstraint("skill_id"),)

    id: Mapped[str] = _id_column()
    # Stable canonical id: the ESCO concept URI, or "onet:<commodity>:<example>".
    skill_id: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(32), index=True)
    preferred_label: Mapped[str] = mapped_column(String(500))
    alt_labels: Mapped[list[Any]] = mapped_column(default=list)
    description: Mapped[str | None] = mapped_column(Text)
    skill_type: Mapped[str | None] = mapped_column(String(64))
    broader: Mapped[str | None] = mapped_column(String(500))
    taxonomy_version: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TaxonomyLabel(Base):
    """Every label of a taxonomy skill (preferred, alternative, hidden), normalised for exact lookup."""

    __tablename__ = "taxonomy_label"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    skill_id: Mapped[str] = mapped_column(
        ForeignKey("taxonomy_skill.skill_id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(500))
    norm: Mapped[str] = mapped_column(String(500), index=True)
    # "preferred" | "alt" | "hidden"
    kind: Mapped[str] = mapped_column(String(16))


class Occupation(Base):
    """An occupation of an imported classification (ESCO occupations, China's CSCO 2022)."""

    __tablename__ = "occupation"
    __table_args__ = (UniqueConstraint("occupation_id"),)

    id: Mapped[str] = _id_column()
    # Stable id: the ESCO concept URI, or the CSCO code ("6-18-01-01").
    occupation_id: Mapped[str] = mapped_column(String(300))
    # "esco" | "csco"
    taxonomy: Mapped[str] = mapped_column(String(32), index=True)
    # The classification code: ESCO's occupation code ("2654.1.7"), the CSCO code.
    code: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(500))
    alt_labels: Mapped[list[Any]] = mapped_column(default=list)
    definition: Mapped[str | None] = mapped_column(Text)
    tasks: Mapped[list[Any]] = mapped_column(default=list)
    # CSCO: 1 (major group) to 4 (detailed occupation); ESCO: None.
    level: Mapped[int | None] = mapped_column(Integer)
    # The enclosing group's code (CSCO) or ISCO unit group (ESCO).
    broader: Mapped[str | None] = mapped_column(String(300))
    taxonomy_version: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OccupationSkill(Base):
    """A skill an occupation needs (ESCO occupationSkillRelations): ``essential`` or ``optional``."""

    __tablename__ = "occupation_skill"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occupation_id: Mapped[str] = mapped_column(
        ForeignKey("occupation.occupation_id", ondelete="CASCADE"), index=True
    )
    # The skill's concept URI; its label comes from the skills taxonomy when imported.
    skill_id: Mapped[str] = mapped_column(String(300))
    relation: Mapped[str] = mapped_column(String(16))
    skill_type: Mapped[str | None] = mapped_column(String(64))
