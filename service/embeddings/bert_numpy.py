"""A torch-free runtime for BERT sentence-transformers models: the forward pass in numpy.

:class:`NumpyBertEncoder` reads the same local folder as
:class:`~service.embeddings.encoder.SentenceTransformerEncoder` (``modules.json``, ``config.json``,
``sentence_bert_config.json``, ``1_Pooling/config.json``, ``model.safetensors``, ``tokenizer.json``) and
gives the same vectors (within float32 rounding), under the same name and version, so both runtimes
share the phrase cache. It needs numpy, ``tokenizers`` and
``safetensors``; it never imports torch, which saves about 350 MB resident.

Supported: a Transformer -> Pooling [-> Normalize] pipeline over a BERT encoder (``model_type``
"bert", or "roberta"/"xlm-roberta" whose positions start at ``pad_token_id + 1``), mean or CLS
pooling, absolute position embeddings, ``hidden_act`` "gelu" (erf) or "gelu_new"/"gelu_pytorch_tanh"
(tanh). Anything else raises :class:`UnsupportedModel`, so the caller can load sentence-transformers
instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from service.embeddings.encoder import EncoderUnavailable, LocalModelEncoder, model_folder, unavailable_help

_MODEL_TYPES = ("bert", "roberta", "xlm-roberta")
# The largest attention score tensor one batch may build (batch x heads x length x length floats).
_SCORE_BUDGET = 1 << 23


class UnsupportedModel(ValueError):
    """The folder holds a model this runtime does not implement; sentence-transformers may load it."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise EncoderUnavailable(
            unavailable_help(f"{path} cannot be read ({exc.__class__.__name__}: {exc})")
        ) from exc


def _module_type(entry: dict[str, Any]) -> str:
    # Older folders name the class "sentence_transformers.models.Pooling"; newer ones may add
    # a submodule path (".models.Pooling.Pooling"); compare the last class name only.
    return str(entry.get("type", "")).rsplit(".", 1)[-1]


def _check_modules(folder: Path) -> str:
    """The pooling module's folder, once the pipeline is Transformer -> Pooling [-> Normalize]."""
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise EncoderUnavailable(unavailable_help(f"{folder / 'modules.json'} is not a list of modules"))
    modules = sorted(modules, key=lambda m: int(m.get("idx", 0)))
    kinds = [_module_type(m) for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModel(f"modules {kinds} (expected Transformer, Pooling[, Normalize])")
    if modules[0].get("path", "") not in ("", "."):
        raise UnsupportedModel(f"the Transformer module lives in {modules[0].get('path')!r}")
    return str(modules[1].get("path") or "1_Pooling")


_LEGACY_POOLING = {"pooling_mode_cls_token": "cls", "pooling_mode_mean_tokens": "mean"}


def _pooling_mode(pool: dict[str, Any]) -> str:
    """The pooling ("mean" or "cls"), read as sentence-transformers reads a Pooling config."""
    mode = pool.get("pooling_mode")
    if mode is None:  # older configs: one flag per mode; no flag set means mean pooling
        flags = [key for key, on in pool.items() if key.startswith("pooling_mode_") and on]
        mode = [_LEGACY_POOLING.get(key, key) for key in flags] or ["mean"]
    modes = [mode] if isinstance(mode, str) else list(mode)
    if modes not in (["mean"], ["cls"]):
        raise UnsupportedModel(f"pooling {modes} (only mean or CLS pooling)")
    return str(modes[0])


@dataclass(frozen=True)
class _Config:
    model_type: str
    hidden: int
    heads: int
    layers: int
    eps: float
    act: str
    max_len: int
    lower: bool
    pooling: str
    position_offset: int  # 0 for BERT; pad_token_id + 1 for RoBERTa
    pad_id: int


def _read_config(folder: Path) -> _Config:
    pooling_dir = _check_modules(folder)
    try:
        cfg = _read_json(folder / "config.json")
    except FileNotFoundError as exc:
        raise EncoderUnavailable(unavailable_help(f"{folder / 'config.json'} is missing")) from exc
    model_type = str(cfg.get("model_type", ""))
    if model_type not in _MODEL_TYPES:
        raise UnsupportedModel(f"model_type {model_type!r}")
    if cfg.get("position_embedding_type", "absolute") != "absolute":
        raise UnsupportedModel(f"position_embedding_type {cfg.get('position_embedding_type')!r}")
    act = str(cfg.get("hidden_act", "gelu"))
    if act not in ("gelu", "gelu_new", "gelu_pytorch_tanh"):
        raise UnsupportedModel(f"hidden_act {act!r}")
    if cfg.get("is_decoder") or cfg.get("add_cross_attention"):
        raise UnsupportedModel("a decoder model")
    try:
        sbert = _read_json(folder / "sentence_bert_config.json")
    except FileNotFoundError:
        sbert = {}
    try:
        pool = _read_json(folder / pooling_dir / "config.json")
    except FileNotFoundError as exc:
        raise EncoderUnavailable(
            unavailable_help(f"{folder / pooling_dir / 'config.json'} is missing")
        ) from exc
    pooling = _pooling_mode(pool)
    try:
        st_config = _read_json(folder / "config_sentence_transformers.json")
    except FileNotFoundError:
        st_config = {}
    if st_config.get("default_prompt_name"):
        raise UnsupportedModel(f"a default prompt ({st_config['default_prompt_name']!r})")
    hidden = int(cfg["hidden_size"])
    dim = pool.get("embedding_dimension", pool.get("word_embedding_dimension"))
    if dim is not None and int(dim) != hidden:
        raise UnsupportedModel(f"pooling dimension {dim} differs from the hidden size {hidden}")
    pad_id = int(cfg.get("pad_token_id") or 0)
    offset = 0 if model_type == "bert" else pad_id + 1
    positions = int(cfg.get("max_position_embeddings", 512)) - offset
    max_len = int(sbert.get("max_seq_length") or positions)
    return _Config(
        model_type=model_type,
        hidden=hidden,
        heads=int(cfg["num_attention_heads"]),
        layers=int(cfg["num_hidden_layers"]),
        eps=float(cfg.get("layer_norm_eps", 1e-12)),
        act=act,
        max_len=min(max_len, positions),
        lower=bool(sbert.get("do_lower_case", False)),
        pooling=pooling,
        position_offset=offset,
        pad_id=pad_id,
    )


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3 * hidden): query, key and value side by side
    qkv_b: np.ndarray
    attn_out_w: np.ndarray
    attn_out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    inter_w: np.ndarray
    inter_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


