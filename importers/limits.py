"""Parsing limits from the app's settings (kept apart so importers stay free of Flask)."""
from __future__ import annotations

from importers.sandbox import Limits


def limits_from_config(config) -> Limits:
    return Limits(max_bytes=config["MAX_UPLOAD_BYTES"], max_pages=config["MAX_PDF_PAGES"],
                  memory_bytes=config["PARSE_MEMORY_BYTES"], wall_seconds=config["PARSE_WALL_SECONDS"],
                  cpu_seconds=config["PARSE_WALL_SECONDS"])
