"""One entry's cost: `record_actual` and `record_spending`, each in its own transaction as a page
or the API makes it, on a seeded SQLite database (the demo forms and `flask demo synth`).

What one entry does besides storing its row: its history, the report summaries of its project
year and the project year's open alerts (services/alerts.py, from the domain core). This times
N entries of each kind — corrections and first entries alike, on synthetic project years of
10–20 indicators with a year of actuals — and prints the median, p95 and max in milliseconds,
with a CPU reference, since the machine is shared. Prints figures; passes or fails nothing.

    .venv/bin/python bench/entry.py [--projects 200] [--entries 200] [--seed 1]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import cpu_reference  # noqa: E402

OUT = ROOT / "bench" / "out"
YEAR = 2023
NOW = datetime(2023, 12, 20, 2, 0, tzinfo=timezone.utc)      # 10:00 in Shanghai: November is due


def make_app(db: Path):
    from app import create_app
    from models.migrate import upgrade
    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)
    app = create_app({"DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "bench-only-" + "k" * 32,
                      "CLOCK": lambda: NOW})
    upgrade(app.extensions["engine"])
    return app


def prepare(app, projects: int) -> None:
    runner = app.test_cli_runner()
    for args in (["demo", "seed"], ["demo", "synth", "--projects", str(projects), "--year", str(YEAR)]):
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise SystemExit(result.output)


def quantiles(times: list[tuple[float, float]]) -> str:
    """Wall and CPU time: on a shared machine the CPU time is the steadier figure."""
    def line(seconds: list[float]) -> str:
        ms = sorted(t * 1000 for t in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * len(ms)) - 1)]
        return f"median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms"
    return f"wall {line([w for w, _c in times])}; CPU {line([c for _w, c in times])} (n = {len(times)})"


def timed(session, count: int, write) -> list[tuple[float, float]]:
    """Seconds (wall, CPU) each of `count` writes took, each in its own transaction; a write the
    rules turn down (a quarterly project's month, a value out of range) is drawn again and not
    counted."""
    from models.actual import EntryError
    from models.db import transaction

    times = []
    while len(times) < count:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            with transaction(session):
                write()
        except EntryError:
            continue
        finally:
            session.expunge_all()
        times.append((time.perf_counter() - started, time.process_time() - cpu))
    return times


def time_entries(app, count: int, seed: int) -> tuple[list, list]:
    from sqlmodel import select

    from domain import rules
    from domain.indicators import effective_measure
    from models.actual import ActualInput
    from models.db import get_session
    from models.indicator import Indicator
    from models.project import ProjectYear
    from services.inputs import thresholds
    from services.entry import Context, record_actual, record_spending

    rng = random.Random(seed)
    ctx = Context("基准测试", NOW, thresholds(app.config))
    with app.app_context():
        session = get_session()
        indicators = list(session.exec(select(Indicator.id).where(Indicator.retired_at.is_(None),
                                                                  Indicator.annual_raw.is_not(None))))
        years = list(session.exec(select(ProjectYear.id)))
        session.rollback()

        def actual() -> None:
            ind = session.get(Indicator, rng.choice(indicators))
            month = rng.randint(1, 11)
            if effective_measure(ind) == rules.QUALITATIVE:
                data = ActualInput(assessment=rng.choice(rules.ASSESSMENTS), deviation_reasons=["其他"])
            else:
                share = Decimal(month) / 12 * Decimal(str(rng.uniform(0.4, 1.2)))
                data = ActualInput(value=((ind.annual_value or Decimal(1)) * share).quantize(Decimal("0.01")),
                                   deviation_reasons=["其他"])
            record_actual(session, ind, session.get(ProjectYear, ind.project_year_id), YEAR, month, data, ctx)

        def spending() -> None:
            py, month = session.get(ProjectYear, rng.choice(years)), rng.randint(1, 11)
            share = Decimal(month) / 12 * Decimal(str(rng.uniform(0.4, 1.1)))
            record_spending(session, py, YEAR, month, ((py.annual_total_yuan or Decimal(100_000)) * share)
                            .quantize(Decimal(1)), ctx)

        return timed(session, count, actual), timed(session, count, spending)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    app = make_app(OUT / "entry.db")
    started = time.perf_counter()
    prepare(app, args.projects)
    print(f"data: demo seed + synth --projects {args.projects}: {time.perf_counter() - started:.1f} s")
    print(f"CPU reference: {cpu_reference():.2f} s")
    actuals, spending = time_entries(app, args.entries, args.seed)
    print(f"record_actual:   {quantiles(actuals)}")
    print(f"record_spending: {quantiles(spending)}")
    app.extensions["engine"].dispose()


if __name__ == "__main__":
    main()
