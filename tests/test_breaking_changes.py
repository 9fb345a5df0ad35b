"""Breaking-change guard: the schema the code serves, compared with the last
released one (schema/released.graphql) by graphql-core's find_breaking_changes.
A change that would break a generated client (a field removed, a type changed,
a required argument added...) fails here with the list; making it on purpose
means updating schema/released.graphql in the same change, where a reviewer
sees it."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLSchema, build_schema, find_breaking_changes

from expgraph.schema import build_schema as build_expgraph_schema
from expgraph.schema import export_sdl

RELEASED = Path(__file__).resolve().parents[1] / "schema" / "released.graphql"


def _breaking(old: GraphQLSchema, new: GraphQLSchema) -> list[str]:
    return [
        f"{change.type.name}: {change.description}" for change in find_breaking_changes(old, new)
    ]


def test_the_served_schema_breaks_no_client_of_the_released_one() -> None:
    released = build_schema(RELEASED.read_text())
    served = build_schema(export_sdl(build_expgraph_schema()))
    assert _breaking(released, served) == []


def test_the_guard_reports_a_removed_field_and_a_new_required_argument() -> None:
    released = build_schema(RELEASED.read_text())
    sdl = RELEASED.read_text()
    # A client-visible field removed, and a required argument added to another.
    changed = sdl.replace('  """Who created it."""\n  createdBy: User\n', "", 1)
    assert changed != sdl
    changed = changed.replace("  experiments(", "  experiments(region: String!, ", 1)
    breaking = _breaking(released, build_schema(changed))
    assert any("createdBy was removed" in b for b in breaking), breaking
    assert any("region" in b and "REQUIRED_ARG_ADDED" in b for b in breaking), breaking
