"""Load: 50 simulated users for 60 s against gunicorn (4 sync workers) on PostgreSQL and on SQLite.

What it measures: the JSON API and a few pages under a realistic mix, on loopback only.
About 80 % of the simulated users are 填报人 (each of a different 实施单位, with their own bearer
token) who, over and over, list their projects, open one as of a month's end, enter one to
three indicators' actuals for that month and the month's cumulative spending (each write based
on the version they just read, as a page would send it: a well-formed workload meets no 409 or
422). The other ~20 % are 审核人 (a few of one 主管部门 each and one of all) who read the
overview (API) as of a month's end and their project list, and now and then, signed in through
the login form with its CSRF token, load the overview page and a project page. Each request is
followed by 0–100 ms of think time. For each backend it prints the data-generation time, the
total requests, the throughput, p50/p95/p99 overall and per request kind, and the errors (any
5xx, connection error, timeout or status other than the expected one); then PostgreSQL and
SQLite side by side, and the load average sampled during the runs. Prints figures; passes or
fails nothing. Aims (the issue): p95 under 300 ms and no errors.

Set-up per backend, cached by its parameters (a second run reuses the data; --no-reuse builds
it again): PostgreSQL — database `bench_load_<projects>` on --pg-url (when no server answers
there, a throwaway one is started with initdb/pg_ctl under bench/out/ as the postgres user,
like .ci/run, and stopped at the end); SQLite — a file under bench/out/. Each gets
`flask init-db`, `flask demo synth --projects N --year 2023 --seed 1` (timed), the users
(`flask users create`) and an API token each (`flask users token`). Then
`gunicorn --workers 4 --bind 127.0.0.1:<free port> 'app:create_app()'` runs with production
settings (ENV unset, a random SECRET_KEY) until the run ends.

    .venv/bin/python bench/load.py [--projects 10000] [--users 50] [--seconds 60]
                                   [--backend pg|sqlite|both] [--no-reuse] [--pg-url URL]

The first run at 10,000 projects spends several minutes per backend generating data.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.parse
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = ROOT / ".venv" / "bin"
YEAR, SEED = 2023, 1
PASSWORD = "基准测试-correct-horse-battery"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
SUPERVISOR_DEPARTMENTS = 4          # 审核人 of one 主管部门 each, plus one of all
READER_SHARE = 0.2                  # simulated users who are 审核人
THINK = (0.0, 0.1)                  # seconds between a user's requests
TIMEOUT = 30.0                      # per request; longer counts as an error
MAX_REQUESTS_PER_USER = 100_000     # a bound besides the clock
LAST_DAY = {m: (date(YEAR + (m == 12), m % 12 + 1, 1) - date(YEAR, m, 1)).days for m in range(1, 13)}
EXPECTED_UNUSUAL = (409, 422)       # application answers: counted apart, and errors in this workload


def log(message: str) -> None:
    print(message, flush=True)


def cpu_reference() -> float:
    """Seconds of CPU a fixed pure-Python loop takes here (median of three): runs on a shared
    machine vary with what else it is doing, and this tells a slow moment from slow code."""
    times = []
    for _ in range(3):
        started, total = time.process_time(), 0
        for i in range(5_000_000):
            total += i
        times.append(time.process_time() - started)
    return sorted(times)[1]


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = open("/proc/loadavg").read().split()[:3]
    return float(one), float(five), float(fifteen)


# =========================================================================== set-up

def flask(url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("ENV", "FLASK_DEBUG")}
    env["DATABASE_URL"] = url
    result = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=3600)
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return result.stdout


def pg_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


class ThrowawayPostgres:
    """A PostgreSQL server of our own under bench/out/pg (kept between runs, so its data is
    reused), on a free loopback port, started and stopped as the postgres user like .ci/run."""

    def __init__(self):
        self.root = OUT / "pg"
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
        self.port = free_port()

    def _as_postgres(self, command: str) -> None:
        subprocess.run(["su", "postgres", "-c", command], check=True, stdout=subprocess.DEVNULL, timeout=300)

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.root, "postgres")
        data = self.root / "db"
        if not (data / "PG_VERSION").exists():
            self._as_postgres(f"{self.bin}/initdb -D {data} -A trust -U postgres -E UTF8 --locale=C.UTF-8")
        self._as_postgres(f"{self.bin}/pg_ctl -D {data} -w -l {self.root}/server.log -o '-k {self.root} "
                          f"-h 127.0.0.1 -p {self.port} -c fsync=off -c max_connections=200' start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(["su", "postgres", "-c", f"{self.bin}/pg_ctl -D {self.root / 'db'} -m fast stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def pg_database(server: str, name: str, fresh: bool) -> tuple[str, bool]:
    """The URL of database `name` on `server`; whether it already existed (and is kept)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None
        if exists and fresh:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False), exists


