"""The lexical channel's hashing matches scikit-learn's, which the fitted IDF table was built with.

Serving hashes with ``mmh3`` and reads the stop words from ``models/lexical_stop_words.txt`` so that it
does not import scikit-learn; scikit-learn stays installed (calibration fitting) and is the reference here.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer
from sklearn.utils import murmurhash3_32

from service.matching import lexical

REPO_ROOT = Path(__file__).resolve().parents[2]
MIXED = [
    "数控机床加工",
    "Python 编程",
    "PLC S7-1200",
    "C++",
    ".NET",
    "tcp/ip",
    "C# / .NET 6, Node.js",
    "熟练使用 AutoCAD 2020 和 SolidWorks",
    "",
    "   ",
    "the and of",  # stop words only: an empty row
    "aaab0dl8xt",  # its feature "w:aaab0dl8xt" hashes to -2**31
]
# A feature whose MurmurHash3 is exactly -2**31 (found by inverting the hash), where scikit-learn's column
# rule has its special case.
MIN_HASH_FEATURE = "w:aaab0dl8xt"


def _reference(analyzer: Callable[[str], list[str]]) -> HashingVectorizer:
    return HashingVectorizer(
        analyzer=analyzer,
        n_features=lexical.N_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def _assert_same(got: sp.csr_matrix, want: sp.csr_matrix) -> None:
    assert got.shape == want.shape
    assert got.dtype == want.dtype == np.float32
    assert got.indices.dtype == want.indices.dtype
    assert got.indptr.dtype == want.indptr.dtype
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


def _onet_phrases() -> list[str]:
    from training.onet import load_onet

    try:
        return sorted(load_onet().all_phrases())
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def test_hashing_equals_scikit_learn_on_mixed_phrases() -> None:
    for analyzer in (lexical.analyze, lexical._cjk_bigrams):
        _assert_same(lexical._hash_rows(MIXED, analyzer), _reference(analyzer).transform(MIXED))


def _synthetic_phrases(n: int = 5000, seed: int = 5) -> list[str]:
    """Skill-like phrases from pieces that exercise every feature kind (latin words, tool names with
    symbols and versions, digits, CJK runs, stop words, odd spacing and case)."""
    rng = random.Random(seed)
    words = [
        "machining",
        "CNC",
        "read",
        "engineering",
        "drawings",
        "of",
        "the",
        "quality",
        "Inspection",
        "welding",
        "PLC",
        "S7-1200",
        "C++",
        "c#",
        ".NET",
        "node.js",
        "tcp/ip",
        "Python",
        "3.11",
        "AutoCAD",
        "2020",
        "SolidWorks",
        "G-code",
        "ISO9001",
        "数控",
        "机床",
        "加工",
        "编程",
        "焊接",
        "质量检验",
        "技术",
        "能力",
        "熟练",
        "Ünïcödé",
        "naïve",
        "x",
        "and",
        "for",
    ]
    return [
        "  ".join(rng.sample(words, rng.randint(1, 6)))
        if i % 7 == 0
        else " ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        for i in range(n)
    ]


def test_hashing_equals_scikit_learn_on_a_large_varied_corpus() -> None:
    texts = _synthetic_phrases() + MIXED
    for analyzer in (lexical.analyze, lexical._cjk_bigrams):
        _assert_same(lexical._hash_rows(texts, analyzer), _reference(analyzer).transform(texts))


def test_hashing_equals_scikit_learn_on_the_onet_corpus() -> None:
    texts = _onet_phrases() + MIXED
    _assert_same(lexical._counts(texts), _reference(lexical.analyze).transform(texts))
    zh = lexical.read_word_list(lexical.ZH_COMMON_PATH)
    _assert_same(lexical._hash_rows(zh, lexical._cjk_bigrams), _reference(lexical._cjk_bigrams).transform(zh))


def test_refitting_reproduces_the_shipped_idf_table(tmp_path: Path) -> None:
    corpus = _onet_phrases()
    zh = lexical.read_word_list(lexical.ZH_COMMON_PATH)
    out = tmp_path / "idf.npz"
    lexical.LexicalModel.fit(corpus, low_weight=zh).save(out)
    with np.load(out) as got, np.load(lexical.IDF_PATH) as shipped:
        assert sorted(got.files) == sorted(shipped.files)
        for key in got.files:
            assert got[key].dtype == shipped[key].dtype
            np.testing.assert_array_equal(got[key], shipped[key])


def test_empty_batches() -> None:
    x = lexical._counts([])
    assert x.shape == (0, lexical.N_FEATURES)
    assert x.nnz == 0
    assert lexical.default_model().transform([]).shape == (0, lexical.N_FEATURES)
    assert lexical._hash_rows([""], lexical._cjk_bigrams).nnz == 0


def test_stop_word_file_is_scikit_learns_list() -> None:
    lines = lexical.STOP_WORDS_PATH.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#")
    words = [line for line in lines if not line.startswith("#")]
    assert words == sorted(ENGLISH_STOP_WORDS)
    assert frozenset(ENGLISH_STOP_WORDS) == lexical._STOP


def test_importing_the_lexical_channel_does_not_import_scikit_learn() -> None:
    code = (
        "import sys, service.matching.lexical as lx\n"
        "lx.default_model().transform(['PLC S7-1200', '数控机床加工'])\n"
        "loaded = sorted(m for m in sys.modules if m == 'sklearn' or m.startswith('sklearn.'))\n"
        "assert not loaded, loaded[:5]\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def _sklearn_column(feature: str, n_features: int = lexical.N_FEATURES) -> int:
    # sklearn/feature_extraction/_hashing_fast.pyx
    h = murmurhash3_32(feature, seed=0, positive=False)
    if h == -(2**31):
        return (2147483647 - (n_features - 1)) % n_features
    return abs(h) % n_features


def test_column_matches_scikit_learns_rule_on_random_strings() -> None:
    rng = random.Random(20240611)
    alphabet = "abcxyz0129 .-/+#:_ßéñ数控机床加工编程😀"
    features = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))) for _ in range(20_000)]
    features += [MIN_HASH_FEATURE, "", "w:c++", "u:数", "v:数控"]
    for feature in features:
        assert lexical._column(feature) == _sklearn_column(feature), feature
    x = lexical._hash_rows(["row"], lambda _text: features)
    want = _reference(lambda _text: features).transform(["row"])
    _assert_same(x, want)
    cols = np.bincount([lexical._column(f) for f in features], minlength=lexical.N_FEATURES)
    np.testing.assert_array_equal(x.toarray()[0], cols.astype(np.float32))


def test_the_minimum_hash_corner() -> None:
    assert murmurhash3_32(MIN_HASH_FEATURE, seed=0, positive=False) == -(2**31)
    assert lexical._column(MIN_HASH_FEATURE) == _sklearn_column(MIN_HASH_FEATURE)
    assert MIN_HASH_FEATURE in lexical.analyze("aaab0dl8xt")
    x = lexical._counts(["aaab0dl8xt"])
    assert x[0, _sklearn_column(MIN_HASH_FEATURE)] >= 1
    # scikit-learn's special case equals Python's exact abs(-2**31) % n for every n
    for n in [1, 2, 3, 7, 1000, 2**20, 2**20 + 1, 2**31 - 1]:
        assert (2147483647 - (n - 1)) % n == abs(-(2**31)) % n


def test_lone_surrogates_do_not_crash_the_hashing() -> None:
    # mmh3 5.3.1 segfaults on a str with a lone surrogate. ``analyze`` drops surrogates (not word
    # characters); a text holding one is hashed from UTF-8 bytes, which raises like scikit-learn does
    # when a feature keeps the surrogate.
    texts = ["a\ud800b c\udcff++ 数\ud800控", "x.\udfffnet"]
    _assert_same(lexical._counts(texts), _reference(lexical.analyze).transform(texts))
    with pytest.raises(UnicodeEncodeError):
        lexical._hash_rows(["\ud800"], lambda text: [text])


def test_recent_rows_equal_fresh_ones_and_stay_bounded() -> None:
    from service.matching.lexical import default_model

    model = default_model()
    texts = ["CNC machining", "read engineering drawings", "cnc  MACHINING", "焊接工艺"]
    fresh = model.transform(texts).toarray()
    assert np.array_equal(model.transform_recent(texts).toarray(), fresh)
    assert np.array_equal(model.transform_recent(texts[::-1]).toarray(), fresh[::-1])  # from memory
    assert len(model._recent) <= model.RECENT_ROWS
