"""ASGI entry point for uvicorn: ``service.main:app`` built from the environment's settings."""

from service.app import create_app

app = create_app()
