"""Command line: ``talentmatch serve | migrate | org create | taxonomy ... | import graduates | reembed |
demo``.

``base`` holds what the commands share (the Typer apps, a local run's database and encoder, progress
bars); ``server``, ``taxonomy`` and ``data`` hold the commands, registered on ``app`` when imported here.
Nothing in the service imports this package.
"""

from __future__ import annotations

from service.cli import data, server, taxonomy
from service.cli.base import app

__all__ = ["app", "data", "main", "server", "taxonomy"]


def main() -> None:  # pragma: no cover
    app()
