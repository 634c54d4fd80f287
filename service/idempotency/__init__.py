"""Stored answers of idempotent POSTs (the ``Idempotency-Key`` header).

The HTTP side (the dependency that claims a key, replays or stores an answer) is
:mod:`service.api.idempotency`; every statement is in :mod:`service.idempotency.repository`.
"""
