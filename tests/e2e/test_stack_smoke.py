"""The stack comes up on PostgreSQL and answers GraphQL with the code location loaded."""

from __future__ import annotations

import pytest

from tests.e2e.stack import DagsterStack


@pytest.mark.e2e
@pytest.mark.postgres
def test_the_code_location_is_loaded_on_the_production_instance(e2e_stack: DagsterStack) -> None:
    client = e2e_stack.graphql()
    # A plain query: the client has no public method for it.
    answer = client._execute("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }")
    entries = answer["workspaceOrError"]["locationEntries"]
    assert [(entry["name"], entry["loadStatus"]) for entry in entries] == [("etims_pipeline", "LOADED")]
    with e2e_stack.instance() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
