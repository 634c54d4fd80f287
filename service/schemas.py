"""Shapes shared by several domains (contract v1)."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

# "Has a character that is not blank", in terms both the OpenAPI pattern (ECMA regex) and the validator
# agree on: trimmed values (strip_whitespace) must not end up empty, and ECMA's and Rust's "\s" differ.
NOT_BLANK = (
    r"[^\s\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    r"\u200b-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8]"
)
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)
]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
SkillName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)
]
Outcome = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000, pattern=NOT_BLANK)
]
Level = Annotated[int, Field(ge=1, le=5)]


def _scalar_kind(annotation: Any) -> type | None:
    """bool, int or float when a field is that JSON scalar (optionally nullable); else None."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _scalar_kind(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        kinds = {_scalar_kind(a) for a in get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    return annotation if annotation in (bool, int, float) else None


def _json_type_ok(kind: type, value: Any) -> bool:
    if value is None or kind is bool:
        return value is None or isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is int:
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, int | float)


class StrictModel(BaseModel):
    """Request bodies: unknown fields are rejected (422), never silently bound; so are JSON values of
    the wrong type for numbers and booleans (``"hours": false``, ``"required": 1``, ``"level": "3"``),
    which pydantic would otherwise coerce."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_scalar_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        kind = _scalar_kind(field.annotation) if field is not None else None
        if kind is not None and not _json_type_ok(kind, value):
            names = {bool: "a boolean", int: "an integer", float: "a number"}
            raise PydanticCustomError("type_strict", "Input should be {expected}", {"expected": names[kind]})
        if _has_nul(value):
            raise PydanticCustomError("nul_character", "Text must not contain the NUL character (U+0000)")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(isinstance(v, str) and "\x00" in v for v in value)
    return False


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# A region as written is kept; these two say which administrative division it names (service.regions).
REGION_CODE: Any = Field(
    default=None,
    description="The GB/T 2260 code of the division the region names (340100 for 合肥, 合肥市 or Hefei); "
    "null when it names none or several.",
)
REGION_NAME: Any = Field(default=None, description="That division's standard name (合肥市).")
# An industry as written is kept; this says which GB/T 4754-2017 section it names (service.industries).
INDUSTRY_CODE: Any = Field(
    default=None,
    description="The letter of the GB/T 4754-2017 section the industry names (C for 制造业, 制造 or "
    "Manufacturing); null when it names none. Filters compare industries by it.",
)


class SkillRequirement(StrictModel):
    name: SkillName
    importance: Annotated[int, Field(ge=1, le=5)] = 3
    level: Level | None = None
    required: bool = False


class SkillRequirementRead(ReadModel):
    name: str
    importance: int = 3
    level: int | None = None
    required: bool = False
    skill_id: str | None = None
    inferred: bool = False


class SkillClaim(StrictModel):
    name: SkillName
    level: Level | None = None


class SkillClaimRead(ReadModel):
    name: str
    level: int | None = None
    skill_id: str | None = None


class CourseIn(StrictModel):
    code: Annotated[str, StringConstraints(max_length=64)] | None = None
    title: Name
    description: LongText | None = None
    learning_outcomes: Annotated[list[Outcome], Field(max_length=100)] = []
    skills: Annotated[list[SkillName], Field(max_length=100)] = []
    hours: Annotated[int, Field(ge=0, le=100_000)] | None = None


class SameSkill(BaseModel):
    """The imported taxonomy skill two texts are labels of (they count as one skill)."""

    skill_id: str
    label: str
