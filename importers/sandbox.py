"""Parse untrusted files in child processes with hard limits.

A hostile or broken upload (decompression bomb, pathological PDF) must not take the web
process down with it. Files are parsed in limited child processes, a few files per child,
and every guarantee holds per file:

* the file size is checked in the parent before anything else;
* the child sets RLIMIT_AS (memory_bytes above the address space it was forked with) and
  RLIMIT_CORE=0 once, and before each file raises
  its RLIMIT_CPU so that file gets `cpu_seconds` of its own; for PDFs it runs `check_pdf`
  (encryption, page cap, damage, text layer) and hands its page texts to
  `pdf.parse_pdf(path, texts=...)`; other kinds go to `parse_file`;
* the parent enforces each file's wall clock and kills the child when it expires;
* a child that dies (limit, signal, exit) fails only the file it was parsing; the other
  files go on in other or fresh children;
* every failure ends up as `UnreadableFile` with one Chinese line; no traceback escapes;
* a PDF's scanned (image-only) pages are read by OCR after the first pass, each page a job
  of its own with `ocr_page_seconds` of wall clock and CPU, on at least two children
  (both cores), then assembled into forms in a child (`_read_scans`, importers/ocr.py).

Public API: `parse_untrusted`, `parse_many_untrusted`, and `run_untrusted` for other readers of
untrusted files (the bulk-entry workbooks); the limits are `importers.limits.Limits`, the PDF
pre-flight `importers.pdf_check.check_pdf`.

Why reusable children, and why not `multiprocessing.Pool` / `ProcessPoolExecutor`. A
fresh child per file costs about 35 ms of CPU more than parsing the same file in a warm
process (fork, copy-on-write faults, cold per-process caches), which is a sizeable part
of a 10-page file. So up to `workers` children each take file after file over a pipe; the
parent keeps the queue (largest files first) and one deadline per file. The stock pools
cannot do this: a worker killed by a limit breaks them, and they have no per-task
deadline. Per-file guarantees in a reused child:

* CPU: RLIMIT_CPU counts the whole process, so before each file the child sets the soft
  limit to the CPU it has used plus `cpu_seconds` (rounded up to whole seconds, the
  kernel's unit: a file gets between cpu_seconds and cpu_seconds + 1). Raising a soft
  limit needs a hard limit above it, so the hard limit is set once, to a cap generous
  enough for every file the child may parse (17 × (budget + 5 s)); SIGXCPU at the soft
  limit ends a runaway file, the wall clock is the backstop. This is safe because the
  limits defend against hostile file *content* (bombs, pathological structure) fed to
  our own parsers, not against hostile code: only our code runs in the child, and no
  file content can call setrlimit or catch SIGXCPU. The moments after a file (answer,
  gc) get a fresh budget of their own, so they cannot get an idle child killed.
* Memory: RLIMIT_AS stays per process, so one file's leftovers (heap fragments, caches)
  could leave less for the next. A child is therefore recycled — it exits after its
  answer and a fresh one takes the next file — after a file that raised MemoryError or
  any unexpected exception (anything but a result or UnreadableFile), after a file that
  pushed its peak RSS (ru_maxrss) more than memory_bytes / 4 above what it had at start,
  and after 16 files. Between files it runs gc.collect() (the parse itself runs with gc
  off: pdfminer's millions of objects make collection costly and RLIMIT_AS bounds memory)
  and drops check_pdf's cache.
* Isolation: a file runs alone in its child; a child killed by the wall clock or dead
  from a signal or limit takes only its current file with it, and is replaced.

In a single-threaded process (the command line) children are plain forks of the caller,
which first imports pdfplumber / pypdfium2 / openpyxl once so every child shares them.
Where threads run (threaded dev server, gthread workers) children come from the
"forkserver" start method instead, because `fork()` from a threaded process can copy a
held lock into the child and hang it; the fork server is a fresh single-threaded
interpreter that preloads the same modules. As with any forkserver use of multiprocessing,
each child re-imports the caller's `__main__` script, so that script must be import-safe
(`if __name__ == "__main__":`); the `flask` CLI, gunicorn and pytest all are. Children
never outlive the call: idle ones are told to exit at the end, all are killed on an
interrupt, and an idle child whose parent died exits by itself.

pdfminer.six (20260107 in the venv) has no decompression limit: `pdfminer.settings` only
has STRICT, and FlateDecode is a one-shot `zlib.decompress`. Under RLIMIT_AS that call
fails with MemoryError (wrapped by pdfplumber in PdfminerException) within a second or two
instead of thrashing, which is what we rely on. pypdfium2 aborts the process (SIGABRT) when
an allocation fails under RLIMIT_AS; that is mapped to the out-of-memory message.
"""
from __future__ import annotations

