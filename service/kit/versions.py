"""Resource versions: the ETag that names one, and the If-Match check of a change against it."""

from __future__ import annotations

from service.errors import PreconditionFailed, PreconditionRequired


def etag_for(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version named by an If-Match header; None for ``*``."""
    if value is None:
        return None
    value = value.strip()
    if value == "*":
        return None
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip().strip('"')
    try:
        return int(value)
    except ValueError as exc:
        raise PreconditionFailed("If-Match does not name a current version of this resource.") from exc


def check_if_match(header: str | None, current_version: int, *, required: bool = False) -> None:
    """Raise unless ``header`` (an If-Match value, or None when absent) names ``current_version``."""
    if header is None:
        if required:
            raise PreconditionRequired("This call needs an If-Match header with the resource's ETag.")
        return
    wanted = parse_if_match(header)
    if wanted is not None and wanted != current_version:
        raise PreconditionFailed(
            f"The resource has changed (current ETag {etag_for(current_version)}); fetch it again."
        )
