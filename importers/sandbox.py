"""Parse untrusted files in child processes with hard limits.

A hostile or broken upload (decompression bomb, pathological PDF) must not take the web
process down with it. Every file is parsed in its own short-lived child process:

* the file size is checked in the parent before anything else;
* the child sets RLIMIT_AS (memory), RLIMIT_CPU and RLIMIT_CORE=0, then, for PDFs, runs
  `check_pdf` (encryption, page cap, damage, text layer) and hands its page texts to
  `pdf.parse_pdf(path, texts=...)`; other kinds go to `parse_file`;
* the parent enforces the wall clock and kills the child when it expires;
* every failure ends up as `UnreadableFile` with one Chinese line; no traceback escapes.

Public API: `Limits`, `parse_untrusted`, `parse_many_untrusted`, `check_pdf`.

Why one fresh process per file rather than a reusable pool: RLIMIT_CPU and the address
space are per process, so a reused worker would carry CPU time and heap fragments from the
previous file, and a worker killed by a limit breaks `multiprocessing.Pool` /
`ProcessPoolExecutor`. In a single-threaded process (the command line) children are plain
forks of the caller, which first imports pdfplumber / pypdfium2 / openpyxl once so every
child shares them. Where threads run (threaded dev server, gthread workers) children come
from the "forkserver" start method instead, because `fork()` from a threaded process can
copy a held lock into the child and hang it; the fork server is a fresh single-threaded
interpreter that preloads the same modules. As with any forkserver use of multiprocessing,
each child re-imports the caller's `__main__` script, so that script must be import-safe
(`if __name__ == "__main__":`); the `flask` CLI, gunicorn and pytest all are.

pdfminer.six (20260107 in the venv) has no decompression limit: `pdfminer.settings` only
has STRICT, and FlateDecode is a one-shot `zlib.decompress`. Under RLIMIT_AS that call
fails with MemoryError (wrapped by pdfplumber in PdfminerException) within a second or two
instead of thrashing, which is what we rely on. pypdfium2 aborts the process (SIGABRT) when
an allocation fails under RLIMIT_AS; that is mapped to the out-of-memory message.
"""
from __future__ import annotations

import gc
import importlib
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from importers import ParseResult, UnreadableFile

log = logging.getLogger(__name__)

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * MB              # file size, checked in the parent first
    max_pages: int = 500                  # PDF page cap, checked by check_pdf
    memory_bytes: int = 1024 * MB         # RLIMIT_AS of the child
    cpu_seconds: float = 30               # RLIMIT_CPU of the child
    wall_seconds: float = 30              # wall clock, enforced by the parent


# --------------------------------------------------------------------------- messages

MSG_MEMORY = "文件解析超出内存限制，可能是损坏或恶意构造的文件"
MSG_ENCRYPTED = "文件已加密，请上传未加密的 PDF"
MSG_NO_TEXT = ("PDF 没有文字层（可能是扫描件），无法识别表格；"
               "请上传由电子表格或文字处理软件导出的 PDF")


def _num(x: float) -> str:
    return f"{x:g}" if x < 1e6 else str(int(x))


def _mb(n: int) -> str:
    s = f"{n / MB:.1f}"
    if s.endswith(".0"):
        s = s[:-2]
    if s == "0":                          # tiny limits (tests): keep some digits
        s = f"{n / MB:.2g}"
    return s


def msg_too_large(size: int, limit: int) -> str:
    return f"文件过大（{_mb(size)} MB），上限为 {_mb(limit)} MB"


def msg_too_many_pages(pages: int, limit: int) -> str:
    return f"页数过多（{pages}页），上限为 {limit} 页"


def msg_timeout(seconds: float) -> str:
    return f"文件解析超时（超过 {_num(seconds)} 秒）"


def msg_damaged(detail: str) -> str:
    return f"文件已损坏或格式无法识别：{detail}"


