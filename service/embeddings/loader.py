"""Loading the encoder the settings ask for: the real model in one of its runtimes, or the fake one."""

from __future__ import annotations

import logging
import os

from service.embeddings.bert_numpy import NumpyBertEncoder, UnsupportedModel
from service.embeddings.encoder import RUNTIME_ENV, Encoder, EncoderUnavailable, SentenceTransformerEncoder
from service.embeddings.fake import FakeEncoder

log = logging.getLogger(__name__)


def load_encoder(
    backend: str = "real", path: str | None = None, device: str = "cpu", runtime: str = "auto"
) -> Encoder:
    """The encoder the settings ask for: ``"real"`` (the model in ``path``) or ``"fake"``.

    ``runtime`` picks how the real model runs: ``"numpy"`` (:class:`NumpyBertEncoder`, no torch),
    ``"torch"`` (:class:`SentenceTransformerEncoder`) or ``"auto"``: numpy when the device is the CPU
    and the folder holds a model it implements, else torch.
    """
    if backend == "fake":
        return FakeEncoder()
    if backend != "real":
        raise ValueError(f"unknown encoder backend {backend!r} (expected 'real' or 'fake')")
    if runtime not in ("auto", "numpy", "torch"):
        raise ValueError(f"unknown encoder runtime {runtime!r} (expected 'auto', 'numpy' or 'torch')")
    encoder: Encoder | None = None
    if runtime == "numpy" and device != "cpu":
        raise EncoderUnavailable(
            f"Encoder unavailable: the numpy runtime runs on the CPU only, not on {device!r}; "
            f"set {RUNTIME_ENV}=torch (or auto), or the device to 'cpu'."
        )
    if runtime == "auto" and device != "cpu":
        log.info("encoder runtime: torch (device %s; the numpy runtime is CPU only)", device)
    elif runtime in ("auto", "numpy"):
        try:
            encoder = NumpyBertEncoder(path)
        except UnsupportedModel as exc:
            if runtime == "numpy":
                raise EncoderUnavailable(
                    f"Encoder unavailable: the numpy runtime cannot run the model in {path or 'the package'} "
                    f"({exc}); set {RUNTIME_ENV}=torch (or auto)."
                ) from exc
            log.info("encoder runtime: torch (the numpy runtime does not support this model: %s)", exc)
        else:
            log.info("encoder runtime: numpy (no torch)")
    if encoder is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        encoder = SentenceTransformerEncoder(path, device=device)
        if runtime == "torch":
            log.info("encoder runtime: torch (asked for)")
    log.info(
        "encoder loaded: %s %s (%d dims) from %s",
        encoder.name,
        encoder.version,
        encoder.dim,
        getattr(encoder, "path", "?"),
    )
    return encoder
