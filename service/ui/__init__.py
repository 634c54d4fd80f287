"""Server-rendered pages under ``/ui/`` (see ``router.py``)."""
