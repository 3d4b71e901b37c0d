"""Bounce detection over a whole corpus (not a test: the corpus is not in the repository).

    uv run python tests/channels/email/data/bounces/measure.py SET_OF_EMAILS [P5_SISIMAI_T]

SET_OF_EMAILS is a checkout of sisimai/set-of-emails (its maildir/bsd and maildir/not are read);
P5_SISIMAI_T, optionally, p5-sisimai's t/ folder, whose tests list for each file the statuses
it expects, one a recipient: then the number of recipients found is compared with sisimai's.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from parlour.channels.email.bounces import detect
from parlour.channels.email.mime import parse

# Not bounces: abuse reports, auto-replies, ordinary mail, and a DSN saying "deliverable".
NOT_BOUNCES = re.compile(r"^(arf-|rfc3834-|is-not-bounce-|rfc3464-28\.)")


def sisimai_counts(tests: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for test in tests.glob("*.t"):
        stem = test.stem[4:]  # "653-lhost-exim" -> "lhost-exim"
        table = re.search(r"\$isexpected = \{(.*?)\n\};", test.read_text(), re.S)
        if not table or not re.match(r"(lhost|rhost)-|rfc3464", stem):
            continue
        for key, rows in re.findall(r"'(\d+)'\s*=>\s*\[(.*?)\]\s*\],", table.group(1) + ",", re.S):
            counts[f"{stem}-{key}.eml"] = len(re.findall(r"\[\s*'", rows))
    return counts


def main() -> None:
    corpus = Path(sys.argv[1]) / "maildir"
    expected = sisimai_counts(Path(sys.argv[2])) if len(sys.argv) > 2 else {}
    files = sorted([*(corpus / "bsd").glob("*.eml"), *(corpus / "not").glob("*.eml")])
    bounces = detected = false_positives = compared = same_count = 0
    for path in files:
        raw = path.read_bytes()
        found = detect(raw, parse(raw))
        if NOT_BOUNCES.match(path.name):
            false_positives += found is not None
            continue
        bounces += 1
        detected += found is not None
        if found is not None and expected.get(path.name):
            compared += 1
            same_count += len(found.recipients) == expected[path.name]
    negatives = len(files) - bounces
    print(f"{detected} of {bounces} bounces detected; {false_positives} of {negatives} non-bounces")
    if expected:
        print(f"{same_count} of {compared} with as many recipients as sisimai expects")


if __name__ == "__main__":
    main()