def _detail(exc: BaseException) -> str:
    """One short line describing an exception (innermost non-empty message)."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        text = " ".join(str(e).split())
        if text:
            return text[:160]
        e = e.__cause__ or e.__context__
    return type(exc).__name__


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kind):
            return True
        stack.extend([e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return False


# --------------------------------------------------------------------------- check_pdf

_check_cache: tuple[tuple, list[str]] | None = None
_check_lock = threading.Lock()


def check_pdf(path: str | Path, limits: Limits = Limits()) -> list[str]:
    """Cheap pre-flight of a PDF with pypdfium2; returns the text of every page.

    Raises UnreadableFile for: truncated/damaged files, password-protected files, more
    than `limits.max_pages` pages, and files without any text layer (scans). Returns one
    str per page (pdfium's text, "\\n" line ends) so the PDF parser can find form pages
    without a second full parse. Files that open with an empty user password (owner
    password / permission flags only) are accepted: they are readable.

    The result for the last checked file is cached (keyed by path, size, mtime, page cap),
    so `parse_pdf` may call this again inside the sandbox child at no cost.

    Do not call this on untrusted input outside the sandbox: pdfium aborts the whole
    process when an allocation fails (decompression bomb).
    """
    global _check_cache
    path = Path(path).resolve()
    try:
        st = path.stat()
    except OSError:
        raise UnreadableFile("找不到文件或文件无法读取") from None
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino, limits.max_pages)
    with _check_lock:
        if _check_cache is not None and _check_cache[0] == key:
            return list(_check_cache[1])
    texts = _check_pdf_uncached(path, st.st_size, limits)
    with _check_lock:
        _check_cache = (key, texts)
    return list(texts)


def _check_pdf_uncached(path: Path, size: int, limits: Limits) -> list[str]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with open(path, "rb") as fh:
        head = fh.read(1024)
        fh.seek(max(0, size - 1024))
        tail = fh.read(1024)
    if not head.startswith(b"%PDF"):
        raise UnreadableFile("不是有效的 PDF 文件（文件头不是 %PDF）")
    # The PDF spec (and Acrobat) require %%EOF within the last 1024 bytes. pdfium and
    # pdfminer both "repair" a cut-off file silently, which would turn an interrupted
    # upload into a half-read form; refuse it instead.
    if b"%%EOF" not in tail:
        raise UnreadableFile(msg_damaged("文件不完整（缺少 PDF 结尾标记），可能在上传或复制时被截断"))

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise UnreadableFile(MSG_ENCRYPTED) from None
        reason = {
            pdfium_c.FPDF_ERR_FILE: "文件无法打开",
            pdfium_c.FPDF_ERR_FORMAT: "PDF 结构无效",
        }.get(code, "PDF 无法打开")
        raise UnreadableFile(msg_damaged(reason)) from None
    try:
        n = len(pdf)
        if n > limits.max_pages:
            raise UnreadableFile(msg_too_many_pages(n, limits.max_pages))
        if n == 0:
            raise UnreadableFile(msg_damaged("PDF 中没有任何页面"))
        texts: list[str] = []
        for i in range(n):
            try:
                page = pdf[i]
                textpage = page.get_textpage()
                text = textpage.get_text_range()
                textpage.close()
                page.close()
            except pdfium.PdfiumError:
                raise UnreadableFile(msg_damaged(f"第 {i + 1} 页无法读取")) from None
            texts.append(text.replace("\r\n", "\n").replace("\r", "\n"))
    finally:
        pdf.close()
    if not any(t.strip() for t in texts):
        raise UnreadableFile(MSG_NO_TEXT)
    return texts


# --------------------------------------------------------------------------- child side

_EXIT_MEMORY = 86          # the child could not even report its MemoryError


def _apply_limits(limits: Limits) -> None:
    import resource

    def cap(which: int, soft: int, hard: int) -> None:
        _, cur_hard = resource.getrlimit(which)
        if cur_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, cur_hard), min(hard, cur_hard)
        resource.setrlimit(which, (soft, hard))

    cpu = max(1, math.ceil(limits.cpu_seconds))
    cap(resource.RLIMIT_CORE, 0, 0)                 # no core files from SIGXCPU/SIGABRT
    cap(resource.RLIMIT_CPU, cpu, cpu + 5)          # soft → SIGXCPU, hard → SIGKILL
    cap(resource.RLIMIT_AS, int(limits.memory_bytes), int(limits.memory_bytes))


def _child_main(conn, func, args, limits: Limits) -> None:
    """Entry point of every child: apply limits, run func(*args), report one message."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent handles Ctrl-C
        # A short-lived child: pdfminer makes millions of small objects, and collecting
        # cycles among them costs time while freeing nothing before exit. RLIMIT_AS still
        # bounds the memory.
        gc.disable()
        _apply_limits(limits)
        msg = ("ok", func(*args))
    except BaseException as e:                         # noqa: BLE001 — nothing may escape
        if _caused_by(e, MemoryError):
            msg = ("memory", "")
        elif isinstance(e, UnreadableFile):
            msg = ("unreadable", str(e))
        elif isinstance(e, ImportError):
            msg = ("internal", _detail(e))
        else:
            msg = ("damaged", _detail(e))
    try:
        conn.send(msg)
    except MemoryError:
        os._exit(_EXIT_MEMORY)
    except BaseException as e:                         # noqa: BLE001 — e.g. unpicklable result
        try:
            conn.send(("internal", f"结果无法传回：{_detail(e)}"))
        except BaseException:                          # noqa: BLE001
            os._exit(1)
    finally:
        conn.close()


def _parse_in_child(path: str, limits: Limits) -> ParseResult:
    from importers import parse_file, sniff_kind

    p = Path(path)
    if sniff_kind(p) == "pdf":
        from importers import pdf

        # The pre-flight's page texts feed the parser's page screening: one pdfium pass.
        return pdf.parse_pdf(p, texts=check_pdf(p, limits))
    return parse_file(p)


# --------------------------------------------------------------------------- parent side

_PRELOAD = ["pypdfium2", "pdfplumber", "importers", "importers.sandbox", "importers.pdf",
            "importers.xlsx", "importers.text", "importers.warmup"]
_ctx = None
_ctx_lock = threading.Lock()


def _context():
    """Plain fork from a single-threaded process (the command line: no fork-server start-up
    to wait for); the fork server wherever threads run (web workers)."""
    global _ctx
    with _ctx_lock:
        if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
            for name in _PRELOAD:                      # children share what the parent loaded
                importlib.import_module(name)
            return multiprocessing.get_context("fork")
        if _ctx is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)       # missing modules are skipped
            _ctx = ctx
        return _ctx