import gc
import importlib
import itertools
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

from importers import ParseResult, UnreadableFile
from importers.limits import MB, Limits
from importers.pdf_check import check_pdf, forget_checked, msg_damaged, scanned_pages

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- messages

MSG_MEMORY = "文件解析超出内存限制，可能是损坏或恶意构造的文件"


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


def msg_timeout(seconds: float) -> str:
    return f"文件解析超时（超过 {_num(seconds)} 秒）"


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


# --------------------------------------------------------------------------- child side

_EXIT_MEMORY = 86          # the child could not even report its MemoryError
_JOBS_PER_WORKER = 16      # recycle a worker after this many jobs
_RSS_GROWTH = 4            # ... or once its peak RSS grew by memory_bytes / this
_CPU_SLACK = 5             # seconds of headroom per job under the worker's hard CPU limit
_IDLE_POLL = 1.0           # seconds: how often an idle worker checks that its parent lives
OCR_WORKERS = min(2, os.cpu_count() or 1)   # children reading a scan's pages, at least


def _cpu_used() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss() -> int:
    """Peak resident set of this process in bytes (ru_maxrss is in KiB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _address_space() -> int:
    """This process's virtual memory size in bytes (what RLIMIT_AS counts); 0 where /proc has
    no answer."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _apply_limits(limits: Limits) -> None:
    """Once per worker: no core files, RLIMIT_AS, and a hard CPU cap for its whole life."""
    import resource

    def cap(which: int, soft: int, hard: int) -> None:
        _, cur_hard = resource.getrlimit(which)
        if cur_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, cur_hard), min(hard, cur_hard)
        resource.setrlimit(which, (soft, hard))

    cap(resource.RLIMIT_CORE, 0, 0)                 # no core files from SIGXCPU/SIGABRT
    # memory_bytes of the child's own, above the address space it was forked with: a parent
    # that has loaded the OCR models (a test process, a command that read a scan in-process)
    # hands its children a gigabyte of mappings they share and never touch, and an absolute
    # cap below that would refuse every allocation of the first file.
    allowed = _address_space() + int(limits.memory_bytes)
    cap(resource.RLIMIT_AS, allowed, allowed)
    # The hard CPU limit covers every job the worker may run (each at most its budget plus
    # the slack), so that each job's soft limit can be raised below it; see the docstring.
    lifetime = math.ceil(_cpu_used()) + (_JOBS_PER_WORKER + 1) * (_cpu_budget(limits) + _CPU_SLACK)
    cap(resource.RLIMIT_CPU, lifetime, lifetime)
    _grant_cpu(limits)


def _cpu_budget(limits: Limits) -> int:
    return max(1, math.ceil(limits.cpu_seconds))


def _grant_cpu(limits: Limits) -> bool:
    """Give what runs next `limits.cpu_seconds` of CPU of its own: soft RLIMIT_CPU = CPU
    used so far + budget (whole seconds, rounded up). Returns False when the hard limit
    leaves less than that, i.e. the worker must be recycled before its next job."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(_cpu_used() + _cpu_budget(limits))
    enough = hard == resource.RLIM_INFINITY or soft + _CPU_SLACK <= hard
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return enough


def _outcome(exc: BaseException) -> tuple[str, str]:
    """The message for a job that raised `exc`."""
    if _caused_by(exc, MemoryError):
        return "memory", ""
    if isinstance(exc, UnreadableFile):
        return "unreadable", str(exc)
    if isinstance(exc, ImportError):
        return "internal", _detail(exc)
    return "damaged", _detail(exc)


def _next_job(conn, parent: int):
    """Block until the parent sends the next job; None when there is none (the parent said
    so, closed the pipe, or died: an idle worker must not outlive its caller)."""
    while not conn.poll(_IDLE_POLL):
        if os.getppid() != parent:
            return None
    return conn.recv()                                 # EOFError: the parent is gone


def _worker_main(conn, limits: Limits) -> None:
    """Entry point of every child: apply the limits, then run job after job.

    A job arrives as (func, args) and is answered with (kind, value, retire); `retire`
    tells the parent that this child exits after the answer and takes no further job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # the parent handles Ctrl-C
    # pdfminer makes millions of small objects; collecting cycles among them while a file
    # is parsed costs time and frees little, and RLIMIT_AS bounds the memory anyway. One
    # gc.collect() between jobs frees the previous file's cycles. What the child inherited
    # (the preloaded parsers) is frozen: never scanned again, so its pages stay shared.
    gc.disable()
    gc.freeze()
    parent = os.getppid()
    setup_error = None
    try:
        _apply_limits(limits)
    except BaseException as e:                         # noqa: BLE001 — told with the first job
        setup_error = f"无法设置资源限制：{_detail(e)}"
    start_rss = _peak_rss()
    done = 0
    try:
        while True:
            try:
                job = _next_job(conn, parent)
                if job is None:
                    return
            except (EOFError, OSError):
                return
            except BaseException as e:                 # noqa: BLE001 — e.g. func not importable here
                job = None
                msg = ("memory", "") if _caused_by(e, MemoryError) else \
                    ("internal", f"任务无法读取：{_detail(e)}")
            if job is not None:
                if setup_error is not None:
                    msg = ("internal", setup_error)
                else:
                    try:
                        func, args = job
                        _grant_cpu(limits)             # this job's own CPU budget
                        msg = ("ok", func(*args))
                    except BaseException as e:         # noqa: BLE001 — nothing may escape
                        msg = _outcome(e)
                    func = args = None
                job = None
            done += 1
            # Housekeeping (sending, gc) runs on a fresh budget, so a job that ended just
            # under its limit cannot get the idle child killed afterwards.
            try:
                enough_cpu = setup_error is None and _grant_cpu(limits)
            except OSError:
                enough_cpu = False
            retire = (msg[0] not in ("ok", "unreadable")         # MemoryError, unexpected error
                      or done >= _JOBS_PER_WORKER
                      or _peak_rss() - start_rss > limits.memory_bytes // _RSS_GROWTH
                      or not enough_cpu)
            if not _send(conn, msg, retire) or retire:
                return
            msg = None
            forget_checked()
            gc.collect()
    finally:
        conn.close()


