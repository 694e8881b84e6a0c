"""Nothing derived goes stale (issue #12): `flask check` after demo data and a series of random changes.

A fresh database gets the demo forms (`flask demo seed`) and synthetic projects (`flask demo
synth`); then random changes go through the product's own write functions, each in its own
transaction as a page or the API makes it: new actuals and corrections (record_actual, values
in any unit of the target's base, some with more decimals than are kept), spending
(record_spending; half of it with a note, so 超预算 / 冲减 are both stored and refused), a measure chosen (set_measure), monthly ↔ quarterly reporting
(set_periods), re-imports of a changed demo form (apply_import: a target raised or lowered,
given another unit or made qualitative, the 年度资金总额 changed, an indicator dropped or
added), 目标调整 proposed and approved or returned (services/target_adjustment.py), and
entries the rules refuse (rolled back, nothing written). Finally `flask check`
recomputes every stored derived value; the script exits with its code (0: nothing stale).

    python scripts/check_scenario.py --database-url sqlite:////tmp/scenario.db --seed 1
                                     [--projects 200] [--changes 300]

CI (.ci/run) runs it on SQLite and on PostgreSQL; tests/test_check_scenario.py runs the same
scenario in-process on a smaller scale.
"""
from __future__ import annotations

import argparse
import copy
import os
import random
import secrets
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

YEAR = 2023
WHO = "随机场景"
NOW = datetime(2024, 2, 1, 1, 0, tzinfo=timezone.utc)      # the year 2023 is over: every period is open
SEED_SHARE = 0.3        # changes aimed at the demo forms' projects, which can be re-imported
# How often each kind of change is drawn.
KINDS = {"entry": 40, "correction": 20, "spending": 15, "reimport": 10, "measure": 6, "periods": 4, "refused entry": 5,
         "target adjustment": 6}

Command = Callable[..., tuple[int, str]]      # flask command arguments → (exit code, output)
# Every choice is drawn from rows in id order: the same seed makes the same changes on either backend.


# =========================================================================== the scenario

@dataclass
class Tally:
    applied: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)

    def line(self) -> str:
        def show(counts: Counter) -> str:
            return "，".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "无"
        return f"已执行：{show(self.applied)}；被拒绝（已回滚）：{show(self.refused)}"


def prepare(flask: Command, projects: int) -> None:
    """The schema, the demo forms and the synthetic year, through the commands themselves."""
    for args in (("init-db",), ("demo", "seed"), ("demo", "synth", "--projects", str(projects), "--year", str(YEAR))):
        code, output = flask(*args)
        if code != 0:
            raise SystemExit(f"flask {' '.join(args)} 失败（退出码 {code}）：\n{output[-2000:]}")


def demo_forms() -> list[dict]:
    """The demo PDF's forms as the importer reads them (what `flask demo seed` stored)."""
    from commands.demo import DEMO_DIR
    from importers import parse_file
    return [form for path in sorted(DEMO_DIR.glob("*.pdf")) for form in parse_file(path).forms]


def random_changes(app, seed: int, count: int) -> Tally:
    """`count` random changes, each in its own transaction; a refused one rolls back."""
    from models.actual import EntryError, StaleEdit
    from models.db import get_session, transaction
    from services.target_adjustment import AdjustmentConflict

    rng, tally = random.Random(seed), Tally()
    with app.app_context():
        session = get_session()
        changes = Changes(session, rng, demo_forms())
        for _ in range(count):
            kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
            try:
                with transaction(session):
                    getattr(changes, kind.replace(" ", "_"))()
            except (EntryError, StaleEdit, AdjustmentConflict):
                tally.refused[kind] += 1
            else:
                tally.applied[kind] += 1
    return tally


def scenario(app, flask: Command, *, seed: int, projects: int, changes: int) -> tuple[int, str, Tally]:
    """Prepare, change at random, check: (check's exit code, its output, what was done)."""
    prepare(flask, projects)
    tally = random_changes(app, seed, changes)
    code, output = flask("check")
    return code, output, tally


# =========================================================================== the changes

