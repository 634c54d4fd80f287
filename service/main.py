"""ASGI entry point for uvicorn: ``service.main:app`` built from the environment's settings."""

from service.app import create_app
from service.memory import limit_malloc_arenas

limit_malloc_arenas()
app = create_app()
