"""Hostile and broken uploads: each must become one clear UnreadableFile, within 30 s.

Every bad file is built here, in tmp_path. Small `Limits` stand in for the 50 MB / 500 page
caps so the tests stay fast.
"""
from __future__ import annotations

import ctypes
import os
import random
import signal
import threading
import time
import zlib
from pathlib import Path

import pytest

from importers import ParseResult, UnreadableFile, parse_file
from importers.limits import Limits
from importers.pdf_check import MSG_ENCRYPTED, check_pdf
from importers.sandbox import (
    _JOBS_PER_WORKER, MSG_MEMORY, _context, _parse_in_child, _run_isolated, parse_many_untrusted, parse_untrusted,
)

FIXTURES = Path(__file__).parent / "fixtures"
SEED_PDF = FIXTURES / "seed_forms.pdf"
DAMAGED = "文件已损坏或格式无法识别："
NOT_PDF = "不是有效的 PDF 文件（文件头不是 %PDF）"
NO_FORM = ParseResult([], ["未在文件中找到项目支出绩效目标申报表"])
BUDGET = 30.0  # seconds: every bad file must be refused within this


# --------------------------------------------------------------------------- builders

def text_pdf(path: Path, pages: int = 1, encrypt=None) -> Path:
    """A real, readable PDF with one line of (non-form) text per page."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), encrypt=encrypt)
    for i in range(pages):
        c.drawString(72, 720, f"Hello, this is page {i + 1}")
        c.showPage()
    c.save()
    return path


def scanned_pdf(path: Path) -> Path:
    """A page that is only an image: what a scanner produces."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(img)
    for y in range(20, 300, 20):
        draw.line([(20, y), (380, y)], fill="black", width=2)   # looks like a table
    draw.rectangle([20, 20, 380, 280], outline="black", width=3)
    c = canvas.Canvas(str(path))
    c.drawImage(ImageReader(img), 72, 400, width=400, height=300)
    c.showPage()
    c.save()
    return path


def write_raw_pdf(path: Path, objects: list) -> Path:
    """Objects 1..n (obj 1 is the catalog) with a correct xref. A body may be a list of
    byte chunks, written one by one, so big streams never sit in memory joined."""
    offsets = []
    with open(path, "wb") as out:
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        for number, body in enumerate(objects, 1):
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n" % number)
            for chunk in (body if isinstance(body, list) else [body]):
                out.write(chunk)
            out.write(b"\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
        for offset in offsets:
            out.write(b"%010d 00000 n \n" % offset)
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                  % (len(objects) + 1, xref))
    return path


