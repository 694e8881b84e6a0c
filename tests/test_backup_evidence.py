"""A backup holds the evidence files (佐证材料) with the database: uploaded on the page, backed up
with `flask backup`, lost, brought back by `flask restore` and downloaded byte for byte. A damaged,
tampered or hostile backup is refused before anything is overwritten."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from conftest import csrf_token, login, make_app
from dbs import drop_database
from models.evidence import Evidence
from test_evidence import PDF_BYTES, PNG_BYTES, evidence_dir, manager, rows, upload  # noqa: F401 (fixtures)
from test_views_actuals import today_is  # noqa: F401 (fixture)

FILES = [("参展合同.pdf", PDF_BYTES), ("展位照片.png", PNG_BYTES)]


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def downloads(client, evidence: list[Evidence]) -> list[bytes | int]:
    """What the browser gets for each file: its bytes, or the status when it gets none."""
    answers = [client.get(f"/evidence/{e.id}") for e in evidence]
    return [a.data if a.status_code == 200 else a.status_code for a in answers]


@pytest.fixture
def backed_up(seeded, manager, evidence_dir, tmp_path):  # noqa: F811
    """Two files uploaded on the page, then `flask backup`: (the archive, the rows)."""
    assert upload(manager, seeded, FILES).status_code == 200
    out = tmp_path / "jixiao.tar.gz"
    result = cli(seeded, "backup", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"已备份到 {out}" in result.output and "数据库与 2 个佐证材料文件" in result.output
    return out, rows(seeded)


@pytest.fixture
def new_machine(tmp_path):
    """Another installation: its own empty database and evidence folder."""
    folder = tmp_path / "new-machine"
    folder.mkdir()
    app = make_app(folder, EVIDENCE_DIR=str(folder / "evidence"))
    yield app
    app.extensions["engine"].dispose()
    drop_database(app.config["DATABASE_URL"])


def test_the_files_come_back_with_the_database_on_a_new_machine(seeded, personas, backed_up, evidence_dir,
                                                                new_machine):
    archive, uploaded = backed_up
    shutil.rmtree(evidence_dir)                      # the old machine is gone, files and all
    result = cli(new_machine, "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output
    assert "备份校验通过" in result.output and "数据库与 2 个佐证材料文件" in result.output
    assert "佐证材料核对：2 条记录的文件都在，大小与校验和一致" in result.output
    browser = new_machine.test_client()
    assert login(browser, personas.manager_a).status_code == 303
    assert downloads(browser, uploaded) == [PDF_BYTES, PNG_BYTES]


def test_a_file_deleted_after_the_backup_comes_back_on_the_same_machine(seeded, manager, backed_up, evidence_dir):
    archive, uploaded = backed_up
    response = manager.post(f"/evidence/{uploaded[0].id}/delete", data={"csrf_token": csrf_token(manager, "/projects")})
    assert response.status_code == 303 and downloads(manager, uploaded) == [404, PNG_BYTES]
    shutil.rmtree(evidence_dir)
    assert downloads(manager, uploaded) == [404, 404]
    result = cli(seeded, "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output
    assert downloads(manager, uploaded) == [PDF_BYTES, PNG_BYTES]
    assert not list(evidence_dir.parent.glob(".jixiao-restore-*"))     # the staging folder is gone


# --------------------------------------------------------------------------- refused backups

def members_of(archive: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive, "r:gz") as tar:
        return [(info, tar.extractfile(info).read() if info.isreg() else b"") for info in tar]


def repacked(archive: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    out = archive.with_name("changed.tar.gz")
    with tarfile.open(out, "w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out


def changed_byte(archive: Path) -> Path:
    """One byte of the first evidence file changed, its size and the manifest as they were."""
    members = members_of(archive)
    index = next(i for i, (info, _) in enumerate(members) if info.name.startswith("evidence/"))
    info, data = members[index]
    members[index] = (info, data[:10] + bytes([data[10] ^ 1]) + data[11:])
    return repacked(archive, members)


def truncated(archive: Path) -> Path:
    out = archive.with_name("cut.tar.gz")
    out.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    return out


def file_left_out(archive: Path) -> Path:
    return repacked(archive, [m for m in members_of(archive) if not m[0].name.startswith("evidence/")])


def other_database(archive: Path) -> Path:
    """A backup of the other kind of database than the one configured."""
    members = members_of(archive)
    manifest = next(m for m in members if m[0].name == "manifest.json")
    listing = json.loads(manifest[1])
    kind = {"sqlite": "postgresql", "postgresql": "sqlite"}[listing["database"]]
    listing["database"] = kind
    members[members.index(manifest)] = (manifest[0], json.dumps(listing).encode())
    return repacked(archive, members)


def state(app, folder: Path) -> tuple[list[tuple[int, str]], dict[str, bytes]]:
    """The evidence rows and the files in the evidence folder."""
    return ([(e.id, e.file_name) for e in rows(app)],
            {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {})


@pytest.mark.parametrize("damage, message", [
    (changed_byte, "与清单记录的大小或校验和不符（已被改动或损坏）"),
    (truncated, "备份文件已损坏或不完整"),
    (file_left_out, "缺少 evidence/"),
    (other_database, "数据库的备份，当前配置的是"),
], ids=["changed-byte", "truncated", "file-left-out", "other-database"])
def test_a_damaged_backup_is_refused_before_anything_is_overwritten(seeded, manager, backed_up, evidence_dir,
                                                                    damage, message):
    archive, _ = backed_up
    assert upload(manager, seeded, [("补充材料.pdf", PDF_BYTES)]).status_code == 200    # after the backup
    before = state(seeded, evidence_dir)
    result = cli(seeded, "restore", str(damage(archive)), "--yes")
    assert result.exit_code == 1
    assert message in result.output and "未恢复任何内容" in result.output, result.output
    assert "Traceback" not in result.output
    assert state(seeded, evidence_dir) == before and len(before[0]) == 3
    assert not list(evidence_dir.parent.glob(".jixiao-restore-*"))


def hostile(archive: Path, info: tarfile.TarInfo, data: bytes = b"") -> Path:
    """The backup with one more member, listed in its manifest as if it belonged."""
    members = members_of(archive)
    manifest = next(m for m in members if m[0].name == "manifest.json")
    listing = json.loads(manifest[1])
    listing["files"].append({"name": info.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    members[members.index(manifest)] = (manifest[0], json.dumps(listing).encode())
    return repacked(archive, [(info, data)] + members)


def member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize("make", [
    lambda outside: member("../../escaped.pdf"),
    lambda outside: member("evidence/../../escaped.pdf"),
    lambda outside: member(str(outside)),
    lambda outside: member("evidence/" + "a" * 32, tarfile.SYMTYPE, str(outside)),
    lambda outside: member("evidence/" + "b" * 32, tarfile.LNKTYPE, "database.sqlite3"),
    lambda outside: member("config.py"),
], ids=["dot-dot", "dot-dot-inside", "absolute", "symlink", "hardlink", "other-name"])
def test_a_member_outside_evidence_and_database_is_refused(seeded, backed_up, evidence_dir, tmp_path, make):
    archive, _ = backed_up
    outside = tmp_path / "escaped.pdf"
    evil = make(outside)
    before = state(seeded, evidence_dir)
    result = cli(seeded, "restore", str(hostile(archive, evil, PDF_BYTES if evil.isreg() else b"")), "--yes")
    assert result.exit_code == 1, result.output
    assert f"备份文件中有不允许的条目 {evil.name!r}" in result.output and "未恢复任何内容" in result.output
    assert not outside.exists() and not (evidence_dir.parent / "escaped.pdf").exists()
    assert state(seeded, evidence_dir) == before


# --------------------------------------------------------------------------- what the check reports

def test_a_file_missing_at_backup_time_is_reported_by_backup_and_restore(seeded, manager, evidence_dir, tmp_path):
    assert upload(manager, seeded, FILES).status_code == 200
    uploaded = rows(seeded)
    (evidence_dir / uploaded[0].stored_name).unlink()                # lost outside the product
    out = tmp_path / "jixiao.tar.gz"
    result = cli(seeded, "backup", "-o", str(out))
    assert result.exit_code == 0 and "数据库与 1 个佐证材料文件" in result.output
    assert "警告：1 条佐证材料记录的文件缺失或与记录不符" in result.output
    assert f"“参展合同.pdf”（{uploaded[0].stored_name}）的文件缺失" in result.output
    result = cli(seeded, "restore", str(out), "--yes")
    assert result.exit_code == 1
    assert "佐证材料核对：2 条记录中 1 条的文件缺失或不符" in result.output
    assert "已恢复，但有 1 个佐证材料文件缺失或不符" in result.output
    assert downloads(manager, uploaded) == [404, PNG_BYTES]


def test_a_database_only_backup_of_the_earlier_format_still_restores(seeded, manager, evidence_dir, tmp_path):
    """Backups made before evidence was included (the database copy alone, which is what the
    archive's database member is): the database comes back, the files stay as they are."""
    assert upload(manager, seeded, FILES[:1]).status_code == 200
    archive = tmp_path / "jixiao.tar.gz"
    assert cli(seeded, "backup", "-o", str(archive)).exit_code == 0
    older = tmp_path / "jixiao-older.bak"
    older.write_bytes(next(data for info, data in members_of(archive) if info.name.startswith("database.")))
    assert upload(manager, seeded, FILES[1:]).status_code == 200
    uploaded = rows(seeded)
    result = cli(seeded, "restore", str(older), "--yes")
    assert result.exit_code == 0, result.output
    assert "只含数据库的旧格式备份" in result.output and "佐证材料核对：1 条记录的文件都在" in result.output
    assert downloads(manager, uploaded) == [PDF_BYTES, 404]


def test_the_archive_lists_each_file_with_its_size_and_sha256(backed_up):
    archive, uploaded = backed_up
    members = dict((info.name, data) for info, data in members_of(archive))
    listing = json.loads(members.pop("manifest.json"))
    assert listing["format"] == "jixiao-backup" and listing["version"] == 1 and listing["created_at"]
    database = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}[listing["database"]]
    assert sorted(members) == sorted([database] + [f"evidence/{e.stored_name}" for e in uploaded])
    assert {f["name"]: (f["size"], f["sha256"]) for f in listing["files"]} == {
        name: (len(data), hashlib.sha256(data).hexdigest()) for name, data in members.items()}
    assert members[f"evidence/{uploaded[0].stored_name}"] == PDF_BYTES
    assert archive.stat().st_mode & 0o077 == 0          # for its owner only: it holds every password hash
