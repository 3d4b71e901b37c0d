"""Contact search served by the database's own trigram index, never a table scan.

SQLite: an FTS5 table with the trigram tokenizer over ``contacts.search_text`` (kept in
step by triggers, see the migration). PostgreSQL: a ``pg_trgm`` GIN index on the same
column, which serves ``LIKE '%needle%'``. Trigram indexes need three characters; shorter
needles fall back to matching the start of a word.

A page of results is sorted (by name, or by newest activity), and the plan depends on how
many contacts match:

- **A few** (``probe``: up to ``FEW``, or ``FEW_SHORT`` for one or two letters, read from
  the index in a millisecond or two): each is looked up and the few are sorted.
- **More**: looking up and sorting thousands ("ma" starts a word in 9,000 of 100,000
  contacts) costs 10 ms or more, while walking the index that is already in display order,
  testing each entry, finds a page after a few hundred or thousand entries. The
  display-order indexes end each entry with the first ``SEARCH_HEAD_CHARS`` characters of
  the search text (migration 0006), so the walk reads the index alone (``head_matches``).
- The contacts list, sorted by name, walks at most ``WALK_CAP`` entries (``walk``): matches
  can be far apart in name order (every "Priya" sorts under P), and are then looked up and
  sorted after all. The panel, newest first, needs no cap.
- **One word** (``walk_first``: a first name or a surname, no digits) is walked for before
  the probe, which then only runs if the walk (the panel: the newest
  ``PANEL_FIRST_WALK`` threads) did not fill the page: at a million contacts the probe's
  trigram lookup reads every match, 5-10 ms on PostgreSQL, while "martin" or
  "fernandez" (1% of contacts) fill a page within the walk in 2-5 ms.

The walk tests a word start as PostgreSQL does, after a space; SQLite's word index also
starts words after "." or "@" in an email, so on SQLite "st" finds "bob.stone@..." when
the matches are few and looked up, but not when they are many and walked for.

**Prefix matches first.** The contacts list's search shows first the matches whose search
text starts with the query (their name does; or their company or address, for a contact
with no name), in the order of the text's first ``HEAD_KEY_CHARS`` characters, then the
others by name, as a directory's type-ahead does. It is also what keeps a page flat as the
data grows: at a million contacts "priya" has 12,000 matches, nearly all named Priya, so
in name order they all sit under P and no walk from A finds them (all of them were looked
up and sorted: 50 ms; "william", a first name and a surname, 100 ms). The prefix matches
are one range of an index in that order (migration 0015): a page of them is read in about
a millisecond at any size. The other matches come after, by name, found as above; a
cursor says which of the two it is in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import SQLCoreOperations

from parlour.contacts.models import SEARCH_HEAD_CHARS, Contact
from parlour.contacts.normalize import fold, search_needle
from parlour.errors import InvalidInput
from parlour.pagination import decode_cursor, row_id

# Up to this many matches, they are looked up by id. (Measured at 100,000 contacts on
# SQLite: 1,188 matches took 1.7 ms looked up and sorted; 2,175 took 3.5 ms, and a walk
# 0.9 ms. PostgreSQL's planner cannot tell: it guessed 10 matches for "alvarez", which
# has 2,230, and 1,010 for "priya", which has 1,188.)
FEW = 500
# The same for one or two letters, which no trigram serves: PostgreSQL reads contacts one
# by one to find them (4 ms for 501 "jo"), and such a word start is rarely rare.
FEW_SHORT = 100

# The contacts list's walk gives up after this many index entries (0.4-1 µs each). By
# name, "jo" fills a page after 1,576 entries, "martin" after 2,283 and "costa" (1.1% of
# contacts) after about 4,600; "priya" would need 75,000, but is not walked for (see
# ``Probe.lead_by_name``). A surname that sorts late among each first name's contacts
# needs more: at a million contacts the first 6,000 names are all "Aaron ..." and "Adam
# ...", and none of them an "... Ólafsdóttir" (Ó sorts after Z), so all 11,900 were looked
# up and sorted (21 ms of SQLite's time, 35 ms on PostgreSQL); 15,000 entries take 6 ms.
WALK_CAP = 15000

# The panel first walks this many of the newest threads for a one-word search: a page of
# matches is within them when 1% of contacts match (about 100: "martin", "priya" at any
# size), read in a few milliseconds.
PANEL_FIRST_WALK = 10000
# Whether one word is walked for before the probe, on the panel and the contacts list (the
# search tests turn it off to reach the probe's plans with one word too).
WALK_FIRST = True

# How much of the search head the prefix matches are ordered by (migration 0015's index;
# a cursor carries it).
HEAD_KEY_CHARS = 60
# Above every character: a prefix's range ends here.
_LAST_CHAR = "\U0010ffff"


def head_key(search_head: SQLCoreOperations[str], *, dialect: str) -> ColumnElement[str]:
    """The prefix matches' order: the expression of migration 0015's index, which a query
    must repeat exactly (literal numbers; binary order on PostgreSQL, where a prefix is a
    range whatever the database's collation)."""
    key = func.substr(search_head, literal_column("1"), literal_column(str(HEAD_KEY_CHARS)))
    return key.collate("C") if dialect == "postgresql" else key


def leads(search_head: SQLCoreOperations[str], query: str) -> ColumnElement[bool]:
    """True when a search text (or head) starts with ``query``, folded: a prefix match."""
    return search_head.like(_like_escape(fold(query.strip())) + "%", escape="\\")


def walk_first(query: str) -> bool:
    """Whether to walk for ``query`` before the probe: when it is one word without digits
    ("martin", "fernandez"), a first name or a surname, which at any size usually matches
    1% of contacts or more, so that a walk in display order finds a page sooner than the
    probe reads the matches. A whole name, a phone number or an address is rarer: the
    probe comes first."""
    return WALK_FIRST and len(query.split()) == 1 and not any(c.isdigit() for c in query)


def leads_imply_match(query: str) -> bool:
    """Whether every prefix match of ``query`` matches it (``text_matches``): a search text
    starting with the folded query contains it, unless the query looks like a phone number,
    whose needle is its digits alone."""
    return search_needle(query) == fold(query.strip())


def prefix_range(query: str, key: ColumnElement[str]) -> list[ColumnElement[bool]]:
    """The range of ``head_key`` the prefix matches of ``query`` are in."""
    start = fold(query.strip())[:HEAD_KEY_CHARS]
    return [key >= start, key < start + _LAST_CHAR]


@dataclass(frozen=True)
class SearchCursor:
    """Where a page of search results ended: in the prefix matches (``tier`` 1, ``key`` a
    head key) or in the others (2, a name)."""

    tier: int
    key: str
    id: int


def search_cursor(cursor: str) -> SearchCursor:
    """A search page's cursor; one of (name, id), from before prefix matches came first,
    goes on among the others."""
    values = decode_cursor(cursor)
    if len(values) == 2:
        values = [2, *values]
    if len(values) != 3 or values[0] not in (1, 2) or isinstance(values[0], bool):
        raise InvalidInput("This cursor is not valid.", code="invalid_cursor")
    tier, key, last = values
    if not isinstance(key, str):
        raise InvalidInput("This cursor is not valid.", code="invalid_cursor")
    return SearchCursor(tier=tier, key=key, id=row_id(last))


@dataclass
class Probe:
    """Up to ``limit`` + 1 of the contacts matching a query, in no particular order; with
    ``with_leads``, also how many of those in the account were sampled, and how many of
    these have a name starting with the query."""

    limit: int
    ids: list[int]
    sampled: int = 0
    leading: int = 0

    @property
    def few(self) -> list[int] | None:
        """All the matches' ids, when there are at most ``limit``."""
        return self.ids if len(self.ids) <= self.limit else None

    @property
    def lead_by_name(self) -> bool:
        """Whether nearly all matches have a name starting with the query ("priya"), so that
        they sort together by name and a walk in name order from elsewhere finds none. (Of
        "william", 43% are Williams, spread over every letter: enough for a walk.)"""
        return self.sampled > 0 and self.leading >= 0.9 * self.sampled


async def probe(
    conn: AsyncConnection, query: str, *, account_id: int, with_leads: bool = False
) -> Probe:
    """Up to ``FEW`` + 1 (``FEW_SHORT`` + 1 for one or two letters) of the contacts matching
    ``query``, read as one row: reading 501 rows one by one cost 2 ms of CPU. SQLite's FTS
    index is shared by all accounts: its ids may include other accounts' contacts, which
    the lookup leaves out.

    The names leading with the query are counted by the database: a contact's search text
    starts with its folded name (normalize.search_text). Fetching 501 names to fold them
    here cost half a millisecond of CPU."""
    limit = FEW if _trigram_served(query) else FEW_SHORT
    if conn.dialect.name == "sqlite":
        found = _fts_ids(query).limit(limit + 1).subquery()
        ids_json = func.json_group_array(found.c[0])
        if not with_leads:
            return Probe(limit=limit, ids=json.loads(await conn.scalar(select(ids_json)) or "[]"))
        # The account's contacts among the sampled ids, joined in the same statement.
        ours = and_(Contact.id == found.c[0], Contact.account_id == account_id)
        row = (
            await conn.execute(
                select(
                    ids_json,
                    func.count(Contact.id),
                    func.count(Contact.id).filter(leads(Contact.search_head, query)),
                ).select_from(found.outerjoin(Contact, ours))
            )
        ).one()
        return Probe(limit=limit, ids=json.loads(row[0] or "[]"), sampled=row[1], leading=row[2])
    matching = (Contact.account_id == account_id, text_matches(Contact.search_text, query))
    if not with_leads:
        found = select(Contact.id).where(*matching).limit(limit + 1).subquery()
        ids = list(await conn.scalar(select(func.array_agg(found.c.id))) or [])
        return Probe(limit=limit, ids=ids)
    found = select(Contact.id, Contact.search_head).where(*matching).limit(limit + 1).subquery()
    row = (
        await conn.execute(
            select(
                func.array_agg(found.c.id), func.count().filter(leads(found.c.search_head, query))
            )
        )
    ).one()
    ids = list(row[0] or [])
    return Probe(limit=limit, ids=ids, sampled=len(ids), leading=row[1])


def walk(
    ordered: Select[Any],
    *,
    head: str,
    contact_id: str,
    query: str,
    account_id: int,
    exclude_leading: bool = False,
    cap: int | None = None,
) -> Select[tuple[int]]:
    """The ids of the rows of ``ordered`` (a select in display order) whose search head
    matches ``query``, in that order, looking at no more than ``cap`` rows (``WALK_CAP``
    unless given).

    ``ordered`` selects ``id`` and the columns named: the search head and the contact's id.
    Add ``.limit(n)``; fewer than ``n`` ids means the walk ended or gave up: then look the
    matches up. No ORDER BY repeats the walk's: SQLite would sort the rows it walked, so
    read all ``WALK_CAP`` of them, while both databases yield a subquery's rows in its own
    order when the query around it neither sorts nor joins (the search tests page through
    every plan to hold them to it). ``exclude_leading``: only matches that are not prefix
    matches (the contacts search's second tier)."""
    walked = ordered.limit(WALK_CAP if cap is None else cap).subquery("walked")
    found = head_matches(walked.c[head], walked.c[contact_id], query, account_id=account_id)
    if exclude_leading:
        found = and_(found, ~leads(walked.c[head], query))
    return select(walked.c.id).where(found)


def head_matches(
    search_head: SQLCoreOperations[str],
    contact_id: SQLCoreOperations[int],
    query: str,
    *,
    account_id: int,
) -> ColumnElement[bool]:
    """True when a search head (a contact's, or its conversation's copy) matches ``query``,
    or its contact is one of the few whose text is longer than its head and matches.

    Those few are read once, from an index that holds only them (migration 0007). Asking
    each entry whether its head was cut instead counted the head's characters: a quarter
    to a third of the walk's time."""
    return or_(
        text_matches(search_head, query),
        contact_id.in_(
            select(_LONG.c.id).where(
                _LONG.c.account_id == account_id,
                # The partial index's own condition (models.py), with the number as a
                # literal: SQLite uses the index only when the query repeats it.
                func.length(_LONG.c.search_text) > literal_column(str(SEARCH_HEAD_CHARS)),
                text_matches(_LONG.c.search_text, query),
            )
        ),
    )


# The long-text contacts, as a Core alias built once (an ORM alias cost a millisecond of
# CPU for each search), so that it never correlates with a walk over contacts.
_LONG = Contact.__table__.alias("long_text")


def matches(query: str, *, dialect: str) -> ColumnElement[bool]:
    """A condition on ``Contact`` true for contacts matching ``query``."""
    if dialect == "sqlite":
        return Contact.id.in_(_fts_ids(query))
    return text_matches(Contact.search_text, query)


def text_matches(search_text: SQLCoreOperations[str], query: str) -> ColumnElement[bool]:
    """A condition on a search text column (or a search head) true when it matches
    ``query``: the needle anywhere, or a word starting with a needle under 3 characters."""
    needle = search_needle(query)
    if not _trigram_served(query):
        return _starts_a_word(search_text, fold(query.strip()))
    return search_text.like("%" + _like_escape(needle) + "%", escape="\\")


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _trigram_served(query: str) -> bool:
    return len(search_needle(query)) >= 3


def _fts_ids(query: str) -> Select[tuple[int]]:
    """The ids of the contacts matching ``query``, from SQLite's FTS tables (shared by all
    accounts), or by word starts where none serves it."""
    fts = _fts_query(query)
    if fts is None:
        return select(Contact.id).where(text_matches(Contact.search_text, query))
    return _fts_rowids(*fts)


def _fts_query(query: str) -> tuple[str, str] | None:
    """The FTS5 table and MATCH expression for ``query``; None when no FTS index serves it."""
    needle = search_needle(query)
    if len(needle) < 3:
        # Too short for trigrams: a word starting with it ("ro" finds "Mateo Rossi").
        prefix = fold(query.strip())
        return ("contacts_words", '"' + prefix + '"*') if prefix.isalnum() else None
    return "contacts_fts", '"' + needle.replace('"', '""') + '"'


def _starts_a_word(search_text: SQLCoreOperations[str], prefix: str) -> ColumnElement[bool]:
    escaped = _like_escape(prefix)
    return or_(
        search_text.like(escaped + "%", escape="\\"),
        search_text.like("% " + escaped + "%", escape="\\"),
    )


def _fts_rowids(table: str, fts_query: str) -> Select[tuple[int]]:
    """Contact ids an FTS5 table (named by us, never by input) matches."""
    return (
        select(literal_column("rowid", Integer))
        .select_from(text(table))
        .where(text(f"{table} MATCH :fts_q").bindparams(fts_q=fts_query))
    )
