"""The lexical channel: hashed TF-IDF over character n-grams, whole tokens and CJK characters.

The encoder (all-MiniLM-L6-v2) is English-only and blurs tokens it does not know: acronyms, tool names,
versions, and every Chinese character. This channel carries them:

- ``g:`` character n-grams (2..4) of each Latin word, padded with spaces (scikit-learn's ``char_wb``);
- ``w:`` whole tokens, keeping the symbols that make a tool name (``c++``, ``c#``, ``.net``, ``node.js``,
  ``s7-1200``, ``tcp/ip``), plus their parts (``s7``, ``1200``);
- ``b:`` adjacent token pairs, so versions stay attached (``python 3`` differs from ``python 2``);
- ``u:``/``v:`` CJK character unigrams and bigrams (Chinese has no spaces; a bigram is the usual unit).

Features are hashed into ``N_FEATURES`` columns (no vocabulary to grow), weighted ``(1 + ln tf) * idf``
and L2-normalised, so the similarity of two phrases is a sparse dot product in [0, 1]. The hashing is
scikit-learn's ``HashingVectorizer`` mapping (MurmurHash3 x86 32-bit of the UTF-8 feature, seed 0, column
``abs(h) % N_FEATURES``, counts summed) reimplemented on the small ``mmh3`` package, and the English stop
words are scikit-learn's list copied to ``models/lexical_stop_words.txt``: serving does not import
scikit-learn (about 57 MB resident), and the columns are the ones the IDF table was fitted with.

The IDF table is fitted on O*NET phrases; features in more than 1 % of them are dropped (``MAX_DF``),
as are the character bigrams of a short list of generic Chinese skill words
(``models/lexical_zh_common.txt``); a feature never seen in the fit gets the largest IDF (rare means
informative), which is what makes Chinese work without a Chinese corpus. The fitted artefact is
``models/lexical_idf.npz`` (only the columns seen in the fit), rebuilt by
``python -m training.lexical_idf --build``. Loading it takes milliseconds.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import lru_cache, partial
from pathlib import Path

import mmh3
import numpy as np
import scipy.sparse as sp

from service.paths import models_dir
from service.text import CJK, normalize_phrase

N_FEATURES = 1 << 20
MAX_DF = 0.01
MODELS_DIR = models_dir()
IDF_PATH = MODELS_DIR / "lexical_idf.npz"
ZH_COMMON_PATH = MODELS_DIR / "lexical_zh_common.txt"
STOP_WORDS_PATH = MODELS_DIR / "lexical_stop_words.txt"

_ALNUM = rf"[^\W_{CJK}]"
_TOKEN = re.compile(
    rf"(?P<cjk>[{CJK}]+)"
    rf"|(?P<tok>\.?{_ALNUM}+(?:[.\-/]{_ALNUM}+)*[+#]*)",
)
_PARTS = re.compile(r"[.\-/]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_word_list(path: Path) -> list[str]:
    """The non-empty lines of a word list, without the ``#`` comment lines."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


_STOP = frozenset(read_word_list(STOP_WORDS_PATH))


def analyze(text: str, grams: bool = True) -> list[str]:
    """The features of one phrase (before hashing). Deterministic; see the module docstring.
    ``grams=False`` leaves out the character n-grams of Latin-script words (a cheaper, coarser row)."""
    norm = normalize_phrase(text)
    feats: list[str] = []
    prev: str | None = None
    for match in _TOKEN.finditer(norm):
        cjk = match.group("cjk")
        if cjk:
            feats.extend("u:" + ch for ch in cjk)
            feats.extend("v:" + cjk[i : i + 2] for i in range(len(cjk) - 1))
            prev = None
            continue
        tok = match.group("tok")
        if tok in _STOP:
            prev = None
            continue
        feats.append("w:" + tok)
        parts = [p for p in _PARTS.split(tok) if p]
        if len(parts) > 1 or (parts and parts[0] != tok):
            feats.extend("w:" + p for p in parts if p not in _STOP)
        if prev is not None:
            feats.append(f"b:{prev} {tok}")
        prev = tok
        if not grams:
            continue
        for part in parts:
            padded = f" {part} "
            size = len(padded)
            for n in (2, 3, 4):
                feats.extend("g:" + padded[i : i + n] for i in range(size - n + 1))
    return feats


def latin_share(texts: Iterable[str]) -> np.ndarray:
    """Per text, the share of its letters and digits that are not CJK (1.0 for English, 0.0 for Chinese).

    The scorer trusts an English-only encoder only as far as both sides of a pair are non-CJK.
    A text with no letters at all counts as 1.0.
    """
    out = []
    for text in texts:
        if text.isascii():  # no CJK character is ASCII
            out.append(1.0)
            continue
        total = 0
        cjk = 0
        for match in _TOKEN.finditer(text):
            seg = match.group(0)
            total += len(seg)
            if match.group("cjk"):
                cjk += len(seg)
        out.append(1.0 - cjk / total if total else 1.0)
    return np.asarray(out, dtype=np.float32)


