"""Parsing limits from the app's settings (kept apart so importers stay free of Flask)."""
from __future__ import annotations

from dataclasses import replace

from importers.sandbox import Limits

# A bulk-entry workbook is read while its request waits in a web worker (form imports parse in
# the background): well under gunicorn's 30 s, after which it kills a silent sync worker.
BULK_PARSE_SECONDS = 10


def limits_from_config(config) -> Limits:
    return Limits(max_bytes=config["MAX_UPLOAD_BYTES"], max_pages=config["MAX_PDF_PAGES"],
                  memory_bytes=config["PARSE_MEMORY_BYTES"], wall_seconds=config["PARSE_WALL_SECONDS"],
                  cpu_seconds=config["PARSE_WALL_SECONDS"])


def bulk_limits_from_config(config) -> Limits:
    limits = limits_from_config(config)
    seconds = min(limits.wall_seconds, BULK_PARSE_SECONDS)
    return replace(limits, wall_seconds=seconds, cpu_seconds=min(limits.cpu_seconds, seconds))
