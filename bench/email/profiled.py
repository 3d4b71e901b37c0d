"""`parlour` under cProfile, for a quick look at where a bench's time goes in the server:
bench/email/receiver.py starts its parlour process with this when BENCH_PROFILE is set.

    BENCH_PROFILE=/tmp/receiver.prof uv run python -m bench.email.receiver --rounds 1
    uv run python -m pstats /tmp/receiver.prof    # then: sort cumtime, stats 40

uvicorn re-raises the SIGTERM it stopped on once it has shut down; the handler set here is
the one it restores, so the stats are written then (``python -m cProfile`` would lose them).
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
from typing import Any

from parlour.cli import main

profile = cProfile.Profile()


def dump(*_: Any) -> None:
    profile.disable()
    profile.dump_stats(os.environ["BENCH_PROFILE"])
    os._exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, dump)
    sys.argv = ["parlour", *sys.argv[1:]]
    profile.enable()
    try:
        main()
    finally:
        dump()
