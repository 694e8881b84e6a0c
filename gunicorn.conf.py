"""gunicorn's settings for this app, read from the working directory by `make serve`, bench/load.py
and bench/province.py (gunicorn reads ./gunicorn.conf.py unless told otherwise).

Garbage collection. Once a worker has loaded the app it holds about 180,000 long-lived objects
(modules, SQLAlchemy's mappers, pydantic's schemas, templates), and CPython's cycle collector
walks all of them on every full collection. An answer that builds many rows (the province's
10,000 projects, the overview of 1,000 实施单位) allocates enough to set off hundreds of young
collections and a few full ones: measured in-process, 26–31 ms of a 120 ms answer, and 25 ms of
a 70 ms project page. So, after the worker has loaded the app, those objects are frozen (the
collector no longer walks them; they live as long as the worker anyway) and the young
generation is collected every 20,000 allocations rather than every 700: cycles are still
collected, a little later. Reference counting frees everything else at once, as before.
"""
import gc

GC_THRESHOLD = (20_000, 10, 10)


def post_worker_init(worker):
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    worker.log.debug("gc: %d objects frozen, thresholds %s", gc.get_freeze_count(), gc.get_threshold())