class _Weights:
    """The model's tensors, float32 and contiguous, linear weights transposed for ``x @ W + b``."""

    def __init__(self, tensors: dict[str, np.ndarray], config: _Config) -> None:
        prefix = self._prefix(tensors)
        self._tensors = tensors
        self._prefix_str = prefix
        self.word = self._take("embeddings.word_embeddings.weight")
        self.position = self._take("embeddings.position_embeddings.weight")
        if f"{prefix}embeddings.token_type_embeddings.weight" in tensors:
            self.token_type = self._take("embeddings.token_type_embeddings.weight")[0].copy()
        else:
            self.token_type = np.zeros(config.hidden, dtype=np.float32)
        self.emb_ln_g = self._take("embeddings.LayerNorm.weight")
        self.emb_ln_b = self._take("embeddings.LayerNorm.bias")
        self.layers = [self._layer(i) for i in range(config.layers)]
        if self.word.shape[1] != config.hidden:
            raise UnsupportedModel(f"word embeddings of width {self.word.shape[1]} != {config.hidden}")
        if self.position.shape[0] < config.max_len + config.position_offset:
            raise UnsupportedModel("fewer position embeddings than max_seq_length needs")
        del self._tensors

    @staticmethod
    def _prefix(tensors: dict[str, np.ndarray]) -> str:
        for key in tensors:
            if key.endswith("embeddings.word_embeddings.weight"):
                return key[: -len("embeddings.word_embeddings.weight")]
        raise UnsupportedModel("no embeddings.word_embeddings.weight tensor in the weights")

    def _take(self, name: str, transpose: bool = False) -> np.ndarray:
        key = self._prefix_str + name
        if key not in self._tensors:
            raise UnsupportedModel(f"the weights have no tensor {key!r}")
        array = self._tensors.pop(key)
        array = array.T if transpose else array
        return np.ascontiguousarray(array, dtype=np.float32)

    def _layer(self, i: int) -> _Layer:
        p = f"encoder.layer.{i}."
        parts = ("query", "key", "value")
        qkv_w = np.concatenate([self._take(f"{p}attention.self.{n}.weight", True) for n in parts], axis=1)
        qkv_b = np.concatenate([self._take(f"{p}attention.self.{n}.bias") for n in parts])
        return _Layer(
            qkv_w=np.ascontiguousarray(qkv_w),
            qkv_b=qkv_b,
            attn_out_w=self._take(f"{p}attention.output.dense.weight", True),
            attn_out_b=self._take(f"{p}attention.output.dense.bias"),
            ln1_g=self._take(f"{p}attention.output.LayerNorm.weight"),
            ln1_b=self._take(f"{p}attention.output.LayerNorm.bias"),
            inter_w=self._take(f"{p}intermediate.dense.weight", True),
            inter_b=self._take(f"{p}intermediate.dense.bias"),
            out_w=self._take(f"{p}output.dense.weight", True),
            out_b=self._take(f"{p}output.dense.bias"),
            ln2_g=self._take(f"{p}output.LayerNorm.weight"),
            ln2_b=self._take(f"{p}output.LayerNorm.bias"),
        )


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(np.square(centred), axis=-1, keepdims=True)
    centred *= 1.0 / np.sqrt(var + np.float32(eps))
    centred *= gain
    centred += bias
    return centred