def _send(conn, msg: tuple, retire: bool) -> bool:
    """Send one answer; False when the worker must stop (the answer could not be sent)."""
    try:
        conn.send((*msg, retire))
        return True
    except MemoryError:
        os._exit(_EXIT_MEMORY)
    except ConnectionError:
        return False                                   # the parent is gone
    except BaseException as e:                         # noqa: BLE001 — e.g. unpicklable result
        try:
            conn.send(("internal", f"结果无法传回：{_detail(e)}", True))
        except BaseException:                          # noqa: BLE001
            os._exit(1)
        return False


def _parse_in_child(path: str, limits: Limits):
    """The file's ParseResult; for a PDF with scanned pages, the OcrPlan the parent spreads
    over its children page by page (see `_read_scans`)."""
    from importers import parse_file, sniff_kind

    p = Path(path)
    if sniff_kind(p) == "pdf":
        from importers import pdf

        # The pre-flight's page texts feed the parser's page screening: one pdfium pass.
        texts = check_pdf(p, limits)
        scanned = scanned_pages(texts)
        if scanned:
            from importers.ocr import OcrPlan

            return OcrPlan(str(p), scanned, pdf.text_rows(p, texts))
        return pdf.parse_pdf(p, texts=texts)
    return parse_file(p)


def _read_scans(results: list, limits: Limits, workers: int, progress=None) -> None:
    """Replace each OcrPlan in `results` by its file's ParseResult (or UnreadableFile).

    Every scanned page is a job of its own, with `limits.ocr_page_seconds` of wall clock and
    CPU, so a file's pages are read on all cores (at least two children) and a long scan is
    not held to one file's budget; then each file's pages are assembled into forms in a child
    too (importers.ocr.assemble). The first page that fails fails its file, naming the page."""
    from importers import ocr

    plans = [(i, r) for i, r in enumerate(results) if isinstance(r, ocr.OcrPlan)]
    if not plans:
        return
    page_limits = replace(limits, wall_seconds=limits.ocr_page_seconds,
                          cpu_seconds=limits.ocr_page_seconds)
    jobs, owners = [], []
    for i, plan in plans:
        for page in plan.pages:
            jobs.append((ocr.read_pages, (plan.path, [page])))
            owners.append((i, page))
    finished = itertools.count(1)
    page_done = None if progress is None else (lambda: progress(pages=(next(finished), len(jobs))))
    pages_read = _run_isolated(jobs, page_limits, max(workers, OCR_WORKERS), preload=False,
                               progress=page_done)
    read: dict[int, list] = {i: [] for i, _ in plans}
    for (i, page), out in zip(owners, pages_read):
        if isinstance(out, UnreadableFile):
            if not isinstance(results[i], UnreadableFile):
                results[i] = UnreadableFile(f"第 {page + 1} 页：{out}")
        else:
            read[i].extend(out)
    todo = [(i, plan) for i, plan in plans if not isinstance(results[i], UnreadableFile)]
    assembled = _run_isolated([(ocr.assemble, (read[i], plan.rows)) for i, plan in todo],
                              limits, workers, preload=False)
    for (i, _plan), result in zip(todo, assembled):
        results[i] = result


