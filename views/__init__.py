"""Blueprints, one per file."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from views import errors, health
    app.register_blueprint(health.bp)
    errors.register(app)
    # page blueprints are registered as they exist
    for name in ("projects", "imports"):
        try:
            module = __import__(f"views.{name}", fromlist=["bp"])
        except ModuleNotFoundError as exc:
            if exc.name != f"views.{name}":
                raise
            continue
        app.register_blueprint(module.bp)
