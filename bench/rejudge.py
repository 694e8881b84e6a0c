"""Re-judging a province after a settings change: 10,000 projects, ~150,000 indicators × 12 months.

A change of the light bands (PACE_BANDS, LEVEL_YELLOW) must re-judge every stored actual and
spending report and rebuild the report summaries: `services.derived.rejudge_all` loads every
project year, judges it with the domain core and rewrites the rows that differ, in one
transaction. This times that on the SQLite database of bench/province.py (`flask demo synth
--projects 10000 --year 2023`, built once and kept under bench/out/), copied to a work file so
the cached data stays as generated. The runs alternate between changed bands (pace green 0.9,
yellow 0.7; level yellow 0.95) and the defaults, so every run really rewrites the same rows.

Prints, as the median of the runs: seconds (rejudge_all, then the commit; wall and CPU),
project years per second, actual rows (indicator-months) judged per second, and the rows
rewritten (SQLite's count of rows changed); and a CPU reference, since the machine is shared.
Aim (issue #12): ≤ 60 s. Prints figures; passes or fails nothing.

    .venv/bin/python bench/rejudge.py [--projects 10000] [--runs 3]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import cpu_reference  # noqa: E402
from province import OUT, database  # noqa: E402

CHANGED = {"PACE_BANDS": {"green": 0.9, "yellow": 0.7}, "LEVEL_YELLOW": 0.95}
DEFAULTS: dict = {}


@dataclass
class Run:
    bands: str
    rejudge_wall: float
    rejudge_cpu: float
    commit_wall: float
    rows_changed: int
    differences: int

    @property
    def wall(self) -> float:
        return self.rejudge_wall + self.commit_wall


def work_copy(db: Path) -> Path:
    """The benchmark's own copy of the generated database (its runs rewrite it)."""
    work = OUT / "rejudge-work.db"
    for stale in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(db, work)
    return work


def counts(engine) -> tuple[int, int, int]:
    from sqlalchemy import text
    with engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                     for table in ("project_year", "indicator", "actual"))


def run_once(engine, name: str, config: dict) -> Run:
    from sqlalchemy import text
    from sqlmodel import Session

    from models.db import transaction
    from services import derived

    with Session(engine) as session:
        with transaction(session):
            before = session.execute(text("SELECT total_changes()")).scalar()
            started, cpu = time.perf_counter(), time.process_time()
            diffs = derived.rejudge_all(session, config)
            rejudge_wall, rejudge_cpu = time.perf_counter() - started, time.process_time() - cpu
            changed = session.execute(text("SELECT total_changes()")).scalar() - before
            committing = time.perf_counter()
        commit_wall = time.perf_counter() - committing
    return Run(name, rejudge_wall, rejudge_cpu, commit_wall, changed, len(diffs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    db, facts = database(args.projects, 2023, 1)
    print(f"data: {facts['synth_output']}" + (" (reused)" if facts["reused"] else
                                             f" (generated in {facts['generated_seconds']} s)"))
    import models  # noqa: F401  (registers every table)
    from models.db import make_engine
    engine = make_engine(f"sqlite:///{work_copy(db)}")
    years, indicators, actuals = counts(engine)
    print(f"project years {years:,}, indicators {indicators:,}, actual rows {actuals:,}")
    runs = []
    for n in range(args.runs):
        name, config = ("changed", CHANGED) if n % 2 == 0 else ("default", DEFAULTS)
        run = run_once(engine, name, config)
        runs.append(run)
        print(f"run {n + 1} ({name} bands): rejudge_all {run.rejudge_wall:.1f} s (CPU {run.rejudge_cpu:.1f} s), "
              f"commit {run.commit_wall:.1f} s, {run.differences:,} differences, {run.rows_changed:,} rows rewritten")
    engine.dispose()
    wall = statistics.median(r.wall for r in runs)
    print(f"median of {args.runs}: {wall:.1f} s (rejudge_all {statistics.median(r.rejudge_wall for r in runs):.1f} s, "
          f"CPU {statistics.median(r.rejudge_cpu for r in runs):.1f} s; aim ≤ 60 s)")
    print(f"  {years / wall:,.0f} project years/s, {actuals / wall:,.0f} actual rows judged/s, "
          f"{statistics.median(r.rows_changed for r in runs):,.0f} rows rewritten")
    print(f"CPU reference (a fixed loop, lower is a faster moment): {cpu_reference():.2f} s")


if __name__ == "__main__":
    main()
