"""Phrase embeddings: encoders and the phrase cache, knowing nothing of the domain.

- :mod:`.encoder`: what an encoder is (:class:`~.encoder.Encoder`), local model folders, the torch
  runtime; :mod:`.onnx_runtime`: the served runtime (the bundled model's int8 ONNX export);
  :mod:`.fake`: the hashing encoder for tests; :mod:`.loader`: :func:`~.loader.load_encoder`, the
  encoder the settings ask for.
- :mod:`.cache`: each distinct normalised phrase (:func:`service.text.normalize_phrase`) embedded once
  per encoder and kept in the database; bulk filling in large batches (imports) and per-request
  look-ups; :mod:`.repository`: its SQL.
"""
