"""Settings: defaults → instance/config.py → environment. Shared by the app factory and by
the commands that run without building the web app (`flask forms parse`)."""
from __future__ import annotations

import os
import runpy
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
    "TIMEZONE": "Asia/Shanghai",
    "ENV": "production",   # `make run` sets ENV=development: cookies without Secure, a generated key
}
ENV_SETTINGS = ("DATABASE_URL", "SECRET_KEY", "SMTP_HOST", "SMTP_PORT", "SMTP_USER",
                "SMTP_PASSWORD", "MAIL_FROM", "UPLOAD_DIR", "SMTP_SECURITY", "SMTP_TIMEOUT",
                "SMTP_CA_FILE", "ENV", "TRUSTED_PROXIES")


def load_settings(instance_path: Path = INSTANCE) -> dict:
    settings = dict(DEFAULTS)
    config_file = Path(instance_path) / "config.py"
    if config_file.exists():
        settings.update({k: v for k, v in runpy.run_path(str(config_file)).items() if k.isupper()})
    settings.update({k: os.environ[k] for k in ENV_SETTINGS if os.environ.get(k)})
    return settings
