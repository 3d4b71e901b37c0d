"""The reply stripper on public corpora it was not written against (data/replies/README.md).

The floors are the counts measured when the rules were last changed: a rule that loses a
reply fails here. Raise them when a change finds more.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

MEASURE = Path(__file__).parent / "data" / "replies" / "measure.py"

TUNE_FLOOR = 27  # of 42: the half the rules may be tuned on
HELD_OUT_FLOOR = 25  # of 42: the half only measured
TOTAL_FLOOR = 52  # of 84


def _measure_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replies_measure", MEASURE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_public_corpora_split_at_least_as_well_as_measured() -> None:
    measure = _measure_module()
    cases = measure.cases()
    assert len(cases) == 84
    assert {c.source for c in cases} == {"discourse", "github", "talon"}

    started = time.perf_counter()
    result = measure.measure(measure.parlour, cases)
    assert time.perf_counter() - started < 5

    hits = result["hit"]
    missed = sorted(f"{c.source}/{c.name}" for c in result["miss"])
    assert sum(c.half == "tune" for c in hits) >= TUNE_FLOOR, missed
    assert sum(c.half == "held out" for c in hits) >= HELD_OUT_FLOOR, missed
    assert len(hits) >= TOTAL_FLOOR, missed


def test_normalisation_forgives_only_trailing_whitespace_and_blank_edges() -> None:
    normalise = _measure_module().normalise
    assert normalise("\r\n\n  Hi  \r\n\r\n there\t\n\n") == "  Hi\n\n there"
    assert normalise("a\n\n\nb") != normalise("a\nb")
