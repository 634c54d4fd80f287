"""``talentmatch --help``: each option shows the type of value it takes; a flag shows none."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from service.cli import app


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.output


def _option_line(text: str, option: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(option))


def test_options_show_their_real_types_and_flags_take_no_value() -> None:
    serve = _help("serve")
    assert re.search(r"--host <str>", serve)
    assert re.search(r"--port <int>", serve)
    imports = _help("import", "graduates")
    skip_invalid = _option_line(imports, "--skip-invalid")
    assert "<" not in skip_invalid.split("Import")[0]  # a flag: no value to give
    assert "--school <str>" in imports
    for text in (serve, imports, _help()):
        assert "<bool>" not in text
        assert "<" not in _option_line(text, "--help")
