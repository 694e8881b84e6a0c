"""`flask backup` while writes go on, and a restore that has every committed row and nothing torn."""
import threading
import time

from sqlalchemy import create_engine, func, insert, select, text

from conftest import make_app
from dbs import drop_database, new_database_url
from models.org import Department

BATCH = 10


def writer(url: str, stop: threading.Event, committed: list[int]):
    """Commits departments ten at a time until stopped: a restored copy must hold whole batches."""
    engine = create_engine(url)
    n = 0
    while not stop.is_set():
        with engine.begin() as conn:
            conn.execute(insert(Department), [{"name": f"部门{n}-{k}", "code": str(k)} for k in range(BATCH)])
        n += 1
        committed.append(n * BATCH)
    engine.dispose()


def count_departments(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        result = conn.execute(select(func.count()).select_from(Department)).scalar_one()
    engine.dispose()
    return result


def test_backup_during_writes_restores_whole_and_consistent(app, tmp_path):
    url = app.config["DATABASE_URL"]
    stop, committed = threading.Event(), []
    thread = threading.Thread(target=writer, args=(url, stop, committed))
    thread.start()
    try:
        while len(committed) < 5:
            time.sleep(0.01)
        before = committed[-1]
        out = tmp_path / "copy.tar.gz"
        result = app.test_cli_runner().invoke(args=["backup", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "已备份到" in result.output
        time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    total = count_departments(url)

    (tmp_path / "restored").mkdir()
    target = new_database_url(tmp_path / "restored")
    restored = make_app(tmp_path / "restored", DATABASE_URL=target)   # restore through its CLI
    try:
        result = restored.test_cli_runner().invoke(args=["restore", str(out), "--yes"])
        assert result.exit_code == 0, result.output
        restored.extensions["engine"].dispose()
        copied = count_departments(target)
        assert copied % BATCH == 0                 # no transaction torn in half
        assert before <= copied <= total           # everything committed before the backup began
        engine = create_engine(target)
        with engine.connect() as conn:
            if target.startswith("sqlite"):
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
                assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        engine.dispose()
    finally:
        restored.extensions["engine"].dispose()
        drop_database(target)


def test_backup_refuses_to_overwrite(app, tmp_path):
    out = tmp_path / "exists.bak"
    out.write_text("x")
    result = app.test_cli_runner().invoke(args=["backup", "-o", str(out)])
    assert result.exit_code != 0 and "已存在" in result.output
    assert out.read_text() == "x"
