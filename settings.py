"""Settings: defaults → instance/config.py → environment. Shared by the app factory and by
the commands that run without building the web app (`flask forms parse`); also the session
cookie's defaults and the SECRET_KEY rule, which depend on settings alone."""
from __future__ import annotations

import os
import runpy
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"

DEFAULTS = {
    "SECRET_KEY": "dev-only-not-secret",
    "MAX_UPLOAD_BYTES": 50 * 1024 * 1024,
    "MAX_PDF_PAGES": 500,
    "PARSE_WALL_SECONDS": 30,
    "PARSE_MEMORY_BYTES": 1024 * 1024 * 1024,
    "PARSE_WORKERS": 2,
    # Scanned (image-only) PDF pages are read by OCR, each page in its own limited child with
    # this many seconds (wall clock and CPU) of its own; a file with more scanned pages than
    # PARSE_OCR_MAX_PAGES is refused at once (a page takes some 5 s of CPU; two are read at a
    # time), with a line asking for the form pages alone.
    "PARSE_OCR_PAGE_SECONDS": 60,
    "PARSE_OCR_MAX_PAGES": 20,
    "TIMEZONE": "Asia/Shanghai",
    "ENV": "production",   # `make run` sets ENV=development: cookies without Secure, a generated key
    # Actuals (DOMAIN.md §3): a period's actual is due by this day of the following month.
    "ENTRY_DEADLINE_DAY": 5,
    # Evidence files (佐证材料): at most this large each; stored under EVIDENCE_DIR (default:
    # beside UPLOAD_DIR, i.e. instance/evidence), never under static/.
    "EVIDENCE_MAX_BYTES": 20 * 1024 * 1024,
    # Reminders: links in emails are absolute URLs under BASE_URL (its host name also ends
    # each Message-ID). What is sent when is set by admins (提醒设置, reminders/settings.py);
    # SCHEDULER_LOCK (default instance/scheduler.lock) keeps to one scheduler per instance.
    "BASE_URL": "http://127.0.0.1:5000",
    # The configurable bands of DOMAIN.md, read by services.inputs.thresholds for every entry,
    # reader and `flask check` (a change applies to stored figures after `flask check --fix`):
    # PACE_BANDS (§4): a cumulative indicator's (and the budget's) pace p from `green` is green,
    # from `yellow` yellow, below red. LEVEL_YELLOW (§4): a level indicator short of its target
    # is yellow from this completion r, below red. GRADE_BANDS (§5): the lowest 自评 total of
    # 优, 良 and 中; below 中 is 差. OVER_BANDS (§8): 超额 from r (or, during the year, p) of
    # `mark`; the year's last entry from r of `reason` needs a reason.
    "PACE_BANDS": {"green": 0.8, "yellow": 0.6},
    "LEVEL_YELLOW": 0.9,
    "GRADE_BANDS": {"优": 90, "良": 80, "中": 60},
    "OVER_BANDS": {"mark": 1.2, "reason": 1.3},
    # Monitoring rounds (DOMAIN.md §8), every year: as of a month's end ("07-31": 1–7月), each
    # project's monitoring due by "due" (of the following year when that comes first); read by
    # reads/rounds.py, checked at start (domain/monitoring.py parse_rounds).
    "MONITORING_ROUNDS": [{"as_of": "07-31", "due": "08-15"}],
    # Files of the unit-level exports (background jobs), served only to whoever asked:
    # EXPORT_DIR: default beside UPLOAD_DIR (instance/exports).
    # Housekeeping (models/housekeeping.py, hourly in the scheduler): uploads never confirmed
    # are deleted after IMPORT_KEEP_HOURS, export files after EXPORT_KEEP_DAYS; a user may keep
    # at most PENDING_UPLOADS_MAX_JOBS uploads, PENDING_UPLOADS_MAX_BYTES in all, unconfirmed.
    "IMPORT_KEEP_HOURS": 24,
    "EXPORT_KEEP_DAYS": 7,
    "PENDING_UPLOADS_MAX_JOBS": 20,
    "PENDING_UPLOADS_MAX_BYTES": 200 * 1024 * 1024,
}
ENV_SETTINGS = ("DATABASE_URL", "SECRET_KEY", "SMTP_HOST", "SMTP_PORT", "SMTP_USER",
                "SMTP_PASSWORD", "MAIL_FROM", "UPLOAD_DIR", "SMTP_SECURITY", "SMTP_TIMEOUT",
                "SMTP_CA_FILE", "ENV", "TRUSTED_PROXIES", "EVIDENCE_DIR", "ENTRY_DEADLINE_DAY",
                "EVIDENCE_MAX_BYTES", "BASE_URL", "SCHEDULER_LOCK", "IMPORT_KEEP_HOURS", "EXPORT_KEEP_DAYS",
                "PENDING_UPLOADS_MAX_JOBS", "PENDING_UPLOADS_MAX_BYTES")
INT_SETTINGS = ("ENTRY_DEADLINE_DAY", "EVIDENCE_MAX_BYTES", "IMPORT_KEEP_HOURS", "EXPORT_KEEP_DAYS",
                "PENDING_UPLOADS_MAX_JOBS", "PENDING_UPLOADS_MAX_BYTES")   # numbers when they come from the environment


def load_settings(instance_path: Path = INSTANCE) -> dict:
    settings = dict(DEFAULTS)
    config_file = Path(instance_path) / "config.py"
    if config_file.exists():
        settings.update({k: v for k, v in runpy.run_path(str(config_file)).items() if k.isupper()})
    settings.update({k: os.environ[k] for k in ENV_SETTINGS if os.environ.get(k)})
    for name in INT_SETTINGS:
        settings[name] = int(settings[name])
    return settings


def export_dir(config) -> Path:
    """EXPORT_DIR, by default beside UPLOAD_DIR (instance/exports), never under static/: where
    the web app writes unit exports and the housekeeping deletes old ones."""
    return Path(config.get("EXPORT_DIR") or Path(config["UPLOAD_DIR"]).parent / "exports")


# --------------------------------------------------------------------------- the session and its key

MIN_SECRET_KEY_LENGTH = 32
DEV_SECRET_KEY_FILE = "dev-secret-key"   # under instance/, which is never committed
SECRET_KEY_MESSAGE = (
    "SECRET_KEY 未设置或过弱：生产环境必须设置至少 32 个字符的随机密钥（环境变量 SECRET_KEY 或 "
    "instance/config.py），例如 python3 -c 'import secrets; print(secrets.token_urlsafe(48))' 的输出；"
    "本机试用请用 make run（ENV=development）。\n"
    "SECRET_KEY is missing or weak: outside development set a random key of at least 32 characters "
    "(environment variable SECRET_KEY or instance/config.py); to try the product locally use `make run` "
    "(ENV=development).")


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


def secret_key(app) -> str:
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
    # `flask run` itself, not a group's own `run` (`flask reminders run`, the scheduler)
    return ctx is None or (ctx.info_name == "run" and (ctx.parent is None or ctx.parent.parent is None))


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