def zero_bomb(prefix: bytes, zeros: int, chunk: int = 16 << 20) -> list[bytes]:
    """A zlib stream that inflates to prefix + `zeros` NUL bytes (NUL is PDF whitespace).

    After a full flush deflate forgets its history, so compressing the same chunk again
    gives the same bytes: two chunks are compressed and the second is repeated. The
    Adler-32 of a run of zeros is computed directly (A stays, B grows by n·A)."""
    assert zeros % chunk == 0
    z = zlib.compressobj(9)
    head = z.compress(prefix) + z.flush(zlib.Z_FULL_FLUSH)
    first = z.compress(bytes(chunk)) + z.flush(zlib.Z_FULL_FLUSH)
    repeat = z.compress(bytes(chunk)) + z.flush(zlib.Z_FULL_FLUSH)
    assert first == repeat
    adler = zlib.adler32(prefix)
    a, b = adler & 0xFFFF, adler >> 16
    b = (b + zeros * a) % 65521
    tail = b"\x03\x00" + ((b << 16) | a).to_bytes(4, "big")  # empty final block + Adler-32
    return [head] + [repeat] * (zeros // chunk) + [tail]


def bomb_pdf(path: Path, gigabytes: int = 2) -> Path:
    text = b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET\n"
    stream = zero_bomb(text, gigabytes << 30)
    length = sum(map(len, stream))
    return write_raw_pdf(path, [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        [b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % length, *stream, b"\nendstream"],
    ])


def refused(path, limits: Limits = Limits()) -> str:
    """parse_untrusted must raise UnreadableFile within the budget; return its message."""
    start = time.monotonic()
    with pytest.raises(UnreadableFile) as info:
        parse_untrusted(path, limits)
    elapsed = time.monotonic() - start
    assert elapsed < BUDGET, f"took {elapsed:.1f} s"
    message = str(info.value)
    assert message and "\n" not in message and "Traceback" not in message
    return message


# --------------------------------------------------------------------------- not a PDF

def test_text_file_named_pdf(tmp_path):
    path = tmp_path / "申报表.pdf"
    path.write_text("项目名称\t招商引资专项经费\n", encoding="utf-8")
    assert refused(path) == NOT_PDF


def test_png_renamed_pdf(tmp_path):
    from PIL import Image

    path = tmp_path / "scan.pdf"
    Image.new("RGB", (32, 32), "red").save(path, format="PNG")
    assert path.read_bytes().startswith(b"\x89PNG")
    assert refused(path) == NOT_PDF


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert refused(path) == "文件为空"


def test_missing_file(tmp_path):
    assert refused(tmp_path / "nope.pdf") == "找不到文件或文件无法读取"


# --------------------------------------------------------------------------- PDF pre-flight

def test_encrypted_pdf(tmp_path):
    from reportlab.lib import pdfencrypt

    path = text_pdf(tmp_path / "locked.pdf",
                    encrypt=pdfencrypt.StandardEncryption("user-secret", "owner-secret"))
    assert refused(path) == MSG_ENCRYPTED


def test_permissions_only_encryption_is_readable(tmp_path):
    """An empty user password (only 'no printing' etc. flags) still opens: not refused."""
    from reportlab.lib import pdfencrypt

    path = text_pdf(tmp_path / "restricted.pdf",
                    encrypt=pdfencrypt.StandardEncryption("", "owner-secret", canPrint=0))
    assert check_pdf(path) == ["Hello, this is page 1"]
    assert parse_untrusted(path) == NO_FORM


def test_a_coarse_scan_without_a_form_is_refused_for_its_resolution(tmp_path):
    """An image-only page is read by OCR now; this one is a 72-dpi picture of a ruled table
    without a form in it: too coarse to tell, so refused for its resolution."""
    assert refused(scanned_pdf(tmp_path / "scan.pdf")).startswith("分辨率过低（约 72 dpi）")


def test_truncated_pdf(tmp_path):
    whole = text_pdf(tmp_path / "whole.pdf", pages=3).read_bytes()
    path = tmp_path / "half.pdf"
    path.write_bytes(whole[: len(whole) // 2])
    assert refused(path).startswith(DAMAGED)


def test_garbage_after_pdf_header(tmp_path):
    noise = random.Random(7).randbytes(64 * 1024)
    path = tmp_path / "noise.pdf"
    path.write_bytes(b"%PDF-1.7\n" + noise)
    assert refused(path).startswith(DAMAGED)
    # Same noise with a proper ending, so it gets past the truncation check to pdfium.
    path.write_bytes(b"%PDF-1.7\n" + noise + b"\n%%EOF\n")
    assert refused(path).startswith(DAMAGED)


def test_too_many_pages(tmp_path):
    path = text_pdf(tmp_path / "long.pdf", pages=5)
    assert refused(path, Limits(max_pages=3)) == "页数过多（5页），上限为 3 页"
    assert len(check_pdf(path, Limits(max_pages=5))) == 5


def test_too_large(tmp_path):
    path = tmp_path / "big.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b" " * (3 * 1024 * 1024 // 2))     # 1.5 MB
    assert refused(path, Limits(max_bytes=1024 * 1024)) == "文件过大（1.5 MB），上限为 1 MB"


def test_too_large_default_limit_is_checked_before_reading(tmp_path):
    path = tmp_path / "huge.pdf"
    with open(path, "wb") as fh:          # sparse: 60 MB on paper, nothing on disk
        fh.truncate(60 * 1024 * 1024)
    assert refused(path) == "文件过大（60 MB），上限为 50 MB"


def test_check_pdf_returns_page_texts(tmp_path):
    path = text_pdf(tmp_path / "two.pdf", pages=2)
    assert check_pdf(path) == ["Hello, this is page 1", "Hello, this is page 2"]


# --------------------------------------------------------------------------- decompression bomb

@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    path = bomb_pdf(tmp_path_factory.mktemp("bomb") / "bomb.pdf", gigabytes=2)
    assert path.stat().st_size < 4 * 1024 * 1024          # ~2 MB on disk, 2 GB inflated
    return path


def test_decompression_bomb(bomb):
    assert refused(bomb) == MSG_MEMORY


def test_a_parent_with_a_large_address_space_forks_children_that_still_parse(bomb):
    """A parent that has mapped a lot (the OCR models, loaded in a test process or a command that
    read a scan in-process) forks children with that address space, shared and untouched: each
    child still has memory_bytes of its own above it — the seed parses, the bomb is refused. In a
    fresh interpreter: this process's heap may already hold enough freed memory to hide it."""
    import subprocess
    import sys

    script = f"""
import mmap
from pathlib import Path
from importers import UnreadableFile
from importers.sandbox import _context, parse_untrusted
assert _context(preload=True).get_start_method() == "fork"   # the children inherit the map
reserved = mmap.mmap(-1, 1536 * 1024 * 1024)                # 1.5 GB, never touched
print([f["project_name"] for f in parse_untrusted(Path({str(SEED_PDF)!r})).forms])
try:
    parse_untrusted(Path({str(bomb)!r}))
except UnreadableFile as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['招商引资专项经费', '招商引资业务经费', '网络运行维护费']", MSG_MEMORY]


def test_decompression_bomb_in_pdfminer_fails_fast(bomb):
    """pdfminer.six has no inflate limit (pdfminer.settings only has STRICT): under
    RLIMIT_AS its one-shot zlib.decompress must fail with MemoryError, not thrash."""
    from pdfminer.high_level import extract_text

    start = time.monotonic()
    [result] = _run_isolated([(extract_text, (str(bomb),))], Limits(), workers=1)
    assert time.monotonic() - start < BUDGET
    assert isinstance(result, UnreadableFile) and str(result) == MSG_MEMORY


# --------------------------------------------------------------------------- child mechanics

@pytest.mark.parametrize("func, args, limits, message", [
    (time.sleep, (60,), Limits(wall_seconds=1), "文件解析超时（超过 1 秒）"),
    (sum, (range(10 ** 15),), Limits(cpu_seconds=1, wall_seconds=20), "文件解析超时（超过 1 秒）"),
    (bytes, (3 * 1024 ** 3,), Limits(), MSG_MEMORY),
    (ctypes.string_at, (0,), Limits(), "文件解析进程异常终止（SIGSEGV），文件可能已损坏或为恶意构造"),
    (int, ("不是数字",), Limits(), DAMAGED + "invalid literal for int() with base 10: '不是数字'"),
], ids=["wall-clock", "cpu", "memory", "signal", "exception"])
def test_child_failures_are_mapped(func, args, limits, message):
    start = time.monotonic()
    [result] = _run_isolated([(func, args)], limits, workers=1)
    assert time.monotonic() - start < BUDGET
    assert isinstance(result, UnreadableFile)
    assert str(result) == message


# --------------------------------------------------------------------------- with the real parser

def test_readable_pdf_without_form_is_not_an_error(tmp_path):
    assert parse_untrusted(text_pdf(tmp_path / "letter.pdf")) == NO_FORM


def test_good_file_parses_alongside_bad_ones_in_order(tmp_path, bomb):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    fake = tmp_path / "fake.pdf"
    fake.write_text("hello")
    letter = text_pdf(tmp_path / "letter.pdf")
    paths = [fake, SEED_PDF, bomb, empty, scanned_pdf(tmp_path / "scan.pdf"), letter, SEED_PDF]

    start = time.monotonic()
    results = parse_many_untrusted(paths, workers=2)
    assert time.monotonic() - start < BUDGET

    expected = parse_file(SEED_PDF)
    assert expected.forms, "the seed PDF holds forms"
    assert len(results) == len(paths)
    assert str(results[0]) == NOT_PDF
    assert results[1] == expected
    assert str(results[2]) == MSG_MEMORY
    assert str(results[3]) == "文件为空"
    assert str(results[4]).startswith("分辨率过低")         # a coarse scan without a form
    assert results[5] == NO_FORM
    assert results[6] == expected
    assert all(isinstance(r, UnreadableFile) for r in (results[0], results[2], results[3], results[4]))


def test_bomb_builder_makes_a_valid_stream():
    """The bomb is honest: same construction, small size, inflates exactly."""
    data = zlib.decompress(b"".join(zero_bomb(b"BT ET\n", 4 << 20, chunk=1 << 20)))
    assert data == b"BT ET\n" + bytes(4 << 20)


# --------------------------------------------------------------------------- reused children

def burn_cpu(seconds: float) -> int:
    """Spend `seconds` of CPU in the child; returns its pid (which child ran the job)."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return os.getpid()


@pytest.fixture(params=["fork", "forkserver"])
def start_method(request):
    """Run the test with either start method: a second thread makes the sandbox pick the
    fork server, as it does in a threaded web worker."""
    if request.param == "fork":
        if _context().get_start_method() != "fork":
            pytest.skip("this test process runs threads: the sandbox uses the fork server")
        yield request.param
        return
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="make-it-threaded", daemon=True)
    thread.start()
    try:
        assert _context().get_start_method() == "forkserver"
        yield request.param
    finally:
        stop.set()
        thread.join()


def test_interrupt_kills_every_child(start_method):
    """Ctrl-C while children are busy: the interrupt propagates and no child is left."""
    import multiprocessing

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    assert _run_isolated([(abs, (-1,))], Limits(), workers=1) == [1]     # fork server up
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            _run_isolated([(time.sleep, (60,))] * 3, Limits(), workers=2)
        assert time.monotonic() - start < 10
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert multiprocessing.active_children() == []


def test_good_files_in_two_workers_match_in_process_parsing(tmp_path, start_method):
    letters = [text_pdf(tmp_path / f"letter{n}.pdf", pages=n) for n in (1, 2, 3)]
    tsv = tmp_path / "form.txt"
    tsv.write_bytes((FIXTURES / "seed_2023_shanxi_tzcjj.txt").read_bytes())
    paths = [letters[0], SEED_PDF, tsv, letters[1], SEED_PDF, letters[2], tsv, SEED_PDF]

    results = parse_many_untrusted(paths, workers=2)

    assert results == [parse_file(p) for p in paths]
    assert results[1].forms and results[2].forms


def test_children_take_several_jobs_and_are_recycled(start_method):
    """One child runs job after job; it is replaced after a MemoryError and after
    _JOBS_PER_WORKER jobs."""
    pids = _run_isolated([(os.getpid, ())] * 3, Limits(), workers=1)
    assert all(isinstance(p, int) for p in pids) and len(set(pids)) == 1

    pids = _run_isolated([(os.getpid, ())] * (_JOBS_PER_WORKER + 2), Limits(), workers=1)
    first, second = pids[:_JOBS_PER_WORKER], pids[_JOBS_PER_WORKER:]
    assert len(set(first)) == 1 and len(set(second)) == 1 and first[0] != second[0]


def test_timeout_of_one_job_spares_the_jobs_before_and_after(tmp_path, start_method):
    letter = text_pdf(tmp_path / "letter.pdf")
    limits = Limits(wall_seconds=3)
    parse = (_parse_in_child, (str(letter), limits))
    jobs = [(os.getpid, ()), (time.sleep, (60,)), (os.getpid, ())]
    # Sorted by file size: the two parses run before the stalled job, the pids after it.
    jobs = [parse, *jobs, parse]

    start = time.monotonic()
    results = _run_isolated(jobs, limits, workers=1)
    assert time.monotonic() - start < BUDGET

    assert results[0] == results[4] == NO_FORM
    assert str(results[2]) == "文件解析超时（超过 3 秒）"
    assert isinstance(results[1], int) and isinstance(results[3], int)
    assert results[1] != results[3], "the stalled child was killed; a fresh one ran the rest"


@pytest.mark.parametrize("crash, message", [
    ((ctypes.string_at, (0,)), "文件解析进程异常终止（SIGSEGV），文件可能已损坏或为恶意构造"),
    ((signal.raise_signal, (signal.SIGKILL,)), MSG_MEMORY),
], ids=["segfault", "sigkill"])
def test_child_crash_fails_only_its_own_job(crash, message, start_method):
    jobs = [(abs, (-1,)), (abs, (-2,)), crash, (abs, (-3,)), (abs, (-4,)), (abs, (-5,))]
    results = _run_isolated(jobs, Limits(), workers=2)
    assert results[:2] == [1, 2] and results[3:] == [3, 4, 5]
    assert isinstance(results[2], UnreadableFile) and str(results[2]) == message


def test_cpu_limit_is_per_job():
    """Three jobs of 60 % of the budget each fit (together 180 %: a per-process limit would
    stop the third); one of 150 % does not, and the child after it starts afresh. (RLIMIT_CPU
    is set in the child the same way whatever the start method; this one burns CPU, so it
    runs once.)"""
    limits = Limits(cpu_seconds=2, wall_seconds=BUDGET)
    jobs = [(burn_cpu, (1.2,))] * 3 + [(burn_cpu, (3.0,)), (burn_cpu, (0.1,))]
    results = _run_isolated(jobs, limits, workers=1)
    assert all(isinstance(r, int) for r in results[:3]), results
    assert len(set(results[:3])) == 1, "the three jobs ran in the same child"
    assert isinstance(results[3], UnreadableFile) and str(results[3]) == "文件解析超时（超过 2 秒）"
    assert isinstance(results[4], int) and results[4] != results[0]


def test_memory_error_fails_only_its_job_and_recycles_the_child(start_method):
    jobs = [(os.getpid, ()), (os.getpid, ()), (bytes, (3 * 1024 ** 3,)), (os.getpid, ()), (os.getpid, ())]
    results = _run_isolated(jobs, Limits(), workers=1)
    assert isinstance(results[2], UnreadableFile) and str(results[2]) == MSG_MEMORY
    before, after = results[:2], results[3:]
    assert all(isinstance(p, int) for p in before + after)
    assert before[0] == before[1] and after[0] == after[1] and before[0] != after[0]


def test_unpicklable_job_fails_alone():
    results = _run_isolated([(abs, (-1,)), (lambda: 1, ()), (abs, (-2,))], Limits(), workers=1)
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], UnreadableFile) and str(results[1]).startswith("解析程序内部错误")


def test_no_children_outlive_the_call(start_method):
    import multiprocessing

    _run_isolated([(os.getpid, ())] * 4 + [(bytes, (3 * 1024 ** 3,))], Limits(), workers=2)
    assert multiprocessing.active_children() == []
