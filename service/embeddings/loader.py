"""Loading the encoder the settings ask for: the real model in one of its runtimes, or the fake one."""

from __future__ import annotations

import logging
import os

from service.embeddings.encoder import (
    RUNTIME_ENV,
    Encoder,
    EncoderUnavailable,
    SentenceTransformerEncoder,
    default_model_path,
)
from service.embeddings.fake import FakeEncoder

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "onnx", "torch")


def load_encoder(
    backend: str = "real", path: str | None = None, device: str = "cpu", runtime: str = "auto"
) -> Encoder:
    """The encoder the settings ask for: ``"real"`` (the model in ``path``) or ``"fake"``.

    ``runtime`` picks how the real model runs: ``"onnx"`` (:class:`~.onnx_runtime.OnnxEncoder`: the
    bundled model's int8 ONNX export named by ``models/encoder.json``, no torch), ``"torch"``
    (:class:`SentenceTransformerEncoder`, any local sentence-transformers folder) or ``"auto"``: onnx
    for the bundled model on the CPU, else torch.
    """
    if backend == "fake":
        return FakeEncoder()
    if backend != "real":
        raise ValueError(f"unknown encoder backend {backend!r} (expected 'real' or 'fake')")
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown encoder runtime {runtime!r} (expected 'auto', 'onnx' or 'torch')")
    bundled = path is None or os.path.realpath(path) == os.path.realpath(default_model_path())
    if runtime == "onnx" and (device != "cpu" or not bundled):
        raise EncoderUnavailable(
            "Encoder unavailable: the onnx runtime serves the bundled model on the CPU only "
            f"(asked: {path or 'the bundled model'} on {device!r}); set {RUNTIME_ENV}=torch (or auto)."
        )
    encoder: Encoder
    if runtime in ("auto", "onnx") and device == "cpu" and bundled:
        from service.embeddings.onnx_runtime import OnnxEncoder

        onnx_encoder = OnnxEncoder()
        log.info("encoder runtime: onnx (%d threads, no torch)", onnx_encoder.threads)
        encoder = onnx_encoder
    else:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        encoder = SentenceTransformerEncoder(path, device=device)
        log.info(
            "encoder runtime: torch (%s)", "asked for" if runtime == "torch" else "not the bundled model"
        )
    log.info(
        "encoder loaded: %s %s (%d dims) from %s",
        encoder.name,
        encoder.version,
        encoder.dim,
        getattr(encoder, "path", "?"),
    )
    return encoder


def multilingual_wanted(setting: bool | None, backend: str) -> bool:
    """Whether the multilingual channel is on: ``TALENTMATCH_MULTILINGUAL`` when set, else on with the
    real encoder and off with the fake one (tests ask for it explicitly)."""
    return setting if setting is not None else backend == "real"


def attach_multilingual(encoder: Encoder, setting: bool | None, backend: str) -> Encoder | None:
    """Load the multilingual encoder when :func:`multilingual_wanted` and attach it to ``encoder`` as
    its second channel (:func:`~service.embeddings.encoder.companion`); returns it, or None."""
    from service.embeddings.encoder import attach_companion
    from service.embeddings.multilingual import load_multilingual

    multilingual = load_multilingual() if multilingual_wanted(setting, backend) else None
    attach_companion(encoder, multilingual)
    if multilingual is not None:
        log.info(
            "multilingual channel: %s %s (%d dims)", multilingual.name, multilingual.version, multilingual.dim
        )
    return multilingual
