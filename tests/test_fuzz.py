"""Fuzzing: documents generated from the real schema never meet an internal error.

hypothesis-graphql writes queries and mutations (valid ones, and invalid ones in
its negative mode) against ``schema.graphql``; each is posted over HTTP to the
app, on a database holding a little of everything and with real global ids of
every node type mixed into the generated ids. Whatever a document asks, the
answer is data or coded errors: never HTTP 500, never INTERNAL_SERVER_ERROR,
never an error without ``extensions.code``.

Bounded: a fixed number of documents per database (about half a minute each
here). The seed is fixed so CI is reproducible; ``EXPGRAPH_FUZZ_SEED`` and
``EXPGRAPH_FUZZ_EXAMPLES`` explore further locally.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path
from typing import Any

import graphql
import httpx
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from sqlalchemy import select

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.demo import load_demo
from expgraph.graphql.relay import encode_id, registry

SCHEMA = graphql.build_schema((Path(__file__).parents[1] / "schema.graphql").read_text())
EXAMPLES = int(os.environ.get("EXPGRAPH_FUZZ_EXAMPLES", "300"))
SEED = int(os.environ.get("EXPGRAPH_FUZZ_SEED", "20261201"))
INT64 = 2**63

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _json_node(value: Any) -> graphql.ValueNode:
    """A JSON value as the GraphQL literal a client would write."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_json_node(item) for item in value])
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=f"k{i}"), value=_json_node(item))
            for i, item in enumerate(value.values())
        ]
    )


def _scalars(ids: list[str]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    datetimes = st.datetimes(timezones=st.just(UTC)).map(lambda value: value.isoformat())
    return {
        "BigInt": (
            st.integers(min_value=-INT64 * 2, max_value=INT64 * 2).map(str) | st.text(max_size=5)
        ).map(nodes.String),
        "DateTime": (datetimes | st.text(max_size=12)).map(nodes.String),
        "JSON": json_values.map(_json_node),
        "ID": (st.sampled_from(ids) | st.text(max_size=12)).map(nodes.String),
    }


async def _seed_ids(settings: Settings, db: Database) -> list[str]:
    """A little of everything (the demo set, small), and a few ids of every node type."""
    await load_demo(settings, seed=5, experiments=15, progress=False)
    ids: list[str] = []
    async with db.read() as session:
        for spec in registry.specs():
            pks = (await session.scalars(select(spec.model.id).limit(3))).all()
            ids.extend(encode_id(spec.type_name, pk) for pk in pks)
    return ids


def _check(document: str, response: httpx.Response) -> None:
    assert response.status_code != 500, f"HTTP 500 for:\n{document}\n{response.text}"
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code, f"an error without a code for:\n{document}\n{error}"
        assert code != "INTERNAL_SERVER_ERROR", f"internal error for:\n{document}\n{error}"


def _fuzz(settings: Settings) -> None:
    loop = asyncio.new_event_loop()
    db = Database(settings)
    app = create_app(settings, db=db)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        ids = loop.run_until_complete(_seed_ids(settings, db))
        scalars = _scalars(ids)
        # Mostly valid documents (they reach resolvers), some invalid ones.
        valid = from_schema(SCHEMA, custom_scalars=scalars)
        invalid = from_schema(SCHEMA, custom_scalars=scalars, mode=Mode.NEGATIVE)
        documents = st.one_of(valid, valid, valid, invalid)

        @seed(SEED)
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(document=documents)
        def posts(document: str) -> None:
            response = loop.run_until_complete(client.post("/graphql", json={"query": document}))
            _check(document, response)

        posts()
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(db.dispose())
        loop.close()


def test_generated_documents_get_data_or_coded_errors(settings: Settings) -> None:
    # Own loop in a worker thread: hypothesis drives the examples synchronously.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_fuzz, settings).result()
