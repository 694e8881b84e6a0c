"""Blueprints, one per file."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from views import account, admin, api, auth, errors, health, imports, projects, security
    # auth first: its gate (views/auth.py) runs before every other blueprint's own checks
    for module in (auth, health, projects, imports, account, admin, api):
        app.register_blueprint(module.bp)
    app.extensions["csrf"].exempt(api.bp)   # bearer tokens only, no cookies: nothing to forge
    errors.register(app)
    security.register(app)
