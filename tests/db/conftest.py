"""Fixtures of the database tests: ``fresh_url`` (an empty database of its own) is in
tests/conftest.py, shared with the API fuzzing."""
