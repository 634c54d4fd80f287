"""Building ``models/hub_background.npz`` and its manifest ``models/hub_background.json``.

``python -m training.hub_background --build`` (about a minute on two cores with ``bench/out`` warm):

- **background**: 3,000 task statements drawn (seed 0) from the distinct task statements of the O*NET
  29.2 *fit* occupations (``training.onet.split``), embedded by the served encoder, stored as float16
  unit vectors;
- **reference**: the mean hubness (mean of the ``top`` = 50 best cosines with the background) of 2,000
  O*NET skill phrases of the same occupations that are not in the background (commodity titles of
  their technology and short forms of their other tasks, drawn with seed 1): the hubness of a typical
  demanded skill, which the discount leaves unchanged;
- **weight** 0.5 and **top** 50: the form of the probe written down before any measurement (minus
  0.5 x the mean of a skill's 50 best cosines with unrelated text), with O*NET text instead of course
  text; not tuned on the held-out cases.

The service reads it through :func:`service.matching.hubs.load_hub_background`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from service.matching.hubs import HUB_PATH, HubBackground, load_hub_background
from training.onet import ATTRIBUTION, EmbeddingCache, load_onet, task_fragment

N_BACKGROUND = 3000
N_REFERENCE = 2000
TOP = 50
WEIGHT = 0.5


def texts(onet: Any) -> tuple[list[str], list[str]]:
    """(background task statements, reference skill phrases), deterministic."""
    fit = onet.part("fit")
    tasks = sorted({t.text for o in fit for t in o.tasks})
    background = random.Random(0).sample(tasks, N_BACKGROUND)
    taken = set(background)
    phrases = {t.commodity_title for o in fit for t in o.tech}
    phrases |= {task_fragment(t, 0) for t in tasks if t not in taken}
    reference = random.Random(1).sample(sorted(phrases), N_REFERENCE)
    return background, reference


def build(encoder_backend: str = "real", path: Path = HUB_PATH) -> dict[str, Any]:
    from service.embeddings.loader import load_encoder

    encoder = load_encoder(encoder_backend)
    cache = EmbeddingCache(encoder, persist=encoder_backend == "real")
    background, reference = texts(load_onet())
    vecs = cache.embed(background).astype(np.float16)
    cache.save()
    hub = HubBackground(encoder.name, vecs.astype(np.float32), TOP, WEIGHT, 0.0)
    ref_hub = hub.hubness(cache.embed(reference))
    cache.save()
    file = f"hub_background-{encoder.name}.npz"
    np.savez_compressed(path.parent / file, vecs=vecs)
    digest = hashlib.sha256((path.parent / file).read_bytes()).hexdigest()
    manifest: dict[str, Any] = {"encoders": {}}
    if path.is_file():
        manifest = json.loads(path.read_text(encoding="utf-8"))
    entry = {
        "file": file,
        "sha256": digest,
        "encoder": {"name": encoder.name, "version": encoder.version},
        "background": len(background),
        "top": TOP,
        "weight": WEIGHT,
        "reference": round(float(ref_hub.mean()), 4),
        "reference_spread": {
            "p10": round(float(np.quantile(ref_hub, 0.1)), 4),
            "p90": round(float(np.quantile(ref_hub, 0.9)), 4),
        },
        "texts_sha256": hashlib.sha256("\n".join(background).encode()).hexdigest(),
    }
    manifest["encoders"][encoder.name] = entry
    manifest["data"] = {
        "source": "O*NET 29.2 (../shared/data/onet_29.2), task statements and technology commodity "
        "titles of the 'fit' occupations (training.onet.split)",
        "background": f"{N_BACKGROUND} task statements drawn with seed 0",
        "reference": f"{N_REFERENCE} skill phrases (commodity titles, short task forms) not in the "
        "background, drawn with seed 1; reference = their mean hubness",
        "attribution": ATTRIBUTION,
    }
    manifest["rebuild"] = "python -m training.hub_background --build"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    load_hub_background.cache_clear()
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--build", action="store_true", help="rebuild the background and its manifest")
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build(), indent=2))
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
