"""Contact search served by the database's own trigram index, never a table scan.

SQLite: an FTS5 table with the trigram tokenizer over ``contacts.search_text`` (kept in
step by triggers, see the migration). PostgreSQL: a ``pg_trgm`` GIN index on the same
column, which serves ``LIKE '%needle%'``. Trigram indexes need three characters; shorter
needles fall back to matching the start of a word.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, Select, literal_column, or_, select, text

from parlour.contacts.models import Contact
from parlour.contacts.normalize import fold, search_needle


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches(query: str, *, dialect: str) -> ColumnElement[bool]:
    """A condition on ``Contact`` true for contacts matching ``query``."""
    if dialect == "sqlite":
        return Contact.id.in_(_fts_ids(query))
    return _pg_match(query)


def matching_ids(query: str, *, dialect: str) -> Select[tuple[int]]:
    """The ids of the contacts matching ``query``, for ``IN`` conditions on other tables."""
    if dialect == "sqlite":
        return _fts_ids(query)
    return select(Contact.id).where(_pg_match(query))


def _fts_ids(query: str) -> Select[tuple[int]]:
    needle = search_needle(query)
    if len(needle) < 3:
        # Too short for trigrams: a word starting with it ("ro" finds "Mateo Rossi").
        prefix = fold(query.strip())
        if prefix.isalnum():
            return _fts_rowids("contacts_words", '"' + prefix + '"*')
        return select(Contact.id).where(_starts_a_word(prefix))
    return _fts_rowids("contacts_fts", '"' + needle.replace('"', '""') + '"')


def _pg_match(query: str) -> ColumnElement[bool]:
    needle = search_needle(query)
    if len(needle) < 3:
        return _starts_a_word(fold(query.strip()))
    return Contact.search_text.like("%" + _like_escape(needle) + "%", escape="\\")


def _starts_a_word(prefix: str) -> ColumnElement[bool]:
    escaped = _like_escape(prefix)
    return or_(
        Contact.search_text.like(escaped + "%", escape="\\"),
        Contact.search_text.like("% " + escaped + "%", escape="\\"),
    )


def _fts_rowids(table: str, fts_query: str) -> Select[tuple[int]]:
    """Contact ids an FTS5 table (named by us, never by input) matches."""
    return (
        select(literal_column("rowid", Integer))
        .select_from(text(table))
        .where(text(f"{table} MATCH :fts_q").bindparams(fts_q=fts_query))
    )
