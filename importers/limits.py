"""Parsing limits, and how the app's settings make them (kept apart so importers stay free of
Flask, and so the PDF pre-flight and the sandbox share them without importing each other)."""
from __future__ import annotations

from dataclasses import dataclass, replace

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * MB              # file size, checked in the parent first
    max_pages: int = 500                  # PDF page cap, checked by check_pdf
    memory_bytes: int = 1024 * MB         # RLIMIT_AS of the child
    cpu_seconds: float = 30               # RLIMIT_CPU of the child
    wall_seconds: float = 30              # wall clock, enforced by the parent
    ocr_page_seconds: float = 60          # wall clock and CPU of each scanned page's OCR
    ocr_max_pages: int = 20               # scanned (image-only) pages read by OCR per file

# A bulk-entry workbook is read while its request waits in a web worker (form imports parse in
# the background): well under gunicorn's 30 s, after which it kills a silent sync worker.
BULK_PARSE_SECONDS = 10


def limits_from_config(config) -> Limits:
    return Limits(max_bytes=config["MAX_UPLOAD_BYTES"], max_pages=config["MAX_PDF_PAGES"],
                  memory_bytes=config["PARSE_MEMORY_BYTES"], wall_seconds=config["PARSE_WALL_SECONDS"],
                  cpu_seconds=config["PARSE_WALL_SECONDS"],
                  ocr_page_seconds=config.get("PARSE_OCR_PAGE_SECONDS", Limits.ocr_page_seconds),
                  ocr_max_pages=config.get("PARSE_OCR_MAX_PAGES", Limits.ocr_max_pages))


def bulk_limits_from_config(config) -> Limits:
    limits = limits_from_config(config)
    seconds = min(limits.wall_seconds, BULK_PARSE_SECONDS)
    return replace(limits, wall_seconds=seconds, cpu_seconds=min(limits.cpu_seconds, seconds))
