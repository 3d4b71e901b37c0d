"""How often ``split_reply`` finds a reply's new text exactly, on public corpora it was not
written against (see README.md here for the sources, commits and licences).

    uv run python tests/channels/email/data/replies/measure.py            # Parlour only
    uv run python tests/channels/email/data/replies/measure.py --show     # and each miss
    git show 9a80445:parlour/channels/email/quotes.py > /tmp/quotes_before.py
    uv run python tests/channels/email/data/replies/measure.py --quotes /tmp/quotes_before.py
    uv run --with talon --with mail-parser-reply --with quotequail \\
        python tests/channels/email/data/replies/measure.py --others      # and the libraries

A split is exact when the new text equals the expected text after both are normalised the
same way: line endings made ``\\n``, trailing whitespace taken off every line, and blank lines
taken off the start and the end (``normalise`` below). Nothing else is forgiven.

The cases of each source are sorted by file name and dealt alternately into two halves:
even positions are the half rules may be tuned on ("tune"), odd positions the half that is
only measured ("held out").
"""

from __future__ import annotations

import argparse
import email
import email.policy
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[4]))  # the repository root, when run as a script

from parlour.channels.email.quotes import split_reply  # noqa: E402


@dataclass(frozen=True)
class Case:
    source: str
    name: str
    text: str
    expected: str
    # talon's expected reply keeps the signature ("Hello\n\nSent from my iPhone"); the other
    # two sources take it off, as Parlour's new_text does.
    keeps_signature: bool
    half: str = ""


def normalise(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def _discourse() -> list[Case]:
    root = HERE / "discourse"
    return [
        Case("discourse", p.stem, _read(p), _read(root / "trimmed" / p.name), False)
        for p in sorted((root / "emails").glob("*.txt"))
    ]


def _github() -> list[Case]:
    root = HERE / "github"
    return [
        Case("github", p.stem, _read(p), _read(root / "expected" / p.name), False)
        for p in sorted((root / "emails").glob("*.txt"))
    ]


def _talon() -> list[Case]:
    # As talon's test_standard_replies: the text/plain part, decoded; the expected reply is
    # the file <name>_reply_text if there is one, else "Hello".
    root = HERE / "talon" / "standard_replies"
    cases = []
    for p in sorted(root.glob("*.eml")):
        message = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("plain",))
        assert part is not None, p
        text = part.get_content()
        expected_file = root / f"{p.stem}_reply_text"
        expected = _read(expected_file) if expected_file.exists() else "Hello"
        cases.append(Case("talon", p.stem, text, expected, True))
    return cases


def cases() -> list[Case]:
    out = []
    for group in (_discourse(), _github(), _talon()):
        out += [
            Case(
                c.source, c.name, c.text, c.expected, c.keeps_signature, ("tune", "held out")[i % 2]
            )
            for i, c in enumerate(group)
        ]
    return out


def parlour(case: Case) -> str:
    split = split_reply(case.text)
    if case.keeps_signature and split.signature:
        return f"{split.new_text}\n\n{split.signature}"
    return split.new_text


def _talon_splitter() -> Callable[[Case], str]:
    # talon's plain-text rules: extract_from_plain cuts the history; where the expected text
    # has no signature, its brute-force (not machine-learned) signature rule takes it off.
    from talon import quotations  # type: ignore[import-not-found]
    from talon.signature.bruteforce import extract_signature  # type: ignore[import-not-found]

    def split(case: Case) -> str:
        reply = str(quotations.extract_from_plain(case.text))
        return reply if case.keeps_signature else str(extract_signature(reply)[0])

    return split


def _mail_parser_reply() -> Callable[[Case], str]:
    # Every language it knows; the latest reply's body (its full_body keeps the signature).
    from mailparser_reply import EmailReplyParser  # type: ignore[import-not-found]
    from mailparser_reply.constants import MAIL_LANGUAGES  # type: ignore[import-not-found]

    parser = EmailReplyParser(languages=[x for x in MAIL_LANGUAGES if x != "david"])

    def split(case: Case) -> str:
        mail = parser.read(case.text)
        if not mail.replies:
            return ""
        reply = mail.replies[0]
        return str(reply.full_body if case.keeps_signature else reply.body)

    return split


def _quotequail() -> Callable[[Case], str]:
    import quotequail  # type: ignore[import-not-found]

    def split(case: Case) -> str:
        parts = quotequail.quote(case.text)
        new = []
        for shown, text in parts:
            if not shown:
                break
            new.append(text)
        return "\n".join(new)

    return split


def measure(splitter: Callable[[Case], str], all_cases: list[Case]) -> dict[str, list[Case]]:
    """The cases whose new text the splitter found exactly, and those it missed."""
    hits: dict[str, list[Case]] = {"hit": [], "miss": []}
    for case in all_cases:
        try:
            got = splitter(case)
        except Exception as e:  # a library that throws has missed
            got = f"<{type(e).__name__}: {e}>"
        hits["hit" if normalise(got) == normalise(case.expected) else "miss"].append(case)
    return hits


def _row(name: str, result: dict[str, list[Case]], all_cases: list[Case]) -> str:
    def count(keep: Callable[[Case], bool]) -> str:
        return f"{sum(keep(c) for c in result['hit'])}/{sum(keep(c) for c in all_cases)}"

    sources = sorted({c.source for c in all_cases})
    cells = [count(lambda c: c.half == "tune"), count(lambda c: c.half == "held out")]
    cells += [count(lambda c, s=s: c.source == s) for s in sources]
    cells.append(f"**{count(lambda c: True)}**")
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show", action="store_true", help="print each of Parlour's misses")
    ap.add_argument(
        "--others", action="store_true", help="also talon, mail-parser-reply, quotequail"
    )
    ap.add_argument(
        "--quotes",
        type=Path,
        help="measure this copy of quotes.py instead (e.g. one from `git show REV:...`)",
    )
    args = ap.parse_args()
    if args.quotes:
        global split_reply
        spec = importlib.util.spec_from_file_location("quotes_under_test", args.quotes)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        split_reply = module.split_reply

    all_cases = cases()
    splitters: list[tuple[str, Callable[[Case], str]]] = [("Parlour quotes.py", parlour)]
    if args.others:
        for name, dist, make in (
            ("talon {} (plain-text rules)", "talon", _talon_splitter),
            ("mail-parser-reply {}", "mail-parser-reply", _mail_parser_reply),
            ("quotequail {}", "quotequail", _quotequail),
        ):
            try:
                splitters.append((name.format(version(dist)), make()))
            except Exception as e:
                print(f"{name}: not measured ({type(e).__name__}: {e})")

    sources = sorted({c.source for c in all_cases})
    print("| splitter | tune half | held-out half | " + " | ".join(sources) + " | total |")
    print("|---" * (len(sources) + 4) + "|")
    results = {}
    for name, splitter in splitters:
        results[name] = measure(splitter, all_cases)
        print(_row(name, results[name], all_cases))
    parlour_result = results["Parlour quotes.py"]
    print(f"\nParlour: {len(parlour_result['hit'])} of {len(all_cases)} exact")

    if args.show:
        for case in parlour_result["miss"]:
            print(f"\n=== MISS {case.source}/{case.name} ({case.half})")
            print("--- expected\n" + normalise(case.expected))
            print("--- got\n" + normalise(parlour(case)))


if __name__ == "__main__":
    main()
