"""The title matcher's character TF-IDF gives scikit-learn's vectors without importing scikit-learn."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from service.occupations.char_tfidf import CharTfidf, char_wb_ngrams

NAMES = [
    "数控车工",
    "焊工",
    "电焊工、氩弧焊工",
    "可编程控制器系统设计员",
    "CNC  Machinist",
    "Welder",
    "Industrial robot   system operator",
    "a",
    " ",
    "Ab",
    "PLC编程 engineer",
    "Ünïcode naïve",
    "software engineer (embedded)",
]
QUERIES = ["数控车工", "cnc machinist", "焊工 welder", "zzz", " ", "PLC", "robot operator", "编程"]


def test_ngrams_pad_words_and_count_a_short_word_once() -> None:
    assert char_wb_ngrams("Ab") == [" ", "a", "b", " ", " a", "ab", "b ", " ab", "ab "]
    assert char_wb_ngrams("a") == [" ", "a", " ", " a", "a ", " a "]
    assert char_wb_ngrams("  ") == []


def test_vectors_and_similarities_are_scikit_learns() -> None:
    ours = CharTfidf(NAMES)
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, dtype=np.float32)
    fitted = reference.fit_transform(NAMES)
    assert len(ours.vocabulary) == len(reference.vocabulary_)
    expected = (fitted @ reference.transform(QUERIES).T).toarray()
    got = (ours.matrix @ ours.transform(QUERIES).T).toarray()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(
        (ours.matrix @ ours.matrix.T).toarray(), (fitted @ fitted.T).toarray(), atol=1e-6
    )
    assert got[NAMES.index("数控车工"), QUERIES.index("数控车工")] > 0.99
    assert NAMES[int(got[:, QUERIES.index("cnc machinist")].argmax())] == "CNC  Machinist"


def test_the_api_process_does_not_load_scikit_learn() -> None:
    code = "import sys, service.app, service.occupations.matcher; print('sklearn' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "False"
