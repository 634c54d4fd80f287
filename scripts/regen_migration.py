"""Regenerate the single initial Alembic revision from the ORM (allowed until the first release).

Run: make migration-regen
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "migrations" / "versions"
REVISION = "0001"

SEED = """
    op.bulk_insert(
        sa.table("state_counter", sa.column("name", sa.String), sa.column("value", sa.BigInteger)),
        [{"name": n, "value": 0} for n in ("graduate", "demand", "program", "taxonomy")],
    )
"""


def main() -> None:
    for old in VERSIONS.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/regen.db"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "alembic",
                "-x",
                "noop=1",
                "revision",
                "--autogenerate",
                "--rev-id",
                REVISION,
                "-m",
                "initial schema",
            ],
            cwd=ROOT,
            check=True,
            env={**__import__("os").environ, "TALENTMATCH_DATABASE_URL": url},
        )
    (path,) = VERSIONS.glob("*.py")
    source = path.read_text()
    source = re.sub(r"Create Date: .*", "Create Date: (regenerated from the ORM)", source)
    source = source.replace(
        "    # ### end Alembic commands ###", SEED.rstrip() + "\n    # ### end Alembic commands ###", 1
    )
    target = VERSIONS / "0001_initial_schema.py"
    path.unlink()
    target.write_text(source)
    subprocess.run([sys.executable, "-m", "ruff", "format", str(target)], cwd=ROOT, check=False)
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
