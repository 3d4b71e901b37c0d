"""How a search chooses its plan (parlour.contacts.search); each plan's results are tested
through the API, in tests/contacts/test_api.py and tests/conversations/test_api.py."""

from __future__ import annotations

from parlour.contacts.search import Probe


def test_a_probe_gives_the_ids_only_when_they_are_few() -> None:
    assert Probe(limit=2, ids=[1, 2]).few == [1, 2]
    assert Probe(limit=2, ids=[1, 2, 3]).few is None


def test_matches_lead_by_name_when_nearly_all_names_start_with_the_query() -> None:
    priyas = Probe(limit=1, ids=[1, 2, 3], names=["Priya Park", "Príya Ode", "Priya Shah"])
    assert priyas.lead_by_name("priya")
    assert priyas.lead_by_name("  PRIYA ")
    williams = Probe(limit=1, ids=[1, 2, 3], names=["William Park", "Wílliam Ode", "Ada Williams"])
    assert not williams.lead_by_name("william")
    assert not Probe(limit=1, ids=[]).lead_by_name("x")
