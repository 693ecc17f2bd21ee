"""Experiment hook: run `manage.py ...` with a different GIL switch interval.

    BENCH_SWITCH_INTERVAL=0.0005 python -m bench.serve_wrapper serve --port P

Used only by `python -m bench run --switch-interval S` to test whether database
threads are starved of the GIL by a busy event loop (CPython's default is 5 ms).
The server code is not changed.
"""

from __future__ import annotations

import os
import runpy
import sys

from .util import ROOT

if __name__ == "__main__":
    interval = os.environ.get("BENCH_SWITCH_INTERVAL")
    if interval:
        sys.setswitchinterval(float(interval))
    sys.argv = [str(ROOT / "manage.py"), *sys.argv[1:]]
    sys.path.insert(0, str(ROOT))
    runpy.run_path(str(ROOT / "manage.py"), run_name="__main__")
