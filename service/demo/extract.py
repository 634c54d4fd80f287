"""Rebuild the demo's O*NET extract: ``python -m service.demo.extract [--onet DIR]``.

Copies, unchanged, the rows of six occupations from the O*NET 29.2 text files into
``service/demo/data/onet/`` (same file names, same columns), so ``talentmatch demo`` needs nothing
outside the package.

This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and
Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

OCCUPATIONS = (
    "51-9161.00",  # Computer Numerically Controlled Tool Operators
    "51-4041.00",  # Machinists
    "47-2111.00",  # Electricians
    "49-2094.00",  # Electrical and Electronics Repairers, Commercial and Industrial Equipment
    "15-1252.00",  # Software Developers
    "17-3024.01",  # Robotics Technicians
)
FILES = ("Occupation Data.txt", "Technology Skills.txt", "Task Statements.txt")
TARGET = Path(__file__).resolve().parent / "data" / "onet"
DEFAULT_SOURCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "onet_29.2"


def extract(source: Path, target: Path = TARGET) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        lines = (source / name).read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [lines[0]] + [line for line in lines[1:] if line.split("\t", 1)[0] in OCCUPATIONS]
        (target / name).write_text("".join(kept), encoding="utf-8", newline="")
        print(f"{name}: {len(kept) - 1} rows")
    shutil.copyfile(source / "Read Me.txt", target / "Read Me.txt")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--onet", type=Path, default=DEFAULT_SOURCE, help="O*NET 29.2 text folder")
    args = parser.parse_args()
    extract(args.onet)


if __name__ == "__main__":
    main()
