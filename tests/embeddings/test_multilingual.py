"""The multilingual encoder compares Chinese with Chinese and with English, offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.embeddings.encoder import Encoder
from service.embeddings.multilingual import FileRows, _load_model, load_multilingual, table_on_disk
from service.paths import cache_dir


def test_translations_are_close_and_unrelated_work_is_not() -> None:
    encoder = load_multilingual()
    assert isinstance(encoder, Encoder)
    vectors = encoder.encode(["焊接", "welding", "数控加工", "CNC machining", "会计"])
    assert vectors.shape == (5, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sim = vectors @ vectors.T
    assert sim[0, 1] > 0.8  # 焊接 / welding
    assert sim[2, 3] > 0.65  # 数控加工 / CNC machining
    assert sim[4, 2] < sim[2, 3] - 0.3  # 会计 (accounting) is not CNC machining
    assert encoder.encode([]).shape == (0, 512)


def test_loaded_once_per_process() -> None:
    assert load_multilingual() is load_multilingual()


def test_table_rows_are_read_from_the_cache_file_as_asked(tmp_path: Path) -> None:
    table = np.random.default_rng(3).integers(0, 256, size=(50, 8), dtype=np.uint8)
    rows = table_on_disk(table, "t.u8", tmp_path / "cache")
    assert isinstance(rows, FileRows) and rows.shape == (50, 8) and len(rows) == 50
    for ids in ([7], [3, 4, 5, 9, 9, 0, 49], np.array([[1, 2], [2, 40]]).reshape(-1), []):
        assert np.array_equal(rows[np.asarray(ids, dtype=np.int64)], table[np.asarray(ids, dtype=np.int64)])
    with pytest.raises(IndexError):
        rows[np.array([50])]


def test_a_damaged_cache_file_is_replaced_not_read(tmp_path: Path) -> None:
    table = np.arange(64, dtype=np.uint8).reshape(8, 8)
    path = table_on_disk(table, "t.u8", tmp_path).path
    damaged = bytearray(path.read_bytes())
    damaged[20] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert np.array_equal(table_on_disk(table, "t.u8", tmp_path)[np.arange(8)], table)
    assert path.read_bytes() == table.tobytes()
    path.write_bytes(b"short")
    assert np.array_equal(table_on_disk(table, "t.u8", tmp_path)[np.arange(8)], table)
    # the right bytes in a file others may write: not trusted, replaced by one of mode 0600
    path.chmod(0o666)
    assert np.array_equal(table_on_disk(table, "t.u8", tmp_path)[np.arange(8)], table)
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_served_table_lives_in_the_cache_folder_and_encodes_as_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = load_multilingual()
    table = served._model.table
    assert isinstance(table, FileRows) and table.path.parent == cache_dir()
    texts = ["焊接", "welding", "可编程逻辑控制器", "operate CNC lathes", "会计 accounting"]
    # a cache folder that cannot be made (a file is in the way): the table stays in memory, same vectors
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("TALENTMATCH_CACHE_DIR", str(blocker))
    in_memory = _load_model(1, served.version)
    assert isinstance(in_memory.table, np.ndarray) and in_memory.table.shape == table.shape
    expected = np.asarray(in_memory.encode(texts), dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.array_equal(served.encode(texts), expected)