def sample_names(url: str, units: int) -> tuple[list[str], list[str]]:
    """`units` 实施单位 spread over the 主管部门 (distinct), and the 主管部门 with most projects."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        unit_names = [r[0] for r in conn.execute(text(
            "SELECT u.name FROM unit u WHERE EXISTS (SELECT 1 FROM project p WHERE p.unit_id = u.id) "
            "ORDER BY u.id"))]
        departments = [r[0] for r in conn.execute(text(
            "SELECT d.name FROM department d JOIN project_year py ON py.department_id = d.id "
            "GROUP BY d.id, d.name ORDER BY count(*) DESC, d.id LIMIT :n"), {"n": SUPERVISOR_DEPARTMENTS})]
    engine.dispose()
    if len(unit_names) < units:
        raise SystemExit(f"only {len(unit_names)} 实施单位 in the data, {units} 填报人 asked for")
    step = len(unit_names) / units          # every step-th unit: across all 主管部门, not the first few
    return [unit_names[int(i * step)] for i in range(units)], departments


def analyze(url: str) -> None:
    """What autovacuum (PostgreSQL) or `PRAGMA optimize` would have done on a server in use."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        subprocess.run(["sqlite3", path, "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;"], check=False,
                       stdout=subprocess.DEVNULL, timeout=1800)
        return
    from sqlalchemy import create_engine, text
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def prepare(backend: str, url: str, cache: Path, projects: int, managers: int, reuse: bool) -> dict:
    """Data and users for one backend, or the cached facts when they are there."""
    if reuse and cache.exists():
        facts = json.loads(cache.read_text())
        if facts.get("url") == url and len(facts["managers"]) >= managers:
            flask(url, "init-db")  # data kept from an older checkout: bring its schema to this one's
            return {**facts, "reused": True}
    log(f"[{backend}] init-db and demo synth --projects {projects} --year {YEAR} --seed {SEED} …")
    flask(url, "init-db")
    started = time.perf_counter()
    output = flask(url, "demo", "synth", "--projects", str(projects), "--year", str(YEAR), "--seed", str(SEED))
    took = time.perf_counter() - started
    log(f"[{backend}] synth took {took:.1f} s: {output.strip().splitlines()[-1]}")
    started = time.perf_counter()
    analyze(url)
    log(f"[{backend}] analyze took {time.perf_counter() - started:.1f} s")
    units, departments = sample_names(url, managers)
    people = ([(f"bench-tb{i:03d}", "manager", ["--unit", unit], unit) for i, unit in enumerate(units)]
              + [(f"bench-sh{i}", "supervisor", ["--department", dept], dept) for i, dept in enumerate(departments)]
              + [("bench-sh-all", "supervisor", [], "全部")])

    def make(person):
        name, role, scope, _label = person
        flask(url, "users", "create", name, "--role", role, "--password", PASSWORD, *scope)
        return flask(url, "users", "token", name).strip()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:        # two cores: each call is a whole flask process
        tokens = list(pool.map(make, people))
    log(f"[{backend}] {len(people)} users and tokens in {time.perf_counter() - started:.1f} s")
    facts = {"url": url, "generated_seconds": round(took, 1), "synth_output": output.strip().splitlines()[-1],
             "managers": [{"name": p[0], "scope": p[3], "token": t} for p, t in zip(people, tokens) if p[1] == "manager"],
             "supervisors": [{"name": p[0], "scope": p[3], "token": t} for p, t in zip(people, tokens)
                             if p[1] == "supervisor"]}
    cache.write_text(json.dumps(facts, ensure_ascii=False, indent=1))
    return {**facts, "reused": False}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, port: int, logfile: Path, workers: int = 4) -> subprocess.Popen:
    """gunicorn with production settings on the database at `url`, once /healthz answers 200
    (also what tests/test_schemathesis.py serves the API with)."""
    env = {k: v for k, v in os.environ.items() if k not in ("ENV", "FLASK_DEBUG")}
    env.update(DATABASE_URL=url, SECRET_KEY=secrets.token_urlsafe(48))
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                               "--log-level", "warning", "app:create_app()"], cwd=ROOT, env=env,
                              stdout=logfile.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    stop(server)
    raise SystemExit(f"gunicorn did not answer /healthz with 200 (see {logfile})")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


