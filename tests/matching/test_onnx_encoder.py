"""The served encoder: the int8 ONNX export of all-MiniLM-L6-v2 agrees with sentence-transformers, loads
no torch, is what ``auto`` picks for the bundled model, and says how to rebuild a missing file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from service.embeddings import loader as loader_module
from service.embeddings import onnx_runtime
from service.embeddings.encoder import EncoderUnavailable, SentenceTransformerEncoder
from service.embeddings.loader import load_encoder
from service.embeddings.onnx_runtime import OnnxEncoder, OnnxSentenceEncoder
from training.export_onnx import CHECK_PHRASES

pytestmark = pytest.mark.real_encoder
REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "models" / "encoder.json"


@lru_cache(maxsize=1)
def encoders() -> tuple[OnnxEncoder, SentenceTransformerEncoder]:
    served = load_encoder("real", runtime="auto")
    reference = load_encoder("real", runtime="torch")
    assert isinstance(served, OnnxEncoder)
    assert isinstance(reference, SentenceTransformerEncoder)
    return served, reference


def test_served_int8_vectors_agree_with_sentence_transformers() -> None:
    served, reference = encoders()
    ours, theirs = served.encode(CHECK_PHRASES), reference.encode(CHECK_PHRASES)
    assert ours.shape == theirs.shape == (len(CHECK_PHRASES), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * theirs).sum(axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.99, (CHECK_PHRASES[worst], float(cosines.min()))
    assert cosines.mean() >= 0.998


def test_same_skill_stays_closer_than_a_different_one() -> None:
    served, _ = encoders()
    plc, plc_en, robot, welding, soldering = served.encode(
        [
            "PLC programming",
            "programmable logic controller programming",
            "industrial robot programming",
            "welding",
            "arc welding",
        ]
    )
    assert plc @ plc_en > plc @ robot
    assert welding @ soldering > welding @ robot


def test_fp32_export_agrees_closer_than_int8() -> None:
    fp32 = MANIFEST.parent / "encoder" / "all-MiniLM-L6-v2.fp32.onnx"
    if not fp32.is_file():
        pytest.skip("the fp32 export is not committed; python -m training.export_onnx builds it")
    _, reference = encoders()
    runtime = OnnxSentenceEncoder(fp32, MANIFEST.parent / "encoder" / "tokenizer.json")
    cosines = (runtime.encode(CHECK_PHRASES) * reference.encode(CHECK_PHRASES)).sum(axis=1)
    assert cosines.min() >= 0.9999


def test_identity_names_the_model_and_the_served_file() -> None:
    served, reference = encoders()
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert served.name == reference.name == "all-MiniLM-L6-v2"
    assert served.version != reference.version  # int8 vectors are cached apart from torch's
    assert served.version.endswith("+onnx-" + manifest["onnx"]["int8_sha256"][:12])
    assert served.multilingual is False and served.dim == 384


def test_batches_do_not_change_a_phrase_much() -> None:
    served, _ = encoders()
    alone = served.encode(["PLC programming"])[0]
    among = served.encode(["PLC programming", "maintain and repair industrial robots " * 60, "焊接"])[0]
    assert alone @ among >= 0.995


PROBE = """
import sys
import service.app
from service.embeddings.loader import load_encoder
enc = load_encoder("real")
enc.encode(["CNC machining", "PLC S7-1200", "数控机床加工", "welding"] * 16)
print(type(enc).__name__, ",".join(m for m in ("torch", "sentence_transformers") if m in sys.modules) or "-")
"""


def test_default_runtime_never_imports_torch() -> None:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stdout.split() == ["OnnxEncoder", "-"]


def test_missing_served_file_says_how_to_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    (tmp_path / "encoder.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(onnx_runtime, "manifest_path", lambda: tmp_path / "encoder.json")
    with pytest.raises(EncoderUnavailable, match=r"training\.export_onnx"):
        load_encoder("real", runtime="onnx")
    (tmp_path / "encoder.json").write_text("{}", encoding="utf-8")
    with pytest.raises(EncoderUnavailable, match="manifest"):
        load_encoder("real", runtime="auto")


def test_runtime_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: list[tuple[str | None, str]] = []

    class Recorder(SentenceTransformerEncoder):
        def __init__(self, path: str | None = None, device: str = "cpu") -> None:
            made.append((path, device))
            self.name, self.version, self.dim, self.path = "recorded", "1", 384, "-"

    monkeypatch.setattr(loader_module, "SentenceTransformerEncoder", Recorder)
    assert isinstance(load_encoder("real", None, "cuda", runtime="auto"), Recorder)
    assert isinstance(load_encoder("real", None, "cpu", runtime="torch"), Recorder)
    assert isinstance(load_encoder("real", str(tmp_path), "cpu", runtime="auto"), Recorder)
    assert isinstance(load_encoder("real", None, "cpu", runtime="onnx"), OnnxEncoder)
    assert made == [(None, "cuda"), (None, "cpu"), (str(tmp_path), "cpu")]
    with pytest.raises(EncoderUnavailable, match="CPU only"):
        load_encoder("real", None, "cuda", runtime="onnx")
    with pytest.raises(EncoderUnavailable, match="bundled model"):
        load_encoder("real", str(tmp_path), "cpu", runtime="onnx")
    with pytest.raises(ValueError, match="unknown encoder runtime"):
        load_encoder("real", None, "cpu", runtime="numpy")
