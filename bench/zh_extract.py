"""Chinese skill-phrase extraction on CSCO task statements: ``python -m bench.zh_extract``.

Reads the ``tasks`` column of ``../shared/data/csco/csco22.csv`` (``TALENTMATCH_SHARED_DATA`` names another
data folder) (China's occupational classification;
numbered task lists such as "1.操作数控机床…；2.…"), runs the service's sentence splitter and
:func:`service.taxonomy.zh_extraction.phrases` on every task sentence, and prints how many sentences give
at least one phrase, phrases per sentence, leftovers that show a cutting fault (phrases holding a digit or
"等") and the time per sentence. It measures coverage and cutting, not precision: there is no gold
phrase list. Prints a note and exits 0 when the data folder is absent.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import time
from pathlib import Path

from service.taxonomy import extraction, zh_extraction

DATA = Path(
    os.environ.get("TALENTMATCH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
DEFAULT = DATA / "csco" / "csco22.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csco", type=Path, default=DEFAULT)
    parser.add_argument("--examples", type=int, default=3)
    args = parser.parse_args()
    if not args.csco.is_file():
        print(f"{args.csco} not found; nothing measured")
        return
    with args.csco.open(encoding="utf-8", newline="") as fh:
        tasks = [row["tasks"] for row in csv.DictReader(fh) if row["tasks"].strip()]
    sentences = [s.text for t in tasks for s in extraction.split_sentences(t) if not s.boilerplate]
    zh_extraction.phrases("预热")  # load the word lists and the division table outside the timing
    began = time.perf_counter()
    found = [zh_extraction.phrases(s) for s in sentences]
    seconds = time.perf_counter() - began
    phrases = [p for f in found for p in f]
    print(f"occupations with tasks: {len(tasks)}; task sentences: {len(sentences)}")
    print(f"sentences with >= 1 phrase: {sum(1 for f in found if f) / len(sentences):.3f}")
    print(f"phrases per sentence: {len(phrases) / len(sentences):.1f}")
    print(f"phrases holding a digit: {sum(1 for p in phrases if re.search(r'[0-9]', p))} of {len(phrases)}")
    print(f"phrases holding 等: {sum(1 for p in phrases if '等' in p)}")
    print(f"time per sentence: {1000 * seconds / len(sentences):.2f} ms")
    for sentence, f in list(zip(sentences, found, strict=True))[: args.examples]:
        print(f"  {sentence[:60]} -> {', '.join(f[:10])}")


if __name__ == "__main__":
    main()