# Eigen's float32 rational approximation of erf on [-4, 4] (odd numerator of degree 13 over an even
# denominator of degree 8); |error| < 5e-7 against the exact erf, about 5x faster than scipy's erf here.
_ERF_NUM = tuple(
    np.float32(c)
    for c in (
        -2.72614225801306e-10,
        2.77068142495902e-08,
        -2.10102402082508e-06,
        -5.69250639462346e-05,
        -7.34990630326855e-04,
        -2.95459980854025e-03,
        -1.60960333262415e-02,
    )
)
_ERF_DEN = tuple(
    np.float32(c)
    for c in (
        -1.45660718464996e-05,
        -2.13374055278905e-04,
        -1.68282697438203e-03,
        -7.37332916720468e-03,
        -1.42647390514189e-02,
    )
)
_CHUNK = 1 << 16  # elements per step: the temporaries stay in the CPU cache


def erf(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """float32 erf of ``x`` (any shape), into ``out`` when given (may be ``x`` itself)."""
    if out is None:
        out = np.empty_like(x, dtype=np.float32)
    flat_in = x.reshape(-1)
    flat_out = out.reshape(-1)
    for start in range(0, flat_in.size, _CHUNK):
        xc = np.clip(flat_in[start : start + _CHUNK], np.float32(-4.0), np.float32(4.0))
        x2 = xc * xc
        num = x2 * _ERF_NUM[0]
        num += _ERF_NUM[1]
        for c in _ERF_NUM[2:]:
            num *= x2
            num += c
        num *= xc
        den = x2 * _ERF_DEN[0]
        den += _ERF_DEN[1]
        for c in _ERF_DEN[2:]:
            den *= x2
            den += c
        np.divide(num, den, out=flat_out[start : start + _CHUNK])
    return out


def _gelu_erf(x: np.ndarray) -> np.ndarray:
    """x * Φ(x) with erf (:func:`erf`, within 5e-7 of the exact one), as torch's ``gelu``; overwrites
    ``x``."""
    y = x * np.float32(1.0 / math.sqrt(2.0))
    erf(y, out=y)
    y += np.float32(1.0)
    y *= np.float32(0.5)
    x *= y
    return x


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    """The tanh approximation of GELU (``gelu_new``); overwrites ``x``."""
    y = x * x
    y *= np.float32(0.044715)
    y += np.float32(1.0)
    y *= x
    y *= np.float32(math.sqrt(2.0 / math.pi))
    np.tanh(y, out=y)
    y += np.float32(1.0)
    y *= np.float32(0.5)
    x *= y
    return x


class NumpyBertEncoder(LocalModelEncoder):
    """A BERT sentence-transformers model run by numpy on the CPU; see the module docstring.

    Raises :class:`UnsupportedModel` for a model it does not implement and :class:`EncoderUnavailable`
    for a missing or broken folder.
    """

    def __init__(self, path: str | None = None) -> None:
        model = model_folder(path)
        folder = model.folder
        try:
            config = _read_config(folder)
        except (UnsupportedModel, EncoderUnavailable):
            raise
        except (KeyError, TypeError, ValueError) as exc:
            problem = f"the configuration in {folder} is broken ({exc.__class__.__name__}: {exc})"
            raise EncoderUnavailable(unavailable_help(problem)) from exc
        weights_path = folder / "model.safetensors"
        if not weights_path.is_file():
            raise UnsupportedModel(f"no model.safetensors in {folder} (only {model.weights.name})")
        if not (folder / "tokenizer.json").is_file():
            raise UnsupportedModel(f"no tokenizer.json in {folder}")
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tensors = load_file(str(weights_path))
        except Exception as exc:
            problem = f"loading {folder} failed ({exc.__class__.__name__}: {exc})"
            raise EncoderUnavailable(unavailable_help(problem)) from exc
        weights = _Weights(tensors, config)
        del tensors
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=config.max_len)
        self._tokenizer = tokenizer
        self._config = config
        self._w = weights
        self._act: Callable[[np.ndarray], np.ndarray] = _gelu_erf if config.act == "gelu" else _gelu_tanh
        self._identify(model, config.hidden)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._config.lower:
            texts = [t.lower() for t in texts]
        ids = [np.asarray(e.ids, dtype=np.int64) for e in self._tokenizer.encode_batch(texts)]
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        heads = self._config.heads
        start = 0
        while start < len(order):
            # Sorted by length, so a batch pads little; long texts go in smaller batches so that the
            # attention scores stay within _SCORE_BUDGET.
            longest = max(1, int(lengths[order[min(start + self.batch_size, len(order)) - 1]]))
            size = max(1, min(self.batch_size, _SCORE_BUDGET // (heads * longest * longest)))
            chunk = order[start : start + size]
            out[chunk] = self._forward([ids[i] for i in chunk], lengths[chunk])
            start += len(chunk)
        return out

    def _forward(self, ids: list[np.ndarray], lengths: np.ndarray) -> np.ndarray:
        """The unit vectors of one batch of token id sequences (``lengths`` their lengths)."""
        cfg, w = self._config, self._w
        n, width = len(ids), max(1, int(lengths.max()))
        hidden, heads = cfg.hidden, cfg.heads
        head_dim = hidden // heads
        mask = np.arange(width)[None, :] < lengths[:, None]
        # The dense layers see only the real tokens, as rows of one 2-D array: no work on padding,
        # and one matrix product per layer (numpy runs 3-D @ 2-D as one small product per sequence).
        # Attention scatters them into a padded (n, width) layout.
        real = np.flatnonzero(mask.reshape(-1))
        padded = len(real) < n * width
        token_ids = np.concatenate(ids)
        positions = np.concatenate([np.arange(k) for k in lengths]) + cfg.position_offset
        x = w.word[token_ids] + w.position[positions] + w.token_type
        x = _layer_norm(x, w.emb_ln_g, w.emb_ln_b, cfg.eps)
        # Padded keys get a large negative score: their softmax weight is exactly 0.
        key_bias = np.where(mask, np.float32(0.0), np.float32(-1e9)).astype(np.float32)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for layer in w.layers:
            qkv = x @ layer.qkv_w
            qkv += layer.qkv_b
            if padded:
                grid = np.zeros((n * width, 3 * hidden), dtype=np.float32)
                grid[real] = qkv
                qkv = grid
            q, k, v = qkv.reshape(n, width, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= scale
            scores += key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n * width, hidden)
            if padded:
                context = context[real]
            attn = context @ layer.attn_out_w
            attn += layer.attn_out_b
            attn += x
            x = _layer_norm(attn, layer.ln1_g, layer.ln1_b, cfg.eps)
            inter = x @ layer.inter_w
            inter += layer.inter_b
            inter = self._act(inter)
            out = inter @ layer.out_w
            out += layer.out_b
            out += x
            x = _layer_norm(out, layer.ln2_g, layer.ln2_b, cfg.eps)
        # Each sequence's tokens are consecutive rows of x.
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        pooled = np.zeros((n, hidden), dtype=np.float32)
        some = lengths > 0
        if cfg.pooling == "cls":
            pooled[some] = x[starts[some]]
        elif some.any():
            pooled[some] = np.add.reduceat(x, starts[some], axis=0) / lengths[some, None].astype(np.float32)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32, copy=False)
