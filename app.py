"""The application factory. Nothing else lives here: no module-level app, no scheduler."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from settings import load_settings, secret_key, session_defaults


def create_app(config: dict | None = None) -> Flask:
    """Settings: defaults → instance/config.py → environment (settings.py) → `config` (tests)."""
    app = Flask(__name__, instance_relative_config=True)
    settings = {**load_settings(Path(app.instance_path)), **(config or {})}
    app.config.update(session_defaults(development=settings.get("ENV") == "development"))
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = secret_key(app)
    app.config.setdefault("DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'jixiao.db'}")
    app.config.setdefault("UPLOAD_DIR", str(Path(app.instance_path) / "uploads"))
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"] * 10  # several files at once
    check_bands(app.config)
    check_rounds(app.config)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind that many reverse proxies, the client's address (the login limit counts per
        # address) and scheme come from their X-Forwarded-* headers; without it, every user
        # would share the proxy's address.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    # JSON answers in UTF-8 as written (Chinese is half the size of \u escapes) and in the
    # order they are built: a province's project list is megabytes, encoded on every call.
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    from models.db import close_session, make_engine
    app.extensions["engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_session)

    from flask_wtf.csrf import CSRFProtect
    CSRFProtect(app)  # every POST from a page carries the token; see templates/base.html

    from views import register_blueprints
    register_blueprints(app)

    from commands import register_commands
    register_commands(app)
    return app


def check_bands(config) -> None:
    """Bands set wrong in settings (yellow above green, not a number …) stop the start with the
    reason, instead of failing the first entry."""
    from services.inputs import thresholds
    try:
        thresholds(config)
    except (ValueError, TypeError, AttributeError) as exc:
        raise RuntimeError(f"阈值设置有误（PACE_BANDS、LEVEL_YELLOW、GRADE_BANDS、OVER_BANDS）：{exc}") from None


def check_rounds(config) -> None:
    """Monitoring rounds set wrong (not a month's end, a day that does not exist) stop the start
    with the reason."""
    from domain.monitoring import parse_rounds
    try:
        parse_rounds(config.get("MONITORING_ROUNDS"))
    except ValueError as exc:
        raise RuntimeError(f"监控轮次设置有误（MONITORING_ROUNDS）：{exc}") from None
