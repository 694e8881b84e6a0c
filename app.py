"""The application factory. Nothing else lives here: no module-level app, no scheduler."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from settings import DEFAULTS, load_settings

MIN_SECRET_KEY_LENGTH = 32
DEV_SECRET_KEY_FILE = "dev-secret-key"   # under instance/, which is never committed
SECRET_KEY_MESSAGE = (
    "SECRET_KEY 未设置或过弱：生产环境必须设置至少 32 个字符的随机密钥（环境变量 SECRET_KEY 或 "
    "instance/config.py），例如 python3 -c 'import secrets; print(secrets.token_urlsafe(48))' 的输出；"
    "本机试用请用 make run（ENV=development）。\n"
    "SECRET_KEY is missing or weak: outside development set a random key of at least 32 characters "
    "(environment variable SECRET_KEY or instance/config.py); to try the product locally use `make run` "
    "(ENV=development).")


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
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind that many reverse proxies, the client's address (the login limit counts per
        # address) and scheme come from their X-Forwarded-* headers; without it, every user
        # would share the proxy's address.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

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


def session_defaults(development: bool) -> dict:
    """The session cookie carries the login (and the CSRF secret): scripts cannot read it,
    cross-site POSTs do not send it, and outside development it travels over HTTPS only.
    The `__Host-` name makes browsers refuse it unless Secure, host-only and for path /, so
    a sibling sub-domain cannot plant one. instance/config.py may override each of these
    (e.g. SESSION_COOKIE_NAME when served below a path prefix)."""
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not development,
        "SESSION_COOKIE_NAME": "session" if development else "__Host-session",
        # The token lives as long as the login: renewed at sign-in, dropped at sign-out.
        "WTF_CSRF_TIME_LIMIT": None,
    }


def weak_secret_key(key: str | None) -> bool:
    return (not key or key == DEFAULTS["SECRET_KEY"] or len(key) < MIN_SECRET_KEY_LENGTH
            or len(set(key)) < 10)


def secret_key(app: Flask) -> str:
    """The key that signs the session cookie. A weak one stops a server outside development;
    in development one is generated once into instance/."""
    key = app.config.get("SECRET_KEY")
    if not weak_secret_key(key):
        return key
    if app.config.get("ENV") == "development":
        return _development_key(Path(app.instance_path) / DEV_SECRET_KEY_FILE)
    if app.testing or not _serving():
        return key or DEFAULTS["SECRET_KEY"]
    raise RuntimeError(SECRET_KEY_MESSAGE)


def _serving() -> bool:
    """False while a `flask` command other than `run` builds the app (init-db, users, forms,
    demo …): those sign no cookie, and must keep working from a plain shell."""
    import click
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.info_name == "run"


def _development_key(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:      # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    return key
