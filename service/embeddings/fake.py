"""A deterministic hashing encoder for tests: similar strings get similar vectors, no model needed."""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np

from service.text import is_cjk, normalize_phrase


class FakeEncoder:
    """Deterministic hashing encoder for tests: words, character trigrams and CJK characters/bigrams
    are hashed (signed) into ``dim`` buckets; the row is L2-normalised.
    An empty text gives a zero row."""

    name = "fake-hash"
    version = "1"
    multilingual = True

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0

    def _features(self, text: str) -> list[str]:
        norm = normalize_phrase(text)
        feats: list[str] = []
        for word in re.findall(r"\w+|[+#]+", norm):
            cjk = "".join(ch for ch in word if is_cjk(ch))
            if cjk:
                feats.extend(f"c:{ch}" for ch in cjk)
                feats.extend(f"c:{a}{b}" for a, b in itertools.pairwise(cjk))
                word = "".join(ch for ch in word if not is_cjk(ch))
                if not word:
                    continue
            feats.append(f"w:{word}")
            padded = f" {word} "
            feats.extend(f"t:{padded[i : i + 3]}" for i in range(len(padded) - 2))
        return feats

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for feat in self._features(text):
            h = zlib.crc32(feat.encode("utf-8"))
            vec[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.calls += 1
        return np.stack([self._vector(t) for t in texts]).astype(np.float32, copy=False)