def _hash_bytes(feature: str) -> int:
    """Signed MurmurHash3 x86 32-bit of the feature's UTF-8 bytes, seed 0.

    ``mmh3.hash`` of a ``str`` is the same and faster, but crashes the process (segfault, mmh3 5.3.1) on a
    lone surrogate; encoding first raises ``UnicodeEncodeError`` instead, as scikit-learn does.
    """
    return mmh3.hash(feature.encode("utf-8"), 0, True)


def _column(feature: str) -> int:
    """The column of one feature: scikit-learn's ``FeatureHasher`` mapping.

    scikit-learn takes ``abs(h) % n`` of the hash, except that for ``h == -2**31`` (where C's ``abs`` is
    undefined) it uses ``(2**31 - 1 - (n - 1)) % n``, which equals ``2**31 % n``: Python's exact ``abs``
    (and numpy's on int64, as in :func:`_hash_rows`) gives the same.
    """
    return abs(_hash_bytes(feature)) % N_FEATURES


_CHUNK = 1 << 16  # hashes held as Python ints before they go to a numpy array (bounds the peak memory)


def _columns(hashes: list[int]) -> np.ndarray:
    """int32 columns of signed 32-bit hashes; abs on int64 is exact at ``-2**31`` (see :func:`_column`)."""
    return (np.abs(np.array(hashes, dtype=np.int64)) % N_FEATURES).astype(np.int32)


def _hash_rows(texts: list[str], analyzer: Callable[[str], list[str]]) -> sp.csr_matrix:
    """(len(texts), N_FEATURES) float32 CSR of feature counts, sorted indices, no duplicates.

    Bit-identical to ``HashingVectorizer(analyzer=analyzer, n_features=N_FEATURES, alternate_sign=False,
    norm=None, dtype=np.float32).transform(texts)`` (see :func:`_column`), without scikit-learn.
    """
    hash_str = mmh3.hash  # default seed 0, signed: MurmurHash3_x86_32 of the UTF-8 bytes
    has_surrogate = _SURROGATE.search
    lengths: list[int] = []
    parts: list[np.ndarray] = []
    hashes: list[int] = []
    for text in texts:
        feats = analyzer(text)
        # Features are pieces of the text plus ASCII, so only a text with a lone surrogate can give a
        # feature with one (``analyze`` drops them anyway); such a text takes the safe, slower path.
        hashes.extend(map(_hash_bytes if has_surrogate(text) else hash_str, feats))
        lengths.append(len(feats))
        if len(hashes) >= _CHUNK:
            parts.append(_columns(hashes))
            hashes = []
    parts.append(_columns(hashes))
    nnz = sum(len(p) for p in parts)
    # int32 indices unless the batch has more than 2**31 - 1 features, as in scikit-learn
    index_dtype = np.int32 if nnz <= np.iinfo(np.int32).max else np.int64
    indices = np.concatenate(parts).astype(index_dtype, copy=False)
    del parts
    indptr = np.zeros(len(texts) + 1, dtype=index_dtype)
    np.cumsum(lengths, out=indptr[1:])
    x = sp.csr_matrix(
        (np.ones(nnz, dtype=np.float32), indices, indptr), shape=(len(texts), N_FEATURES), dtype=np.float32
    )
    x.sum_duplicates()  # also sorts the indices
    return x


def _cjk_bigrams(text: str) -> list[str]:
    return [f for f in analyze(text) if f.startswith("v:")]


def _counts(texts: list[str]) -> sp.csr_matrix:
    return _hash_rows(texts, analyze)


def _word_counts(texts: list[str]) -> sp.csr_matrix:
    return _hash_rows(texts, partial(analyze, grams=False))


