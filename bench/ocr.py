"""Scanned 签章版 forms: how many fields the OCR reads right, and how fast (issue #15).

The scans are made here (tests/scangen.py) from the test forms, never committed: the three seed
forms (tests/fixtures/seed_forms.pdf) and a few `pdfgen.random_form`s, each page rendered at
200 dpi, turned by up to ±1°, on grey paper with noise, JPEG, a red seal over the header of
the first page, as an image-only PDF.

Prints:
- accuracy: the share of fields right, comparing `importers.parse_file(scan)` field by field
  over every leaf of forms.schema.json with the expected parse (seed_forms.expected.json, and
  the forms pdfgen drew), per file and overall, with the first wrong fields (aim ≥ 98 %); also
  with full- and half-width forms taken as one (，for , — the seed writes ASCII commas in Chinese);
- speed: seconds per page of our engine (`parse_file` of the whole scan: rendering, ruling
  lines, cell-by-cell recognition, both cores) against plain RapidOCR over the whole page
  image (`RapidOCR()(page_array)`, the page already rendered at the scan's dpi), the median
  of `--runs` runs each, in the same process on the same machine, and their ratio (aim ≤ 0.5);
  and our engine as the app runs it on an upload (`parse_untrusted` with the app's limits,
  the pages spread over the sandbox's children, so a multi-page file uses both cores);
- a CPU reference and the load average, since the machine is shared.

Prints figures; passes or fails nothing. Until the OCR engine is there, parse_file refuses a
scan and only the baseline is printed.

    .venv/bin/python bench/ocr.py [--runs 3] [--random 3] [--dpi 200] [--baseline-pages 3]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from load import cpu_reference, loadavg  # noqa: E402
from pdfgen import random_form, write_pdf  # noqa: E402
from scan_accuracy import Score, compare  # noqa: E402
from scangen import write_scan  # noqa: E402

from importers import UnreadableFile, parse_file  # noqa: E402
from importers.limits import limits_from_config  # noqa: E402
from importers.sandbox import parse_untrusted  # noqa: E402
from settings import DEFAULTS  # noqa: E402

APP_LIMITS = limits_from_config(DEFAULTS)

SEED_PDF = ROOT / "tests" / "fixtures" / "seed_forms.pdf"
SEED_EXPECTED = ROOT / "tests" / "fixtures" / "seed_forms.expected.json"


def make_scans(work: Path, randoms: int, dpi: float) -> list[tuple[str, Path, list[dict], int]]:
    """(name, scan, expected forms, pages) of each benchmark file: the seed forms, and the random
    forms together in one file (a page each), so the sandbox has pages to spread over its children."""
    files = []
    info = write_scan(SEED_PDF, work / "seed-scan.pdf", dpi=dpi, seed=1)
    expected = json.loads(SEED_EXPECTED.read_text(encoding="utf-8"))["forms"]
    files.append(("seed_forms (3 forms)", info.path, expected, info.page_count))
    if randoms:
        forms = [random_form(seed=100 + seed) for seed in range(randoms)]
        source = write_pdf(work / "random.pdf", forms)
        info = write_scan(source, work / "random-scan.pdf", dpi=dpi, seed=100)
        files.append((f"random_form(100…{99 + randoms})", info.path, forms, info.page_count))
    return files


def page_arrays(path: Path, dpi: float, limit: int):
    import numpy as np
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return [np.asarray(pdf[i].render(scale=dpi / 72.0).to_pil().convert("RGB"))
                for i in range(min(limit, len(pdf)))]
    finally:
        pdf.close()


def cpu_seconds() -> float:
    """CPU of this process (all its threads) and of its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def time_ours(files, runs: int, parse=parse_file):
    """(wall, CPU) seconds per page of each run (all files' time / all their pages), the first
    run's parse of each file, or the refusal when there is no engine yet."""
    per_page, parses = [], {}
    pages = sum(f[3] for f in files)
    for run in range(runs):
        started, cpu = time.perf_counter(), cpu_seconds()
        for name, path, _expected, _pages in files:
            try:
                result = parse(path)
            except UnreadableFile as e:
                return None, {}, str(e)
            parses.setdefault(name, result)
        per_page.append(((time.perf_counter() - started) / pages, (cpu_seconds() - cpu) / pages))
    return per_page, parses, None