# =========================================================================== where the CPU went

def _proc_cpu(pid: str) -> tuple[int, str, float] | None:
    """(parent pid, command line, CPU seconds) of a process, from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[1]), cmdline, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pid: int, database: str) -> dict:
    """CPU seconds so far of the gunicorn workers, the PostgreSQL backends serving `database`,
    this process (the simulated users), and the whole machine (busy time, all cores)."""
    snap = {"gunicorn": 0.0, "postgres": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        found = _proc_cpu(pid)
        if found is None:
            continue
        ppid, cmdline, cpu = found
        if ppid == server_pid or int(pid) == server_pid:
            snap["gunicorn"] += cpu
        elif database and cmdline.startswith("postgres: ") and f" {database} " in cmdline:
            snap["postgres"] += cpu
    own = os.times()
    snap["load generator"] = own.user + own.system
    values = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    snap["machine busy"] = (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")
    return snap


# =========================================================================== the simulated users

@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict = field(default_factory=lambda: defaultdict(list))      # kind → [ms]
    errors: dict = field(default_factory=lambda: defaultdict(int))      # (kind, what) → count
    samples: dict = field(default_factory=dict)                         # (kind, what) → an answer

    def add(self, kind: str, ms: float, error: str | None = None, sample: str = "") -> None:
        with self.lock:
            self.times[kind].append(ms)
            if error:
                self.errors[(kind, error)] += 1
                self.samples.setdefault((kind, error), sample[:300])


class Client:
    """One simulated user's connection (http.client, re-opened when gunicorn's sync worker
    closes it) and, for the pages, the session cookie by hand: the production cookie is Secure,
    which a cookie jar would keep off plain http; all of this is 127.0.0.1 only."""

    def __init__(self, port: int, results: Results, token: str | None = None):
        self.port, self.results, self.cookies = port, results, {}
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)

    def call(self, kind: str, method: str, path: str, body=None, form: dict | None = None,
             expect: int = 200) -> tuple[int, bytes] | None:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.results.add(kind, (time.perf_counter() - started) * 1000, type(exc).__name__, str(exc))
            return None
        ms = (time.perf_counter() - started) * 1000
        if response.will_close:
            self.conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.status != expect:
            what = f"HTTP {response.status}"
            self.results.add(kind, ms, what, payload.decode("utf-8", "replace"))
            return response.status, payload
        self.results.add(kind, ms)
        return response.status, payload

    def close(self) -> None:
        self.conn.close()


def think(rng: random.Random, deadline: float) -> bool:
    time.sleep(rng.uniform(*THINK))
    return time.monotonic() < deadline


def month_for(rng: random.Random, periods: str) -> int:
    month = rng.randint(1, 12)
    return -(-month // 3) * 3 if periods == "quarterly" else month


def actual_body(ind: dict, month: int, rng: random.Random) -> dict:
    """What a 填报人 enters for the month: the stored value with its version when there is one
    (a correction, nudged a little), else a value on the target's scale with version 0; always
    a 偏差原因, so a yellow or red light is never refused for lack of one."""
    actual, target = ind.get("actual"), ind["target"]
    current = actual if actual and actual.get("period") == f"{YEAR}-{month:02d}" else None
    body = {"version": current["version"] if current else 0, "deviation_reasons": ["其他"],
            "note": f"基准测试 {rng.randint(1, 9999)}"}
    if ind["measure"] == "qualitative":
        body["assessment"] = (current or {}).get("assessment") or "达成"
        return body
    if current and current.get("value") is not None:
        value, unit = current["value"], current.get("unit")
        value = round(value * rng.uniform(0.97, 1.03), 2)
    else:
        base = target.get("value") or 1
        value = round(base * month / 12, 2) if ind["measure"] == "cumulative" else base
        unit = target.get("unit")
    body["value"] = value
    if unit:
        body["unit"] = unit
    if month == 12:
        body["over_reason"] = "实际成效提升"   # the year's last period at r ≥ 130 % needs one (§8); ignored below
    return body


def manager(port: int, token: str, deadline: float, results: Results, seed: int) -> None:
    """填报人: list the projects, open one as of a month's end, enter actuals and spending."""
    rng = random.Random(seed)
    client = Client(port, results, token)
    try:
        projects = []
        for _ in range(MAX_REQUESTS_PER_USER // 5):
            answer = client.call("填报人 GET projects", "GET", f"/api/v1/projects?year={YEAR}")
            if answer and answer[0] == 200:
                projects = json.loads(answer[1])["projects"] or projects
            if not projects or not think(rng, deadline):
                if not projects:
                    results.add("填报人 GET projects", 0, "no projects in scope")
                return
            project_id = rng.choice(projects)["id"]
            month = rng.randint(1, 12)
            as_of = f"{YEAR}-{month:02d}-{LAST_DAY[month]}"
            answer = client.call("填报人 GET project as_of", "GET", f"/api/v1/projects/{project_id}?as_of={as_of}")
            if not think(rng, deadline):
                return
            if not answer or answer[0] != 200:
                continue
            detail = json.loads(answer[1])
            if detail.get("periods") == "quarterly" and month % 3:
                month = -(-month // 3) * 3      # a quarterly project: its quarter's end, read again
                as_of = f"{YEAR}-{month:02d}-{LAST_DAY[month]}"
                answer = client.call("填报人 GET project as_of", "GET", f"/api/v1/projects/{project_id}?as_of={as_of}")
                if not answer or answer[0] != 200 or not think(rng, deadline):
                    continue
                detail = json.loads(answer[1])
            annual = [i for i in detail["indicators"] if i["scope"] == "annual"]
            for ind in rng.sample(annual, min(len(annual), rng.randint(1, 3))):
                client.call("填报人 PUT actual", "PUT", f"/api/v1/indicators/{ind['id']}/actuals/{YEAR}-{month:02d}",
                            body=actual_body(ind, month, rng))
                if not think(rng, deadline):
                    return
            budget = detail["budget"]
            current = budget if budget.get("period") == f"{YEAR}-{month:02d}" else None
            amount = budget.get("spent_yuan") or round((budget.get("annual_yuan") or 1_000_000) * month / 12, 2)
            # A month before the latest reported one may now exceed a later month's figure (冲减 there),
            # which needs a note as much as spending above the budget in force does (DOMAIN §3): the
            # simulated 填报人 writes one every time, as a page would make them after a 422.
            body = {"amount_yuan": round(amount * rng.uniform(1.0, 1.02), 2),
                    "version": current["version"] if current else 0, "note": "按财务月报更正累计支出"}
            if month == 12 or (budget.get("annual_yuan") is not None and body["amount_yuan"] > budget["annual_yuan"]):
                body["note"] = "追加预算待批复"      # above the budget in force
            client.call("填报人 PUT spending", "PUT", f"/api/v1/projects/{project_id}/spending/{YEAR}-{month:02d}",
                        body=body)
            if not think(rng, deadline):
                return
    finally:
        client.close()


def supervisor(port: int, account: dict, deadline: float, results: Results, seed: int) -> None:
    """审核人: the overview as of a month's end and the project list (API); now and then the
    overview page and a project page, signed in through the login form."""
    rng = random.Random(seed)
    api, browser = Client(port, results, account["token"]), Client(port, results)
    signed_in, page_ids = False, []
    try:
        for _ in range(MAX_REQUESTS_PER_USER // 4):
            month = rng.randint(1, 12)
            as_of = f"{YEAR}-{month:02d}-{LAST_DAY[month]}"
            api.call("审核人 GET overview API", "GET", f"/api/v1/reports/overview?year={YEAR}&as_of={as_of}")
            if not think(rng, deadline):
                return
            answer = api.call("审核人 GET projects", "GET", f"/api/v1/projects?year={YEAR}")
            if not think(rng, deadline):
                return
            if answer and answer[0] == 200 and not page_ids:
                listed = json.loads(answer[1])["projects"]
                for item in rng.sample(listed, min(3, len(listed))):     # the page takes the Project id
                    found = api.call("审核人 GET project as_of", "GET", f"/api/v1/projects/{item['id']}?as_of={as_of}")
                    if found and found[0] == 200:
                        page_ids.append(json.loads(found[1])["project_id"])
                    if not think(rng, deadline):
                        return
            if rng.random() < 0.25:
                if not signed_in:
                    signed_in = login(browser, account["name"])
                    if not think(rng, deadline):
                        return
                if signed_in:
                    browser.call("审核人 page overview", "GET", f"/reports/overview?year={YEAR}&as_of={as_of}")
                    if not think(rng, deadline):
                        return
                    if page_ids:
                        browser.call("审核人 page project", "GET", f"/projects/{rng.choice(page_ids)}?year={YEAR}")
                        if not think(rng, deadline):
                            return
    finally:
        api.close()
        browser.close()


def login(browser: Client, username: str) -> bool:
    answer = browser.call("审核人 page login", "GET", "/login")
    if not answer or answer[0] != 200:
        return False
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', answer[1])
    if not found:
        browser.results.add("审核人 page login", 0, "no csrf_token in the form")
        return False
    answer = browser.call("审核人 POST login", "POST", "/login", expect=303,
                          form={"csrf_token": found.group(1).decode(), "username": username, "password": PASSWORD})
    return bool(answer and answer[0] == 303)


def run_load(port: int, facts: dict, users: int, seconds: float) -> tuple[Results, float, list]:
    results = Results()
    readers = max(1, round(users * READER_SHARE)) if users > 1 else 0
    writers = users - readers
    start = time.monotonic()
    deadline = start + seconds
    threads = []
    for i in range(writers):
        account = facts["managers"][i % len(facts["managers"])]
        threads.append(threading.Thread(target=manager, args=(port, account["token"], deadline, results, i),
                                        daemon=True))
    for i in range(readers):
        account = facts["supervisors"][i % len(facts["supervisors"])]
        threads.append(threading.Thread(target=supervisor, args=(port, account, deadline, results, 1000 + i),
                                        daemon=True))
    loads, stop_sampling = [], threading.Event()

    def sample():
        while not stop_sampling.wait(5):
            loads.append(loadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for thread in threads:
        thread.start()
    for thread in threads:       # a request may still be in flight at the deadline: TIMEOUT more at most
        thread.join(timeout=max(0.0, deadline + TIMEOUT + 5 - time.monotonic()))
    elapsed = time.monotonic() - start
    stop_sampling.set()
    sampler.join(timeout=10)
    loads.append(loadavg()[0])
    return results, elapsed, loads


# =========================================================================== figures

def pad(text: str, width: int) -> str:
    """Left-justified to a terminal width: a Chinese character takes two columns."""
    wide = sum(1 for c in text if unicodedata.east_asian_width(c) in "WF")
    return text + " " * max(0, width - len(text) - wide)


def pct(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def summary(results: Results, elapsed: float) -> dict:
    every = [ms for values in results.times.values() for ms in values]
    kinds = {kind: {"n": len(v), "p50": pct(v, .5), "p95": pct(v, .95), "p99": pct(v, .99), "max": max(v),
                    "errors": sum(c for (k, _w), c in results.errors.items() if k == kind)}
             for kind, v in sorted(results.times.items())}
    return {"requests": len(every), "seconds": elapsed, "rps": len(every) / elapsed if elapsed else 0,
            "p50": pct(every, .5), "p95": pct(every, .95), "p99": pct(every, .99),
            "max": max(every) if every else float("nan"),
            "errors": sum(results.errors.values()), "kinds": kinds}


def report(backend: str, facts: dict, s: dict, results: Results, loads: list, users: int) -> None:
    how = "reused; generated earlier in" if facts["reused"] else "generated in"
    log(f"\n=== {backend}: {users} users, {s['seconds']:.1f} s, gunicorn 4 sync workers")
    log(f"data: {how} {facts['generated_seconds']:.1f} s — {facts['synth_output']}")
    log(f"requests {s['requests']}, throughput {s['rps']:.1f} req/s, p50 {s['p50']:.0f} ms, "
        f"p95 {s['p95']:.0f} ms, p99 {s['p99']:.0f} ms, max {s['max']:.0f} ms, errors {s['errors']}")
    log(f"load average (1 min) during the run: mean {sum(loads) / len(loads):.2f}, max {max(loads):.2f}")
    log(f"{pad('kind', 28)}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for kind, k in s["kinds"].items():
        log(f"{pad(kind, 28)}{k['n']:>7}{k['p50']:>9.0f}{k['p95']:>9.0f}{k['p99']:>9.0f}{k['max']:>9.0f}{k['errors']:>8}")
    for (kind, what), count in sorted(results.errors.items()):
        log(f"  error: {kind}: {what} × {count} — e.g. {results.samples[(kind, what)]!r}")


def side_by_side(summaries: dict) -> None:
    names = list(summaries)
    log("\n=== side by side\n" + pad("", 32) + "".join(f"{n:>14}" for n in names))
    rows = [("data generated in s", lambda s, f: f"{f['generated_seconds']:.0f}"),
            ("requests", lambda s, f: f"{s['requests']}"),
            ("throughput req/s", lambda s, f: f"{s['rps']:.1f}"),
            ("p50 ms", lambda s, f: f"{s['p50']:.0f}"),
            ("p95 ms (aim < 300)", lambda s, f: f"{s['p95']:.0f}"),
            ("p99 ms", lambda s, f: f"{s['p99']:.0f}"),
            ("errors (aim 0)", lambda s, f: f"{s['errors']}")]
    kinds = sorted({k for s, _f, _l in summaries.values() for k in s["kinds"]})
    for label, value in rows:
        log(f"{pad(label, 32)}" + "".join(f"{value(s, f):>14}" for s, f, _l in summaries.values()))
    for kind in kinds:
        cells = []
        for s, _f, _l in summaries.values():
            k = s["kinds"].get(kind)
            cells.append(f"{k['p95']:.0f}" if k else "-")
        log(f"{pad('p95 ' + kind, 32)}" + "".join(f"{c:>14}" for c in cells))
    log(f"{pad('load avg 1 min, mean/max', 32)}" + "".join(
        f"{f'{sum(l) / len(l):.1f}/{max(l):.1f}':>14}" for _s, _f, l in summaries.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--backend", choices=("pg", "sqlite", "both"), default="both")
    parser.add_argument("--reuse", action=argparse.BooleanOptionalAction, default=True,
                        help="reuse data generated earlier with the same parameters (default); --no-reuse builds it anew")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="a PostgreSQL server (its maintenance database)")
    args = parser.parse_args()
    if not 1 <= args.users <= 1000 or not 1 <= args.seconds <= 3600:
        parser.error("--users 1…1000, --seconds 1…3600")
    OUT.mkdir(parents=True, exist_ok=True)
    managers = args.users          # one 填报人 account per simulated user at most, each its own 实施单位
    log(f"load before: {loadavg()} (1, 5, 15 min; {os.cpu_count()} cores)")
    summaries, throwaway = {}, None
    try:
        for backend in (("pg", "sqlite") if args.backend == "both" else (args.backend,)):
            if backend == "pg":
                server = args.pg_url
                if not pg_reachable(server):
                    log(f"[pg] no server at {server}: starting a throwaway one under {OUT / 'pg'}")
                    throwaway = ThrowawayPostgres()
                    server = throwaway.start()
                cache = OUT / f"load-pg-{args.projects}-{YEAR}-seed{SEED}.json"
                kept = args.reuse and cache.exists()        # else the database is made anew
                url, existed = pg_database(server, f"bench_load_{args.projects}", fresh=not kept)
                if not existed:
                    cache.unlink(missing_ok=True)
                label = "PostgreSQL"
            else:
                db = OUT / f"load-{args.projects}-{YEAR}-seed{SEED}.db"
                cache = OUT / f"load-sqlite-{args.projects}-{YEAR}-seed{SEED}.json"
                if not (args.reuse and cache.exists() and db.exists()):
                    cache.unlink(missing_ok=True)
                    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                        stale.unlink(missing_ok=True)
                url, label = f"sqlite:///{db}", "SQLite"
            facts = prepare(backend, url, cache, args.projects, managers, args.reuse)
            log(f"[{backend}] CPU reference: a fixed Python loop takes {cpu_reference():.3f} s here now")
            port = free_port()
            logfile = OUT / f"load-gunicorn-{backend}.log"
            server_process = serve(url, port, logfile)
            try:
                log(f"[{backend}] gunicorn on 127.0.0.1:{port}; {args.users} users for {args.seconds:.0f} s …")
                database = url.rsplit("/", 1)[1] if backend == "pg" else ""
                before = cpu_snapshot(server_process.pid, database)
                results, elapsed, loads = run_load(port, facts, args.users, args.seconds)
                after = cpu_snapshot(server_process.pid, database)
            finally:
                stop(server_process)
            s = summary(results, elapsed)
            report(label, facts, s, results, loads, args.users)
            cpu = {k: after[k] - before[k] for k in before}
            log(f"CPU during the run ({os.cpu_count()} cores × {elapsed:.0f} s = {os.cpu_count() * elapsed:.0f} s): "
                + ", ".join(f"{k} {v:.1f} s" for k, v in cpu.items())
                + f"; per request: gunicorn {cpu['gunicorn'] / max(1, s['requests']) * 1000:.1f} ms"
                + (f", PostgreSQL {cpu['postgres'] / max(1, s['requests']) * 1000:.1f} ms" if database else ""))
            summaries[label] = (s, facts, loads)
    finally:
        if throwaway:
            throwaway.stop()
    if len(summaries) > 1:
        side_by_side(summaries)
    log(f"\nload after: {loadavg()} (1, 5, 15 min; {os.cpu_count()} cores)")


if __name__ == "__main__":
    sys.exit(main())
