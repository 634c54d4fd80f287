"""Fitting ``models/lexical_idf.npz``: the IDF table of the lexical channel, on O*NET phrases.

``python -m training.lexical_idf --build``; the service reads the table through
:func:`service.matching.lexical.default_model`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from service.matching.lexical import IDF_PATH, ZH_COMMON_PATH, LexicalModel, read_word_list
from training.onet import load_onet


def build(onet_dir: Path | None, out: Path) -> None:
    onet = load_onet(onet_dir) if onet_dir else load_onet()
    corpus = sorted(onet.all_phrases())
    zh = read_word_list(ZH_COMMON_PATH)
    model = LexicalModel.fit(corpus, low_weight=zh)
    model.save(out)
    print(
        f"fitted IDF on {model.n_docs} O*NET phrases and {len(zh)} generic Chinese words -> {out} "
        f"({out.stat().st_size / 1024:.0f} KiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--build", action="store_true", help="refit the IDF table and write it")
    parser.add_argument("--onet", type=Path, default=None, help="O*NET 29.2 folder (default ../shared/data)")
    parser.add_argument("--out", type=Path, default=IDF_PATH)
    args = parser.parse_args()
    if args.build:
        build(args.onet, args.out)
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
