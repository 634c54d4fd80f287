"""Form fields to the API's request bodies, and validation errors back to the form's fields.

A form posts the API's field names; lists are textareas with one item a line. What a form posts is
turned into the same pydantic body the JSON API takes (``DemandCreate``, ``ProgramUpdate``, ``CourseIn``,
``OrderCreate``), so every rule is checked once, by the API's own schema, and a problem comes back
named by field (and line, for a textarea).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

REQUIRED_WORDS = frozenset({"required", "yes", "true", "1", "y", "必需", "必须", "是", "必备"})
OPTIONAL_WORDS = frozenset({"", "optional", "no", "false", "0", "n", "否", "可选"})


@dataclass
class FormErrors:
    """Problems by field name ("" for the form as a whole)."""

    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def get(self, name: str) -> list[str]:
        return self.by_field.get(name, [])


class FormInvalid(Exception):
    def __init__(self, errors: FormErrors) -> None:
        super().__init__("the form is not valid")
        self.errors = errors


def lines(value: str | None) -> list[str]:
    """One item a line; blank lines dropped, each line trimmed."""
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def blank_to_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def parse_int(errors: FormErrors, name: str, value: str | None, *, required: bool = False) -> int | None:
    text = (value or "").strip()
    if not text:
        if required:
            errors.add(name, "required")
        return None
    try:
        return int(text)
    except ValueError:
        errors.add(name, f"{text!r} is not a whole number")
        return None


def parse_skill_lines(errors: FormErrors, values: Sequence[str]) -> tuple[list[dict[str, Any]], list[int]]:
    """``name | importance | level | required`` a line (only the name is needed); returns the skills
    and the textarea line each came from."""
    out: list[dict[str, Any]] = []
    positions: list[int] = []
    number = 0
    for value in values:
        for raw in (value or "").splitlines():
            number += 1
            if not raw.strip():
                continue
            parts = [p.strip() for p in raw.replace("｜", "|").split("|")]
            skill: dict[str, Any] = {"name": parts[0]}
            where = f"line {number}"
            if len(parts) > 4:
                errors.add("skills", f"{where}: at most 4 parts: name | importance | level | required")
                continue
            for index, key in ((1, "importance"), (2, "level")):
                if len(parts) > index and parts[index]:
                    try:
                        skill[key] = int(parts[index])
                    except ValueError:
                        errors.add("skills", f"{where}: {key} {parts[index]!r} is not a number from 1 to 5")
            if len(parts) > 3:
                word = parts[3].casefold()
                if word in REQUIRED_WORDS:
                    skill["required"] = True
                elif word in OPTIONAL_WORDS:
                    skill["required"] = False
                else:
                    errors.add("skills", f"{where}: write 'required' or leave the fourth part empty")
            out.append(skill)
            positions.append(number)
    return out, positions


def skill_line(skill: Mapping[str, Any]) -> str:
    """A stored skill requirement as one textarea line (the inverse of ``parse_skill_lines``)."""
    parts = [str(skill.get("name", "")), str(skill.get("importance", 3))]
    level = skill.get("level")
    required = bool(skill.get("required"))
    if level is not None or required:
        parts.append("" if level is None else str(level))
    if required:
        parts.append("required")
    return " | ".join(parts)


def _field_of(loc: Sequence[Any], positions: Mapping[str, list[int]] | None) -> tuple[str, str]:
    """The form field a pydantic error belongs to, and a prefix naming the line in a textarea."""
    parts = [p for p in loc if p != "body"]
    if not parts:
        return "", ""
    name = str(parts[0])
    prefix = ""
    if len(parts) > 1 and isinstance(parts[1], int):
        line = parts[1] + 1
        if positions and name in positions and parts[1] < len(positions[name]):
            line = positions[name][parts[1]]
        prefix = f"line {line}: "
        if len(parts) > 2:
            prefix += f"{parts[2]}: "
    elif len(parts) > 1:
        prefix = ".".join(str(p) for p in parts[1:]) + ": "
    return name, prefix


def add_validation_errors(
    errors: FormErrors,
    exc: ValidationError | list[dict[str, Any]],
    positions: Mapping[str, list[int]] | None = None,
) -> None:
    items = exc.errors() if isinstance(exc, ValidationError) else exc
    for err in items:
        name, prefix = _field_of(list(err.get("loc", ())), positions)
        errors.add(name, prefix + str(err.get("msg", "not valid")))


def build(
    model: type[M], data: dict[str, Any], errors: FormErrors, positions: Mapping[str, list[int]] | None = None
) -> M:
    """The API's body from the form's values; raises ``FormInvalid`` with every problem found."""
    try:
        body = model.model_validate(data)
    except ValidationError as exc:
        add_validation_errors(errors, exc, positions)
        raise FormInvalid(errors) from exc
    if errors:
        raise FormInvalid(errors)
    return body
