from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from service.schemas import NOT_BLANK, LongText, ReadModel, SkillClaimRead, SkillName, StrictModel

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=NOT_BLANK)]
Reason = Annotated[str, StringConstraints(max_length=2_000)]


class OrderStatus(StrEnum):
    proposed = "proposed"
    accepted = "accepted"
    rejected = "rejected"
    in_training = "in_training"
    delivered = "delivered"
    cancelled = "cancelled"


class OrderAction(StrEnum):
    accept = "accept"
    reject = "reject"
    start = "start"
    deliver = "deliver"
    cancel = "cancel"


class OrderRole(StrEnum):
    """The caller's side of an order: the organisation that placed it, or the school that received it."""

    placed = "placed"
    received = "received"


class OrderCreate(StrictModel):
    school_id: Id
    program_id: Id | None = None
    demand_id: Id | None = None
    # Upper bound is settings.max_order_headcount, checked by the service (configurable).
    headcount: Annotated[int, Field(ge=1)]
    start_date: date | None = None
    end_date: date | None = None
    # Omitted or null with demand_id and program_id: filled from the gap analysis. [] means "none".
    curriculum_additions: Annotated[list[SkillName], Field(max_length=100)] | None = None
    notes: LongText | None = None


class TransitionCreate(StrictModel):
    action: OrderAction
    reason: Reason | None = None
    # Only with "deliver": the graduates placed (graduates of the school, at most the headcount).
    graduate_ids: Annotated[list[Id], Field(min_length=1, max_length=10_000)] | None = None


class HistoryEntry(ReadModel):
    seq: int
    action: str
    actor: str = Field(description="The acting organisation's id.")
    actor_role: OrderRole
    from_status: OrderStatus | None = Field(serialization_alias="from")
    to_status: OrderStatus = Field(serialization_alias="to")
    reason: str | None
    time: datetime


class DeliveredGraduate(ReadModel):
    """A delivered graduate, pseudonymous as in match results: id, school and skills, no external_ref."""

    graduate_id: str
    school_id: str
    skills: list[SkillClaimRead]
    delivered_at: datetime


class OrderRead(ReadModel):
    id: str
    enterprise_id: str = Field(description="The organisation that placed the order.")
    school_id: str
    program_id: str | None
    demand_id: str | None
    headcount: int
    start_date: date | None
    end_date: date | None
    curriculum_additions: list[str]
    notes: str | None
    status: OrderStatus
    version: int
    created_at: datetime
    updated_at: datetime
    history: list[HistoryEntry]
    deliveries: list[DeliveredGraduate]
    allowed_actions: list[OrderAction] = Field(description="The actions the caller may take now.")