# --------------------------------------------------------------------------- parent side

_PRELOAD = ["pypdfium2", "pdfplumber", "importers", "importers.sandbox", "importers.pdf",
            "importers.xlsx", "importers.text", "importers.warmup"]
_ctx = None
_ctx_lock = threading.Lock()


def _context(preload: bool = True):
    """Plain fork from a single-threaded process (the command line, a sync web worker: no
    fork-server start-up to wait for); the fork server wherever threads run (web workers
    with a background import). `preload`: before a plain fork, import the form parsers so
    every child shares them; jobs that need none of them (run_untrusted) skip that."""
    global _ctx
    with _ctx_lock:
        if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
            for name in _PRELOAD if preload else ():   # children share what the parent loaded
                importlib.import_module(name)
            return multiprocessing.get_context("fork")
        if _ctx is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)       # missing modules are skipped
            _ctx = ctx
        return _ctx


@dataclass
class _Worker:
    proc: multiprocessing.process.BaseProcess
    conn: object                                       # the parent's end of a duplex pipe
    index: int | None = None                           # the job it runs; None when idle
    deadline: float = 0.0
    done: int = 0                                      # jobs answered so far


def _start_worker(ctx, limits: Limits, number: int, pool: list[_Worker]) -> _Worker:
    """Start a child and add it to `pool` at once (so that an interrupt still finds it)."""
    ours = theirs = None
    try:
        ours, theirs = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_worker_main, args=(theirs, limits),
                           name=f"parse-untrusted-{number}", daemon=True)
        proc.start()
        worker = _Worker(proc, ours)
        pool.append(worker)
    except BaseException:
        if ours is not None:
            ours.close()
        raise
    finally:
        if theirs is not None:
            theirs.close()                             # the child holds its own copy
    return worker


def _kill(proc) -> None:
    try:
        proc.kill()
    except Exception:                                   # noqa: BLE001 — already gone
        pass
    proc.join(5)


def _discard(worker: _Worker) -> None:
    _kill(worker.proc)
    worker.conn.close()


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


def _collect(worker: _Worker, limits: Limits) -> tuple[ParseResult | UnreadableFile, bool]:
    """Read the answer of a busy worker: (the job's result, whether the worker goes on)."""
    try:
        msg = worker.conn.recv()
    except (EOFError, OSError):
        msg = None
    except Exception as e:                              # noqa: BLE001 — garbled result
        _kill(worker.proc)
        msg = ("internal", f"结果无法读取：{_detail(e)}", True)
    if msg is None:                                     # died mid-job: this job only
        worker.proc.join(5)
        if worker.proc.exitcode is None:
            _kill(worker.proc)
        return _from_exit(worker.proc, limits), False
    kind, value, retire = msg
    if kind == "ok":
        result = value
    elif kind == "unreadable":
        result = UnreadableFile(value)
    elif kind == "memory":
        result = UnreadableFile(MSG_MEMORY)
    elif kind == "internal":
        log.error("parser child failed internally: %s", value)
        result = UnreadableFile(f"解析程序内部错误（{value}），请联系管理员")
    else:
        result = UnreadableFile(msg_damaged(value))
    return result, not retire


def _job_size(job) -> int:
    _func, args = job
    try:
        return os.path.getsize(args[0]) if args and isinstance(args[0], str) else 0
    except OSError:
        return 0


