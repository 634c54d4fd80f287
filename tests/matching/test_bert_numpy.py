"""The torch-free numpy runtime gives sentence-transformers' vectors, loads no torch, and falls back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from service.embeddings import loader as encoder_module
from service.embeddings.bert_numpy import NumpyBertEncoder, UnsupportedModel
from service.embeddings.encoder import EncoderUnavailable, SentenceTransformerEncoder, default_model_path
from service.embeddings.loader import load_encoder

pytestmark = pytest.mark.real_encoder
REPO = Path(__file__).resolve().parents[2]

PHRASES = [
    "CNC machining",
    "operate CNC machine",
    "CNC",
    "PLC S7-1200",
    "PLC programming (Siemens TIA Portal)",
    "G-code",
    "read engineering drawings",
    "quality inspection",
    "welding",
    "TIG welding of stainless steel",
    "Microsoft Excel",
    "Excel",
    "JavaScript",
    "JS",
    "Python programming",
    "SQL",
    "machine learning",
    "customer service",
    "forklift operation",
    "electrical wiring",
    "hydraulic systems maintenance",
    "AutoCAD",
    "SolidWorks 3D modelling",
    "first aid",
    "bake bread",
    "hotel reception",
    "piano",
    "C++",
    "C#",
    ".NET",
    "数控机床加工",
    "数控加工",
    "焊接",
    "会计",
    "Python 编程",
    "Java 编程",
    "烹饪",
    "Ünïcödé café résumé",
    "  spaced   out\ttext \n",
    "",
    "maintain and repair industrial robots " * 60,  # far longer than max_seq_length (256) tokens
]


@lru_cache(maxsize=1)
def runtimes() -> tuple[NumpyBertEncoder, SentenceTransformerEncoder]:
    numpy_enc = load_encoder("real", runtime="numpy")
    torch_enc = load_encoder("real", runtime="torch")
    assert isinstance(numpy_enc, NumpyBertEncoder)
    assert isinstance(torch_enc, SentenceTransformerEncoder)
    return numpy_enc, torch_enc


def assert_same_vectors(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype == np.float32
    assert np.abs(a - b).max() < 1e-4
    assert (np.sum(a * b, axis=1) > 0.9999).all()


def test_numpy_runtime_gives_the_sentence_transformers_vectors() -> None:
    numpy_enc, torch_enc = runtimes()
    assert (numpy_enc.name, numpy_enc.version, numpy_enc.dim) == (torch_enc.name, torch_enc.version, 384)
    assert numpy_enc.multilingual == torch_enc.multilingual and numpy_enc.path == torch_enc.path
    ours, theirs = numpy_enc.encode(PHRASES), torch_enc.encode(PHRASES)
    assert_same_vectors(ours, theirs)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_batches_padding_and_truncation_do_not_change_a_vector() -> None:
    numpy_enc, _ = runtimes()
    together = numpy_enc.encode(PHRASES)
    one_by_one = np.vstack([numpy_enc.encode([p]) for p in PHRASES])
    assert np.abs(together - one_by_one).max() < 1e-5  # padded keys are masked, order is restored
    # Both are cut at max_seq_length tokens, so they are the same text to the model.
    long, longer = numpy_enc.encode(["maintain and repair industrial robots " * n for n in (60, 90)])
    assert np.abs(long - longer).max() < 1e-6


def test_calls_count_encode_calls_and_an_empty_list_is_free() -> None:
    numpy_enc, _ = runtimes()
    before = numpy_enc.calls
    assert numpy_enc.encode(PHRASES * 4).shape == (len(PHRASES) * 4, 384)  # several batches, one call
    numpy_enc.encode(["welding"])
    assert numpy_enc.calls == before + 2
    empty = numpy_enc.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    assert numpy_enc.calls == before + 2


def test_concurrent_encodes_give_the_serial_vectors() -> None:
    numpy_enc, _ = runtimes()
    expected = numpy_enc.encode(PHRASES)
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(numpy_enc.encode(PHRASES))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(np.array_equal(r, expected) for r in results)


RSS_PROBE = """
import sys
import service.app
from service.embeddings.loader import load_encoder
enc = load_encoder("real", runtime=sys.argv[1])
enc.encode(["CNC machining", "PLC S7-1200", "数控机床加工", "Python 编程", "welding"] * 13)
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:"))
loaded = [m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules]
print(type(enc).__name__, rss // 1024, ",".join(loaded) or "-")
"""


def _probe(runtime: str) -> tuple[str, int, str]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    done = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, runtime],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    kind, rss, loaded = done.stdout.split()
    return kind, int(rss), loaded


def test_auto_runtime_never_imports_torch_and_stays_small() -> None:
    # Measured on the 2-core dev machine: about 200 MB with the numpy runtime, 550 MB with torch.
    kind, numpy_rss, loaded = _probe("auto")
    torch_kind, torch_rss, torch_loaded = _probe("torch")
    print(f"resident after load + encode: numpy {numpy_rss} MB, torch {torch_rss} MB")
    assert kind == "NumpyBertEncoder" and loaded == "-"
    assert torch_kind == "SentenceTransformerEncoder" and "torch" in torch_loaded
    assert numpy_rss < 300
    assert torch_rss - numpy_rss > 200


def _linked_copy(src: Path, dst: Path, skip: tuple[str, ...] = ()) -> Path:
    """``dst`` with a symlink to every file of ``src`` except ``skip`` (relative paths)."""
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if path.is_file() and str(rel) not in skip:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            (dst / rel).symlink_to(path)
    return dst


def test_a_folder_without_weights_is_unavailable_with_advice(tmp_path: Path) -> None:
    src = default_model_path()
    folder = tmp_path / "no-weights"
    for name in ("modules.json", "config.json", "sentence_bert_config.json", "tokenizer.json"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / name, folder / name)
    (folder / "1_Pooling").mkdir()
    shutil.copy(src / "1_Pooling" / "config.json", folder / "1_Pooling" / "config.json")
    for runtime in ("numpy", "auto"):
        with pytest.raises(EncoderUnavailable, match="no model weights found"):
            load_encoder("real", str(folder), runtime=runtime)


def test_broken_weights_or_config_are_unavailable(tmp_path: Path) -> None:
    src = default_model_path()
    folder = _linked_copy(src, tmp_path / "broken", skip=("model.safetensors",))
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(EncoderUnavailable, match=r"loading .* failed"):
        load_encoder("real", str(folder), runtime="numpy")
    folder = _linked_copy(src, tmp_path / "bad-config", skip=("config.json",))
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}), encoding="utf-8")
    with pytest.raises(EncoderUnavailable, match=r"configuration .* is broken"):
        load_encoder("real", str(folder), runtime="numpy")


def _extra_normalize(tmp_path: Path) -> Path:
    """The real model with a second Normalize module: harmless, but not a pipeline numpy runs."""
    src = default_model_path()
    folder = _linked_copy(src, tmp_path / "minilm-normalized-twice", skip=("modules.json",))
    modules = json.loads((src / "modules.json").read_text(encoding="utf-8"))
    modules.append(
        {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"}
    )
    (folder / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    return folder


def test_unsupported_modules_fall_back_to_sentence_transformers_on_auto(tmp_path: Path) -> None:
    folder = _extra_normalize(tmp_path)
    with pytest.raises(UnsupportedModel, match="modules"):
        NumpyBertEncoder(str(folder))
    with pytest.raises(EncoderUnavailable, match=r"cannot run the model .*RUNTIME=torch"):
        load_encoder("real", str(folder), runtime="numpy")
    fallback = load_encoder("real", str(folder), runtime="auto")
    assert isinstance(fallback, SentenceTransformerEncoder)
    assert fallback.name == "minilm-normalized-twice" and fallback.version == runtimes()[0].version[-12:]
    assert_same_vectors(fallback.encode(PHRASES[:8]), runtimes()[0].encode(PHRASES[:8]))


def test_auto_uses_torch_off_the_cpu_and_numpy_refuses_another_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[tuple[str | None, str]] = []

    class Recorder(SentenceTransformerEncoder):
        def __init__(self, path: str | None = None, device: str = "cpu") -> None:
            made.append((path, device))
            self.name, self.version, self.dim, self.path = "recorded", "1", 384, "-"

    monkeypatch.setattr(encoder_module, "SentenceTransformerEncoder", Recorder)
    assert isinstance(load_encoder("real", None, "cuda", runtime="auto"), Recorder)
    assert isinstance(load_encoder("real", None, "cpu", runtime="torch"), Recorder)
    assert isinstance(load_encoder("real", None, "cpu", runtime="auto"), NumpyBertEncoder)
    assert made == [(None, "cuda"), (None, "cpu")]
    with pytest.raises(EncoderUnavailable, match="CPU only"):
        load_encoder("real", None, "cuda", runtime="numpy")
    with pytest.raises(ValueError, match="unknown encoder runtime"):
        load_encoder("real", None, "cpu", runtime="onnx")


def _tiny_model(folder: Path, kind: str, act: str, pooling: str, prefix: str) -> Path:
    """A small random BERT or XLM-R in a sentence-transformers folder (the MiniLM tokenizer)."""
    import torch
    from safetensors.numpy import load_file, save_file
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    sizes = {
        "vocab_size": 30522,
        "hidden_size": 48,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 96,
        "hidden_act": act,
        "initializer_range": 0.3,  # large weights, so that positions and words change the vector
    }
    if kind == "bert":
        model: torch.nn.Module = BertModel(BertConfig(**sizes, max_position_embeddings=64))
    else:  # positions from pad_token_id + 1 = 2, as XLM-R numbers them
        config = XLMRobertaConfig(**sizes, max_position_embeddings=66, pad_token_id=1, type_vocab_size=1)
        model = XLMRobertaModel(config)
    model.save_pretrained(folder)
    if prefix:  # as a checkpoint of a model with a head names them
        tensors = load_file(folder / "model.safetensors")
        save_file({prefix + k: v for k, v in tensors.items()}, str(folder / "model.safetensors"))
    src = default_model_path()
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copy(src / name, folder / name)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    sbert = {"max_seq_length": 32, "do_lower_case": False}
    (folder / "sentence_bert_config.json").write_text(json.dumps(sbert), encoding="utf-8")
    (folder / "1_Pooling").mkdir()
    pool = {"embedding_dimension": 48, "pooling_mode": pooling}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pool), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("kind", "act", "pooling", "prefix"),
    [
        ("bert", "gelu_new", "cls", "bert."),
        ("xlm-roberta", "gelu", "mean", ""),
        ("xlm-roberta", "gelu", "mean", "roberta."),
    ],
)
def test_other_bert_variants_match_sentence_transformers(
    tmp_path: Path, kind: str, act: str, pooling: str, prefix: str
) -> None:
    folder = _tiny_model(tmp_path / f"tiny-{kind}", kind, act, pooling, prefix)
    ours = NumpyBertEncoder(str(folder))
    theirs = SentenceTransformerEncoder(str(folder))
    assert (ours.name, ours.version, ours.dim) == (theirs.name, theirs.version, 48)
    assert_same_vectors(ours.encode(PHRASES), theirs.encode(PHRASES))


def test_fast_erf_is_within_5e_7_of_the_exact_one() -> None:
    from scipy.special import erf as exact

    from service.embeddings.bert_numpy import erf

    x = np.concatenate(
        [np.linspace(-12, 12, 200_001), np.random.default_rng(3).normal(0, 2, 100_000)]
    ).astype(np.float32)
    got = erf(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    assert np.abs(got - exact(x.astype(np.float64))).max() < 5e-7
    assert erf(np.array([0.0, 100.0, -100.0], dtype=np.float32)).tolist() == [0.0, 1.0, -1.0]
    inplace = x[:1000].reshape(10, 100).copy()
    assert np.array_equal(erf(inplace, out=inplace), got[:1000].reshape(10, 100))
