"""Character 1-3-gram TF-IDF within word boundaries: the title matcher's lexical channel.

The same vectors as scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3),
sublinear_tf=True)`` (lower-cased text; each word padded with one space; n-grams of a word shorter than
n counted once; ``tf = 1 + ln(count)``; ``idf = ln((1 + n) / (1 + df)) + 1``; rows scaled to unit
length), written out here so that the API process does not import scikit-learn (about 50 MB resident)
for this one transform. A test checks it against scikit-learn.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

_SPACES = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, low: int = 1, high: int = 3) -> list[str]:
    """The character n-grams (``low`` to ``high``) of each word of ``text``, padded with spaces."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[:n])
            while offset + n < size:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n: counted once
                break
    return grams


class CharTfidf:
    """Fitted on ``texts``: their vocabulary of n-grams and its inverse document frequencies."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.vocabulary: dict[str, int] = {}
        counts = self._counts(texts, grow=True)
        df = np.bincount(counts.indices, minlength=len(self.vocabulary))
        self.idf = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
        self.matrix = self._weigh(counts)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Unit-length TF-IDF rows of ``texts``; n-grams the fitted texts never had are left out."""
        return self._weigh(self._counts(texts, grow=False))

    def _counts(self, texts: Sequence[str], *, grow: bool) -> sp.csr_matrix:
        vocabulary = self.vocabulary
        indptr = [0]
        indices: list[int] = []
        data: list[int] = []
        for text in texts:
            for gram, count in Counter(char_wb_ngrams(text)).items():
                column = vocabulary.get(gram)
                if column is None:
                    if not grow:
                        continue
                    column = vocabulary[gram] = len(vocabulary)
                indices.append(column)
                data.append(count)
            indptr.append(len(indices))
        return sp.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
            shape=(len(texts), len(vocabulary)),
        )

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        counts.data = (np.log(counts.data) + 1) * self.idf[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        norms = np.sqrt(np.bincount(rows, weights=counts.data**2, minlength=counts.shape[0]))
        norms[norms == 0] = 1.0
        counts.data = (counts.data / norms[rows]).astype(np.float32)
        return counts
