"""Bulk import speed: `flask forms parse` over ten 10-page 预算公开 documents, against the plain way.

The plain way is one process running pdfplumber's `extract_tables()` on every page of the same
files. Both are timed as whole processes (start-up included), median of several runs.
Prints figures; passes or fails nothing.

    .venv/bin/python bench/bulk_import.py [--runs 5] [--docs 10] [--pages 10]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
OUT = ROOT / "bench" / "out" / "docs"

PLAIN = """
import sys, pdfplumber
for name in sys.argv[1:]:
    with pdfplumber.open(name) as pdf:
        for page in pdf.pages:
            page.extract_tables()
"""


def make_documents(count: int, pages: int) -> list[Path]:
    """Ten disclosures of one unit each: 1–3 forms among the other tables of the document."""
    from pdfgen import random_form, write_document

    OUT.mkdir(parents=True, exist_ok=True)
    files = []
    for n in range(count):
        path = OUT / f"预算公开_{n + 1:02d}.pdf"
        forms = [random_form(seed=n * 10 + k) for k in range(1 + n % 3)]
        if not path.exists():
            write_document(path, forms, total_pages=pages)
        files.append(path)
    return files


def page_count(path: Path) -> int:
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(cmd: list[str], runs: int) -> float:
    return statistics.median(timed(cmd) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--docs", type=int, default=10)
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()

    start = time.perf_counter()
    files = make_documents(args.docs, args.pages)
    print(f"documents: {len(files)} × {page_count(files[0])} pages, generated in {time.perf_counter() - start:.1f} s")
    names = [str(f) for f in files]
    python = sys.executable
    flask = [python, "-m", "flask", "--app", "app", "forms", "parse"]
    plain = median_of([python, "-c", PLAIN, *names], args.runs)
    ours = median_of([*flask, *names], args.runs)
    single = median_of([*flask, names[0]], args.runs)
    print(f"plain pdfplumber extract_tables, every page: {plain:.2f} s (median of {args.runs})")
    print(f"flask forms parse, {len(files)} files:           {ours:.2f} s (median of {args.runs})")
    print(f"ratio ours / plain:                        {ours / plain:.2f}  (aim: ≤ 0.50)")
    print(f"flask forms parse, one file:               {single:.2f} s")


if __name__ == "__main__":
    main()