@dataclass
class _Running:
    index: int
    proc: multiprocessing.process.BaseProcess
    deadline: float


def _kill(proc) -> None:
    try:
        proc.kill()
    except Exception:                                   # noqa: BLE001 — already gone
        pass
    proc.join(5)


def _from_exit(proc, limits: Limits) -> UnreadableFile:
    code = proc.exitcode
    if code == -signal.SIGXCPU:
        return UnreadableFile(msg_timeout(limits.cpu_seconds))
    # SIGKILL that we did not send: the kernel OOM killer. SIGABRT: pdfium's allocator
    # gives up (abort) when malloc fails under RLIMIT_AS. Both mean "too much memory".
    if code in (-signal.SIGKILL, -signal.SIGABRT, _EXIT_MEMORY):
        return UnreadableFile(MSG_MEMORY)
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"信号 {-code}"
        log.warning("parser child %s died with %s", proc.pid, name)
        return UnreadableFile(f"文件解析进程异常终止（{name}），文件可能已损坏或为恶意构造")
    log.warning("parser child %s exited with %s without a result", proc.pid, code)
    return UnreadableFile(f"文件解析进程意外退出（退出码 {code}），请联系管理员")


def _collect(conn, job: _Running, limits: Limits) -> ParseResult | UnreadableFile:
    try:
        msg = conn.recv()
    except (EOFError, OSError):
        msg = None
    except Exception as e:                              # noqa: BLE001 — garbled result
        msg = ("internal", f"结果无法读取：{_detail(e)}")
    finally:
        conn.close()
    job.proc.join(5)
    if job.proc.exitcode is None:
        _kill(job.proc)
    if msg is None:
        return _from_exit(job.proc, limits)
    kind, value = msg
    if kind == "ok":
        return value
    if kind == "unreadable":
        return UnreadableFile(value)
    if kind == "memory":
        return UnreadableFile(MSG_MEMORY)
    if kind == "internal":
        log.error("parser child failed internally: %s", value)
        return UnreadableFile(f"解析程序内部错误（{value}），请联系管理员")
    return UnreadableFile(msg_damaged(value))


