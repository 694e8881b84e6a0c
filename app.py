"""The application factory. Nothing else lives here: no module-level app, no scheduler."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

DEFAULTS = {
    "SECRET_KEY": "dev-only-not-secret",
    "MAX_UPLOAD_BYTES": 50 * 1024 * 1024,
    "MAX_PDF_PAGES": 500,
    "PARSE_WALL_SECONDS": 30,
    "PARSE_MEMORY_BYTES": 1024 * 1024 * 1024,
    "TIMEZONE": "Asia/Shanghai",
}
ENV_SETTINGS = ("DATABASE_URL", "SECRET_KEY", "SMTP_HOST", "SMTP_PORT", "SMTP_USER",
                "SMTP_PASSWORD", "MAIL_FROM", "UPLOAD_DIR")


def create_app(config: dict | None = None) -> Flask:
    """Settings: defaults → instance/config.py → environment → `config` (tests)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update({k: os.environ[k] for k in ENV_SETTINGS if os.environ.get(k)})
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'jixiao.db'}")
    app.config.setdefault("UPLOAD_DIR", str(Path(app.instance_path) / "uploads"))
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"] * 10  # several files at once

    from models.db import close_session, make_engine
    app.extensions["engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_session)

    from views import register_blueprints
    register_blueprints(app)

    from commands import register_commands
    register_commands(app)
    return app