class LexicalModel:
    """Hashed TF-IDF vectoriser with a fitted IDF table.

    ``transform`` costs one Python pass over each text's features; memory of the result grows with the
    number of features of the texts (about 60 per short phrase), not with ``N_FEATURES``.
    """

    # Rows kept by :meth:`transform_recent` (a few hundred bytes each).
    RECENT_ROWS = 32768

    def __init__(self, idf: np.ndarray, n_docs: int) -> None:
        self.idf = idf.astype(np.float32, copy=False)
        self.n_docs = n_docs
        # keyed by (with character n-grams?, normalised text)
        self._recent: OrderedDict[tuple[bool, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._recent_lock = threading.Lock()

    def forget_phrases(self, norms: set[str]) -> None:
        """Drop these normalised texts' rows kept by :meth:`transform_recent` (erasure)."""
        with self._recent_lock:
            for key in [k for k in self._recent if k[1] in norms]:
                del self._recent[key]

    @classmethod
    def fit(
        cls, corpus: Iterable[str], low_weight: Iterable[str] = (), max_df: float = MAX_DF
    ) -> LexicalModel:
        """Fit document frequencies on ``corpus``.

        A feature found in more than ``max_df`` of the documents (common character n-grams such as
        ``" co"``, generic words such as "software") gets IDF 0, i.e. is dropped: it says little about
        whether two skills are the same and is most of the cost of a query (O*NET: 85 features per
        phrase before, 17 after, with the same calibration AUC). The character bigrams of the
        ``low_weight`` phrases (generic Chinese words such as 技术 "technology", 能力 "ability") are
        dropped the same way; their single characters are kept.
        """
        docs = [t for t in corpus if t.strip()]
        n = len(docs)
        df = np.bincount(_counts(docs).indices, minlength=N_FEATURES).astype(np.float64)
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        idf[df > max_df * n] = 0.0
        generic = _hash_rows([t for t in low_weight if t.strip()], _cjk_bigrams)
        idf[np.unique(generic.indices)] = 0.0
        return cls(idf.astype(np.float32), n)

    def save(self, path: Path = IDF_PATH) -> None:
        default = self.default_idf
        seen = np.flatnonzero(np.abs(self.idf - default) > 1e-6).astype(np.int32)
        np.savez_compressed(
            path,
            columns=seen,
            idf=self.idf[seen].astype(np.float16),
            n_docs=np.int64(self.n_docs),
            n_features=np.int64(N_FEATURES),
        )

    @classmethod
    def load(cls, path: Path = IDF_PATH) -> LexicalModel:
        with np.load(path) as data:
            if int(data["n_features"]) != N_FEATURES:
                raise ValueError(f"{path} was built for {int(data['n_features'])} features, not {N_FEATURES}")
            n_docs = int(data["n_docs"])
            idf = np.full(N_FEATURES, np.log(1.0 + n_docs) + 1.0, dtype=np.float32)
            idf[data["columns"]] = data["idf"].astype(np.float32)
        return cls(idf, n_docs)

    @property
    def default_idf(self) -> float:
        return float(np.log(1.0 + self.n_docs) + 1.0)

    def transform(self, texts: list[str], *, grams: bool = True) -> sp.csr_matrix:
        """(len(texts), N_FEATURES) float32 CSR, rows L2-normalised (an empty text gives an empty row).
        ``grams=False``: without the character n-grams of Latin-script words (about a fifth of the cost;
        the approximate pass of a large stateless match)."""
        x = (_counts if grams else _word_counts)(list(texts))
        x.data = (1.0 + np.log(x.data)) * self.idf[x.indices]
        x.eliminate_zeros()
        sq = np.asarray(x.multiply(x).sum(axis=1)).ravel()
        scale = np.where(sq > 0, 1.0 / np.sqrt(np.maximum(sq, 1e-12)), 0.0).astype(np.float32)
        x = sp.csr_matrix(sp.diags(scale) @ x, dtype=np.float32)
        x.sort_indices()
        return x

    def transform_recent(self, texts: list[str], *, grams: bool = True) -> sp.csr_matrix:
        """:meth:`transform`, with the rows of recently seen texts (by normalised text) kept in a bounded
        LRU of ``RECENT_ROWS``: the stateless match analyses only the phrases it has not seen lately."""
        norms = [normalize_phrase(t) for t in texts]
        rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        with self._recent_lock:
            for norm in norms:
                row = self._recent.get((grams, norm))
                if row is not None:
                    self._recent.move_to_end((grams, norm))
                    rows[norm] = row
        todo = [n for n in dict.fromkeys(norms) if n not in rows]
        if todo:
            fresh = self.transform(todo, grams=grams)
            new = {
                n: (
                    fresh.indices[fresh.indptr[i] : fresh.indptr[i + 1]].copy(),
                    fresh.data[fresh.indptr[i] : fresh.indptr[i + 1]].copy(),
                )
                for i, n in enumerate(todo)
            }
            rows.update(new)
            with self._recent_lock:
                self._recent.update(((grams, n), row) for n, row in new.items())
                while len(self._recent) > self.RECENT_ROWS:
                    self._recent.popitem(last=False)
        parts = [rows[n] for n in norms]
        indptr = np.zeros(len(parts) + 1, dtype=np.int32)
        np.cumsum([len(ix) for ix, _ in parts], out=indptr[1:])
        indices = np.concatenate([ix for ix, _ in parts]) if parts else np.zeros(0, dtype=np.int32)
        data = np.concatenate([d for _, d in parts]) if parts else np.zeros(0, dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(parts), N_FEATURES), dtype=np.float32)


def similarity(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Dense (len(a), len(b)) float32 cosine of two transformed batches."""
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]), dtype=np.float32)
    return np.asarray((a @ b.T).toarray(), dtype=np.float32)


@lru_cache(maxsize=1)
def default_model() -> LexicalModel:
    """The fitted model from ``models/lexical_idf.npz`` (loaded once per process)."""
    return LexicalModel.load(IDF_PATH)