class Changes:
    """One method per kind of change; each writes through the product's own functions."""

    def __init__(self, session, rng: random.Random, forms: list[dict]):
        self.session, self.rng, self.forms = session, rng, copy.deepcopy(forms)
        self.imports = 0

    @property
    def ctx(self):
        from services.entry import Context
        return Context(WHO, NOW)

    # --- what to change

    def _project_year(self):
        from sqlalchemy import select

        from models.project import Project, ProjectYear
        seeded = [form["project_name"] for form in self.forms]
        in_seed = ProjectYear.project_id.in_(select(Project.id).where(Project.name.in_(seeded)))
        condition = in_seed if self.rng.random() < SEED_SHARE else ~in_seed
        ids = self.session.scalars(select(ProjectYear.id).where(ProjectYear.year == YEAR, condition)
                                   .order_by(ProjectYear.id)).all()
        return self.session.get(ProjectYear, self.rng.choice(ids))

    def _indicator(self, numeric: bool = False):
        from sqlalchemy import select

        from models.indicator import Indicator
        while True:
            py = self._project_year()
            query = select(Indicator.id).where(Indicator.project_year_id == py.id, Indicator.retired_at.is_(None),
                                               Indicator.annual_raw.is_not(None))
            if numeric:
                query = query.where(Indicator.annual_value.is_not(None))
            ids = self.session.scalars(query.order_by(Indicator.id)).all()
            if ids:
                return self.session.get(Indicator, self.rng.choice(ids)), py

    def _period(self, py) -> int:
        from domain.calendar import YearCalendar
        return self.rng.choice(YearCalendar(py.year, py.periods).months)

    # --- entries

    def entry(self, correction: bool = False) -> None:
        from models.actual import actual_of
        from services.entry import record_actual
        ind, py = self._indicator()
        month = self._period(py)
        existing = actual_of(self.session, ind.id, month)
        if correction and existing is None:
            stored = self._stored_months(ind.id)
            month = self.rng.choice(stored) if stored else month
            existing = actual_of(self.session, ind.id, month)
        record_actual(self.session, ind, py, py.year, month, self._input(ind, month, existing), self.ctx)

    def correction(self) -> None:
        self.entry(correction=True)

    def _stored_months(self, indicator_id: int) -> list[int]:
        from sqlalchemy import select

        from models.actual import Actual
        return list(self.session.scalars(select(Actual.month).where(Actual.indicator_id == indicator_id)
                                         .order_by(Actual.month)))

    def _input(self, ind, month: int, existing):
        from domain import rules
        from domain.indicators import annual_target, effective_measure
        from models.actual import ActualInput
        version = existing.version if existing else None
        common = {"deviation_reasons": ["其他"], "deviation_note": WHO, "over_reason": WHO, "version": version}
        measure = effective_measure(ind)
        if measure == rules.QUALITATIVE:
            return ActualInput(assessment=self.rng.choice(rules.ASSESSMENTS), **common)
        value, unit = self._value(annual_target(ind), measure, month)
        return ActualInput(value=value, unit=unit, **common)

    def _value(self, target, measure: str, month: int) -> tuple[str, str | None]:
        """A value near where the target would stand, in a unit of its base, as typed."""
        from domain import rules
        from domain.units import split_unit, unit_choices
        share = self.rng.uniform(0, 1.6) * (month / 12 if measure == rules.CUMULATIVE else 1)
        unit = self.rng.choice(unit_choices(target.unit))
        value = target.value * Decimal(str(share)) * split_unit(target.unit)[0] / split_unit(unit)[0]
        places = self.rng.choice((0, 0, 1, 2, 6, 8))       # 8: more decimals than the column keeps
        return f"{value:.{places}f}", unit or None

    def refused_entry(self) -> None:
        """An entry the rules turn down: a unit of another base, or no value at all."""
        from models.actual import ActualInput
        from services.entry import record_actual
        ind, py = self._indicator(numeric=True)
        wrong = ActualInput(value="12", unit="公里每小时") if self.rng.random() < 0.5 else ActualInput()
        record_actual(self.session, ind, py, py.year, self._period(py), wrong, self.ctx)

    # --- spending, measure, periods

    def spending(self) -> None:
        from models.actual import spending_of
        from services.entry import record_spending
        py = self._project_year()
        month = self._period(py)
        existing = spending_of(self.session, py.id, month)
        budget = py.annual_total_yuan or Decimal(1_000_000)
        amount = budget * Decimal(str(self.rng.uniform(0, 1.3) * month / 12))
        places = self.rng.choice((0, 2, 2, 3))            # 3: a fraction of a fen, as an API client may send
        # Without a note, spending above the budget or below an earlier month's is refused (超预算 / 冲减)
        note = self.rng.choice((None, "退回、冲销或追加预算待批复"))
        record_spending(self.session, py, py.year, month, f"{amount:.{places}f}", self.ctx,
                        existing.version if existing else None, note=note)

    def measure(self) -> None:
        from domain import rules
        from services.tracking import set_measure
        ind, py = self._indicator(numeric=True)
        set_measure(self.session, ind, py, self.rng.choice((rules.CUMULATIVE, rules.LEVEL, rules.QUALITATIVE, None)),
                    self.ctx)

    def periods(self) -> None:
        from domain import rules
        from services.tracking import set_periods
        py = self._project_year()
        set_periods(self.session, py, rules.QUARTERLY if py.periods == rules.MONTHLY else rules.MONTHLY, self.ctx)

    # --- 目标调整

    def target_adjustment(self) -> None:
        """A new 年度 target proposed (now and then an indicator withdrawn or added besides) and,
        mostly, approved; some are returned, some refused (a target of another base than the
        actuals entered: rolled back)."""
        from services.inputs import current_config
        from services.target_adjustment import ProposalInput, ReturnInput, approve, propose, return_proposal
        ind, py = self._indicator(numeric=True)
        number = (ind.annual_value * Decimal(str(self.rng.uniform(0.5, 1.5)))).quantize(Decimal("0.01")).normalize()
        changes = [{"indicator_id": ind.id, "target": f"{ind.annual_op or '≥'}{number:f}{ind.annual_unit or ''}"
                    .replace(">=", "≥").replace("<=", "≤")}]
        if self.rng.random() < 0.2:
            changes.append({"level1": "产出指标", "level2": "质量指标", "level3": f"调整新增{self.rng.randrange(10**6)}",
                            "target": self.rng.choice(("≥90%", "按时完成", "≥3次"))})
        config = current_config()
        adjustment = propose(self.session, py, ProposalInput(reason=WHO, changes=changes), WHO, NOW, config)
        if self.rng.random() < 0.85:
            approve(self.session, adjustment, WHO, NOW, config)
        else:
            return_proposal(self.session, adjustment, ReturnInput(comment=WHO), WHO, NOW, config)

    # --- re-imports

    def reimport(self) -> None:
        """One demo form again, changed the way a corrected 申报表 is."""
        from services.importing import apply_import
        form = self.rng.choice(self.forms)
        self.rng.choice((self._new_target, self._new_target, self._new_budget, self._drop_indicator,
                         self._add_indicator))(form)
        self.imports += 1
        sha = f"{self.imports:064x}"
        apply_import(self.session, [copy.deepcopy(form)], file_name=f"更正{self.imports}.pdf", file_sha256=sha,
                     who=WHO, now=NOW, reorganise=True)

    def _new_target(self, form: dict) -> None:
        from importers.values import parse_target
        item = self.rng.choice([item for item in form["indicators"] if item["annual"]])
        old = item["annual"]["target"]
        number = Decimal(str(old["value"] if old["value"] is not None else self.rng.randint(1, 100)))
        value = (number * Decimal(str(self.rng.uniform(0.5, 1.5)))).quantize(Decimal("0.01")).normalize()
        raw = self.rng.choice((f"≥{value:f}{old['unit'] or ''}", f"≤{value:f}{old['unit'] or ''}",
                               f"≥{value:f}%", f"≥{value:f}{old['unit'] or '个'}", "保障"))
        item["annual"]["target"] = parse_target(raw).as_dict()

    def _new_budget(self, form: dict) -> None:
        total = form["funds"]["annual"]["total"] or 1_000_000
        form["funds"]["annual"]["total"] = round(total * self.rng.uniform(0.5, 1.5), 2)

    def _drop_indicator(self, form: dict) -> None:
        if len(form["indicators"]) > 3:
            form["indicators"].pop(self.rng.randrange(len(form["indicators"])))

    def _add_indicator(self, form: dict) -> None:
        from importers.values import parse_target
        name = f"新增指标{self.imports + 1}"
        target = parse_target(self.rng.choice(("≥10个", "≥95%", "≤50万元", "按时"))).as_dict()
        form["indicators"].append({"level1": "产出指标", "period": None,
                                   "annual": {"level2": "数量指标", "level3": name, "target": target}})


# =========================================================================== as a script

def cli_command(database_url: str) -> Command:
    """`flask …` as its own process on this database, as CI and an operator run it."""
    env = {k: v for k, v in os.environ.items() if k not in ("ENV", "FLASK_DEBUG")}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(ROOT))

    def run(*args: str) -> tuple[int, str]:
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return result.returncode, result.stdout
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="一个新的空数据库")
    parser.add_argument("--seed", type=int, required=True, help="随机种子：相同的种子做相同的改动")
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--changes", type=int, default=300)
    args = parser.parse_args()

    from app import create_app
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": secrets.token_urlsafe(48)})
    code, output, tally = scenario(app, cli_command(args.database_url), seed=args.seed, projects=args.projects,
                                   changes=args.changes)
    app.extensions["engine"].dispose()
    print(f"随机改动（种子 {args.seed}）：{tally.line()}")
    print(output.rstrip())
    sys.exit(code)


if __name__ == "__main__":
    main()
