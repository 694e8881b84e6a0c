"""Province scale: the overview (page and API) and the red-alert list against /healthz.

Builds — or reuses, keyed by its parameters — an SQLite database with `flask demo synth`
(by default 10,000 projects of 2023: 100 主管部门, 1,000 实施单位, ~150,000 indicators and a
year of monthly actuals), prints how long generating it took, then serves the app with
gunicorn (one sync worker, production settings) and times sequential requests as a signed-in
admin and with an API token. The targets are interleaved round by round, so a burst of load
from elsewhere on the machine hits them alike; /healthz, measured in the same rounds, is the
floor everything else stands on. Prints figures; passes or fails nothing.

    .venv/bin/python bench/province.py [--projects 10000] [--year 2023] [--seed 1] [--rounds 30]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = ROOT / ".venv" / "bin"
USER, PASSWORD = "bench-admin", "基准测试-correct-horse-battery"


def flask(db: Path, *args: str, capture: bool = True) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    result = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None, stderr=subprocess.DEVNULL if capture else None)
    return result.stdout or ""


def database(projects: int, year: int, seed: int) -> tuple[Path, dict]:
    """The synthetic database for these parameters, generated once; how long that took."""
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"province-{projects}-{year}-seed{seed}.db"
    facts = db.with_suffix(".json")
    if db.exists() and facts.exists():
        flask(db, "init-db")       # data kept from an older checkout: bring its schema to this one's
        return db, {**json.loads(facts.read_text()), "reused": True}
    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)
    flask(db, "init-db")
    started = time.perf_counter()
    output = flask(db, "demo", "synth", "--projects", str(projects), "--year", str(year), "--seed", str(seed))
    took = time.perf_counter() - started
    flask(db, "users", "create", USER, "--role", "admin", "--password", PASSWORD)
    subprocess.run(["sqlite3", str(db), "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;"], check=False,
                   stdout=subprocess.DEVNULL)
    info = {"generated_seconds": round(took, 1), "synth_output": output.strip().splitlines()[-1]}
    facts.write_text(json.dumps(info, ensure_ascii=False))
    return db, {**info, "reused": False}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """A browser's cookie by hand: the production cookie is Secure, which urllib's jar would
    keep off plain http; the benchmark talks to 127.0.0.1 only."""

    def __init__(self, base: str):
        self.base, self.cookies = base, {}

    def open(self, path: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request, timeout=60)
        except urllib.error.HTTPError as exc:
            response = exc
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.read()

    def login(self) -> None:
        _status, page = self.open("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        status, _ = self.open("/login", {"csrf_token": token, "username": USER, "password": PASSWORD})
        assert status == 303, f"login failed: {status}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def serve(db: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": secrets.token_urlsafe(48)}
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
                               "--log-level", "warning", "app:create_app()"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


def timed(fetch) -> tuple[float, int]:
    started = time.perf_counter()
    status, body = fetch()
    elapsed = (time.perf_counter() - started) * 1000
    assert status == 200, f"status {status}"
    return elapsed, len(body)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=30, help="timed requests per target (≥ 20)")
    args = parser.parse_args()

    print(f"load before: {open('/proc/loadavg').read().split()[:3]}")
    db, info = database(args.projects, args.year, args.seed)
    how = "reused (generated earlier in" if info["reused"] else "generated in"
    print(f"database: {db.relative_to(ROOT)} ({db.stat().st_size / 1e6:.0f} MB), {how} "
          f"{info['generated_seconds']:.1f} s{')' if info['reused'] else ''}")
    print(f"  {info['synth_output']}")
    token = flask(db, "users", "token", USER).strip()
    port = free_port()
    server = serve(db, port)
    try:
        browser, api = Client(f"http://127.0.0.1:{port}"), Client(f"http://127.0.0.1:{port}")
        browser.login()
        bearer = {"Authorization": f"Bearer {token}"}
        y = args.year
        targets = {
            "/healthz": lambda: api.open("/healthz"),
            "overview page": lambda: browser.open(f"/reports/overview?year={y}"),
            "overview page, as of Jul 31": lambda: browser.open(f"/reports/overview?year={y}&as_of={y}-07-31"),
            "overview API": lambda: api.open(f"/api/v1/reports/overview?year={y}", headers=bearer),
            "red-alert list (red first)": lambda: browser.open(f"/reports/alerts?year={y}"),
            "red-alert list, red only": lambda: browser.open(f"/reports/alerts?year={y}&kind=red"),
        }
        times: dict[str, list[float]] = {name: [] for name in targets}
        sizes: dict[str, int] = {}
        for name, fetch in targets.items():          # warm up: connections, caches, compiled SQL
            for _ in range(3):
                timed(fetch)
        for _ in range(max(20, args.rounds)):
            for name, fetch in targets.items():
                elapsed, size = timed(fetch)
                times[name].append(elapsed)
                sizes[name] = size
    finally:
        server.terminate()
        server.wait(timeout=30)
    floor = statistics.median(times["/healthz"])
    print(f"\n{len(times['/healthz'])} requests each, interleaved; one gunicorn sync worker; SQLite")
    print(f"{'target':<30} {'median ms':>10} {'p95 ms':>8} {'× /healthz':>11} {'size KB':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<30} {median:>10.1f} {percentile(values, 0.95):>8.1f} {median / floor:>11.1f} "
              f"{sizes[name] / 1024:>8.0f}")
    print(f"\nload after: {open('/proc/loadavg').read().split()[:3]} (1, 5, 15 min; {os.cpu_count()} cores)")


if __name__ == "__main__":
    sys.exit(main())
