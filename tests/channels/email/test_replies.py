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

import pytest

MEASURE = Path(__file__).parent / "data" / "replies" / "measure.py"

TUNE_FLOOR = 42  # of 42: the half the rules were tuned on
HELD_OUT_FLOOR = 32  # of 42: the half only measured
TOTAL_FLOOR = 74  # of 84


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


def test_lines_like_the_new_attributions_and_sign_offs_split_quickly() -> None:
    from parlour.channels.email.quotes import split_reply

    hostile = [
        ("1 wrote " * 60 + "\n") * 5000,
        ("1 wrote " * 60 + ":\n") * 5000,
        ("Am 1 schrieb 1 schrieb 1 " * 40 + ":\n") * 5000,
        ("-- 1 wrote -- " * 40 + "\n") * 5000,
        ("On 1 wrote 1 " * 40 + ":\n") * 5000,
        ("2016-10-24 " + "< a@b " * 60 + ">\n") * 5000,
        "1 Ada wrote wrote wrote wrote x\n" * 100_000,
        "2016-10-24 15:36 <a@b> <a@b> x\n" * 100_000,
        "On a\n<\n@\n>\n" * 50_000,
        " " * 200_000 + "x 1 wrote",
        "---- " * 100_000 + "wrote",
        "x\n" + "Sent from my phone\n" * 100_000,
        "\n" * 10 + " " * 100_000 + "\n" * 100_000 + "x",
    ]
    for text in hostile:
        started = time.perf_counter()
        split_reply(text)
        assert time.perf_counter() - started < 1, text[:40]


WRAPPED_ATTRIBUTIONS = [
    "On Mon, 3 Mar 2025 at 10:12, Ada Lovelace\n<ada@example.com> wrote:",
    "On Mon, 3 Mar 2025 at 10:12, Ada Lovelace <\nada@example.com> wrote:",
    "Max Mustermann <max@example.com> schrieb am Fr., 28.\nApr. 2017 um 11:53 Uhr:",
    '20 окт. 2016 г. 19:37 пользователь "Rafael" <\nmeta@example.com> написал:',  # noqa: RUF001
    "On Thu, 31 Mar 2016 at 11:16 Ada\n\n<\nmailto:Ada <ada@example.com>\n> wrote:",
]


@pytest.mark.parametrize("attribution", WRAPPED_ATTRIBUTIONS)
def test_a_wrapped_attribution_is_cut_at_its_first_line(attribution: str) -> None:
    from parlour.channels.email.quotes import split_reply

    split = split_reply(f"Thanks.\n\n{attribution}\n> Old text.\n")
    assert split.new_text == "Thanks."
    assert split.quoted_text == f"{attribution}\n> Old text."


@pytest.mark.parametrize(
    "text",
    [
        "In 2019 I wrote this:\n\nstuff",
        "Fine.\n\nFrom my point of view it works.",
        "Done.\n\nSent by courier this morning.",
        "On this day\n\nI wrote something\n\nof interest:",
    ],
)
def test_sentences_like_attributions_and_sign_offs_stay_new_text(text: str) -> None:
    from parlour.channels.email.quotes import split_reply

    assert split_reply(text).new_text == text