def _run_isolated(jobs, limits: Limits, workers: int) -> list:
    """Run func(*args) for each (func, args) in its own limited child process.

    Returns, in input order, the function's return value or an UnreadableFile. func must
    be picklable by reference (a module-level function).
    """
    results: list = [None] * len(jobs)
    pending = deque(enumerate(jobs))
    running: dict = {}                                 # read end of the pipe -> _Running
    workers = max(1, int(workers))
    ctx = _context() if jobs else None
    try:
        while pending or running:
            while pending and len(running) < workers:
                index, (func, args) = pending.popleft()
                r = w = None
                try:
                    r, w = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_child_main, args=(w, func, args, limits),
                                       name=f"parse-untrusted-{index}", daemon=True)
                    proc.start()
                except Exception as e:                 # noqa: BLE001 — e.g. out of fds/processes
                    log.exception("cannot start parser child")
                    if r is not None:
                        r.close()
                    results[index] = UnreadableFile(f"无法启动解析进程（{_detail(e)}），请稍后重试")
                    continue
                finally:
                    if w is not None:
                        w.close()                      # the child holds its own copy
                running[r] = _Running(index, proc, time.monotonic() + limits.wall_seconds)
            if not running:
                continue
            timeout = max(0.0, min(j.deadline for j in running.values()) - time.monotonic())
            for conn in wait(list(running), timeout):
                job = running.pop(conn)
                results[job.index] = _collect(conn, job, limits)
            now = time.monotonic()
            for conn, job in list(running.items()):
                if now >= job.deadline:
                    del running[conn]
                    _kill(job.proc)
                    conn.close()
                    results[job.index] = UnreadableFile(msg_timeout(limits.wall_seconds))
    finally:
        for conn, job in running.items():               # interrupted: leave no children
            _kill(job.proc)
            conn.close()
    return results


def parse_many_untrusted(paths, limits: Limits = Limits(), workers: int = 2
                         ) -> list[ParseResult | UnreadableFile]:
    """Parse several untrusted files, up to `workers` at a time, one child per file.

    Returns one entry per path, in input order: a ParseResult, or the UnreadableFile
    explaining why that file could not be read. Never raises for a bad file.
    """
    paths = list(paths)
    results: list = [None] * len(paths)
    jobs, where = [], []
    for i, p in enumerate(paths):
        p = Path(p).resolve()
        try:
            if not p.is_file():
                raise UnreadableFile("找不到文件或文件无法读取")
            size = p.stat().st_size
            if size > limits.max_bytes:
                raise UnreadableFile(msg_too_large(size, limits.max_bytes))
            if size == 0:
                raise UnreadableFile("文件为空")
        except UnreadableFile as e:
            results[i] = e
            continue
        except OSError:
            results[i] = UnreadableFile("找不到文件或文件无法读取")
            continue
        jobs.append((_parse_in_child, (str(p), limits)))
        where.append(i)
    for i, r in zip(where, _run_isolated(jobs, limits, workers)):
        results[i] = r
    return results


def parse_untrusted(path, limits: Limits = Limits()) -> ParseResult:
    """Parse one untrusted file in a limited child process; raise UnreadableFile on failure."""
    result = parse_many_untrusted([path], limits, workers=1)[0]
    if isinstance(result, UnreadableFile):
        raise result
    return result
