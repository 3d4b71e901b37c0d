"""Email addresses that pass for another: ``paypal@example.com`` with U+0430, a Cyrillic a.

A look-alike of a teammate's or a contact's address, added next to the real one, lets
someone be taken for them (a reply sent to the wrong person, an agent invited twice). Such
an address is refused when a user or a contact's email is added.

Which characters look alike is Unicode's data (confusables.txt, UTS #39), through
``confusable_homoglyphs``, which ships it and is kept current. It was chosen over the
``confusables`` package (last released 2021), and over PyICU's SpoofChecker, which has the
full UTS #39 skeleton but needs ICU compiled into the environment. UTS #39's skeleton would
also call pure-ASCII addresses look-alikes (``rn`` for ``m``, ``1`` for ``l``): those are
real, different addresses that people type, so here only an address with a character
outside ASCII is a look-alike, of an address it becomes when each such character is read
as the ASCII one it looks like (NFKC first: fullwidth and mathematical letters are folded).
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# An address whose characters each look like several ASCII ones has many readings; the
# first ones are enough to meet any real address (Cyrillic and Greek letters have one).
MAX_READINGS = 256


@lru_cache(maxsize=4096)
def _ascii_lookalikes(char: str) -> tuple[str, ...]:
    # Imported here: the library loads its tables when imported, which start-up and the
    # CLI do not need.
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(char, greedy=True, preferred_aliases=[])
    if not found:
        return ()
    return tuple(
        sorted(
            {
                str(glyph["c"]).lower()
                for glyph in found[0]["homoglyphs"]
                if str(glyph["c"]).isascii() and str(glyph["c"]).isprintable()
            }
        )
    )


def ascii_readings(address: str) -> frozenset[str]:
    """The plain-ASCII addresses ``address`` could be read as. Empty for an ASCII address
    (taken as typed), and for one with a character that looks like no ASCII one."""
    if address.isascii():
        return frozenset()
    folded = unicodedata.normalize("NFKC", address).lower()
    options: list[tuple[str, ...]] = []
    for char in folded:
        alike = (char,) if char.isascii() else _ascii_lookalikes(char)
        if not alike:
            return frozenset()
        options.append(alike)
    readings = itertools.islice(itertools.product(*options), MAX_READINGS)
    return frozenset("".join(r) for r in readings)


def lookalike_of(address: str, existing: Iterable[str]) -> str | None:
    """The first of ``existing`` that ``address`` could be taken for (not itself)."""
    mine = ascii_readings(address)
    for other in existing:
        if other == address:
            continue
        theirs = ascii_readings(other)
        if address in theirs or other in mine or not mine.isdisjoint(theirs):
            return other
    return None