def time_baseline(files, runs: int, dpi: float, limit: int) -> list[float]:
    """(wall, CPU) seconds per page of each run of plain RapidOCR over the first `limit` whole
    page images (rendering not counted)."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()
    images = []
    for _name, path, _expected, _pages in files:
        images += page_arrays(path, dpi, limit - len(images))
        if len(images) >= limit:
            break
    engine(images[0][:200, :200])                      # load the models before timing
    times = []
    for _ in range(runs):
        started, cpu = time.perf_counter(), cpu_seconds()
        for image in images:
            engine(image)
        times.append(((time.perf_counter() - started) / len(images), (cpu_seconds() - cpu) / len(images)))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--random", type=int, default=3, help="random_form()s scanned beside the seed forms")
    parser.add_argument("--dpi", type=float, default=200)
    parser.add_argument("--baseline-pages", type=int, default=3,
                        help="pages plain RapidOCR reads per run (it takes ~20 s a page)")
    parser.add_argument("--show", type=int, default=8, help="wrong fields printed per file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        files = make_scans(work, args.random, args.dpi)
        pages = sum(f[3] for f in files)
        print(f"OCR of scanned forms: {len(files)} files, {pages} pages at {args.dpi:g} dpi, ±1°, grey paper, "
              f"JPEG, red seal on page 1 (made in {time.perf_counter() - started:.1f} s)")
        print(f"CPU reference {cpu_reference():.2f} s, load average {loadavg()[0]:.2f}")

        ours, parses, refusal = time_ours(files, args.runs)
        print()
        print("accuracy (fields right, every leaf of the schema):")
        if refusal is not None:
            print(f"  not measured: parse_file refuses the scan ({refusal})")
        else:
            overall, folded = Score(), Score()
            for name, _path, expected, _pages in files:
                score = compare(expected, parses[name].forms)
                loose = compare(expected, parses[name].forms, fold_width=True)
                overall += score
                folded += loose
                print(f"  {name:<24} {score.right:>4}/{score.total:<4} {score.share:7.2%}   "
                      f"full/half-width folded {loose.share:7.2%}")
                for miss in score.wrong[:args.show]:
                    print(f"      {miss.path}: expected {miss.expected!r}, got {miss.got!r}")
                if len(score.wrong) > args.show:
                    print(f"      … {len(score.wrong) - args.show} more")
            print(f"  {'all':<24} {overall.right:>4}/{overall.total:<4} {overall.share:7.2%}   "
                  f"full/half-width folded {folded.share:7.2%}   (aim ≥ 98 %)")

        baseline = time_baseline(files, args.runs, args.dpi, args.baseline_pages)
        base, base_cpu = (statistics.median(t) for t in zip(*baseline))
        print()
        print(f"time per page (median over {args.runs} runs; wall, and CPU of all threads and children):")
        print(f"  plain RapidOCR, whole page image   {base:7.2f} s/page   CPU {base_cpu:6.2f} s   "
              f"({min(args.baseline_pages, pages)} pages per run)")
        if ours is not None:
            mine, mine_cpu = (statistics.median(t) for t in zip(*ours))
            print(f"  our engine, parse_file of the scan {mine:7.2f} s/page   CPU {mine_cpu:6.2f} s   "
                  f"({pages} pages per run)")
            print(f"  ratio ours / plain                 {mine / base:7.2f} wall     {mine_cpu / base_cpu:6.2f} CPU"
                  "   (aim ≤ 0.5)")
            boxed, _parses, refusal = time_ours(files, args.runs, lambda path: parse_untrusted(path, APP_LIMITS))
            if refusal is None:
                wall, cpu = (statistics.median(t) for t in zip(*boxed))
                print(f"  our engine in the sandbox          {wall:7.2f} s/page   CPU {cpu:6.2f} s   "
                      f"(parse_untrusted with the app's limits: pages spread over the children)")
                print(f"  ratio sandbox / plain              {wall / base:7.2f} wall     {cpu / base_cpu:6.2f} CPU")
            else:
                print(f"  our engine in the sandbox          refused: {refusal}")
        else:
            print("  our engine                         not measured (no OCR engine yet)")


if __name__ == "__main__":
    main()