def _run_isolated(jobs, limits: Limits, workers: int, preload: bool = True, progress=None) -> list:
    """Run func(*args) for each (func, args) in limited worker processes.

    Returns, in input order, the function's return value or an UnreadableFile. func, args
    and the result travel through a pipe: func must be picklable by reference (a
    module-level function). Up to `workers` children run at once; each takes job after job
    until it is recycled (see the module docstring). A job that hits its wall clock gets
    its child killed; a job whose child dies is classified by the exit; either way only
    that job fails and the remaining jobs go to other or fresh children. `progress()`, when
    given, is called after each finished job (an import's heartbeat).
    """
    results: list = [None] * len(jobs)
    # Largest files first: with two workers, a big file started last would leave one core idle.
    pending = deque(sorted(enumerate(jobs), key=lambda item: -_job_size(item[1])))
    pool: list[_Worker] = []
    retired: list = []                                  # told to exit; reaped as they go
    workers = max(1, int(workers))
    ctx = _context(preload) if jobs else None
    started = 0
    finished = False
    try:
        while pending or any(w.index is not None for w in pool):
            while pending:
                worker = next((w for w in pool if w.index is None), None)
                if worker is None:
                    if len(pool) >= workers:
                        break
                    try:
                        worker = _start_worker(ctx, limits, started, pool)
                    except Exception as e:             # noqa: BLE001 — e.g. out of fds/processes
                        log.exception("cannot start parser child")
                        if any(w.index is not None for w in pool):
                            break                      # go on with the children we have
                        index, _job = pending.popleft()
                        results[index] = UnreadableFile(f"无法启动解析进程（{_detail(e)}），请稍后重试")
                        continue
                    started += 1
                index, job = pending.popleft()
                try:
                    payload = ForkingPickler.dumps(job)
                except Exception as e:                 # noqa: BLE001 — e.g. a lambda
                    results[index] = UnreadableFile(f"解析程序内部错误（任务无法传给解析进程：{_detail(e)}），请联系管理员")
                    continue
                try:
                    if worker.proc.exitcode is not None:
                        raise BrokenPipeError
                    worker.conn.send_bytes(payload)
                except OSError:                        # the idle child is gone
                    pool.remove(worker)
                    _discard(worker)
                    if worker.done:                    # it died between jobs: another child
                        pending.appendleft((index, job))
                    else:
                        results[index] = _from_exit(worker.proc, limits)
                    continue
                worker.index = index
                worker.deadline = time.monotonic() + limits.wall_seconds
            busy = {w.conn: w for w in pool if w.index is not None}
            if not busy:
                continue
            timeout = max(0.0, min(w.deadline for w in busy.values()) - time.monotonic())
            for conn in wait(list(busy), timeout):
                worker = busy[conn]
                results[worker.index], keep = _collect(worker, limits)
                worker.index = None
                worker.done += 1
                if progress is not None:
                    progress()
                if not keep:
                    pool.remove(worker)
                    worker.conn.close()
                    retired.append(worker.proc)
            now = time.monotonic()
            for worker in [w for w in pool if w.index is not None and now >= w.deadline]:
                pool.remove(worker)
                _discard(worker)
                results[worker.index] = UnreadableFile(msg_timeout(limits.wall_seconds))
            retired = [p for p in retired if p.exitcode is None]    # reap the ones gone
        finished = True
    finally:
        _stop(pool, retired, gently=finished)
    return results


def _stop(pool: list[_Worker], retired: list, gently: bool) -> None:
    """Leave no children behind: idle ones are told to exit, the rest (and everything when
    interrupted) are killed."""
    procs = list(retired)
    for worker in pool:
        if gently and worker.index is None:
            try:
                worker.conn.send(None)
            except Exception:                           # noqa: BLE001 — already gone
                pass
        else:
            try:
                worker.proc.kill()
            except Exception:                           # noqa: BLE001
                pass
        worker.conn.close()
        procs.append(worker.proc)
    deadline = time.monotonic() + (2 if gently else 0)
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.exitcode is None:
            _kill(proc)


def parse_many_untrusted(paths, limits: Limits = Limits(), workers: int = 2, progress=None
                         ) -> list[ParseResult | UnreadableFile]:
    """Parse several untrusted files, up to `workers` at a time in limited children.

    Returns one entry per path, in input order: a ParseResult, or the UnreadableFile
    explaining why that file could not be read. Never raises for a bad file. Scanned PDF
    pages are read by OCR page by page on at least two children (`_read_scans`);
    `progress()` is called after each file read, and `progress(pages=(done, total))` after each
    scanned page read (of all the files' scanned pages).
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
    for i, r in zip(where, _run_isolated(jobs, limits, workers, progress=progress)):
        results[i] = r
    _read_scans(results, limits, workers, progress)
    return results


def parse_untrusted(path, limits: Limits = Limits()) -> ParseResult:
    """Parse one untrusted file in a limited child process; raise UnreadableFile on failure."""
    return _result_or_raise(parse_many_untrusted([path], limits, workers=1)[0])


def run_untrusted(func, args: tuple, limits: Limits = Limits()):
    """func(*args) on untrusted input, in a limited child like the form parsers: its return
    value, which must be plain picklable data (never objects of the parser that read it); raise
    UnreadableFile with one Chinese line when the child fails, runs out of time or memory, or
    raises. func must be a module-level function; the caller checks the input's size first."""
    return _result_or_raise(_run_isolated([(func, args)], limits, workers=1, preload=False)[0])


def _result_or_raise(result):
    if isinstance(result, UnreadableFile):
        raise result
    return result
