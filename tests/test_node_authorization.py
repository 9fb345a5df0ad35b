"""Who may read which node, on SQLite and PostgreSQL, with authentication on.

One record of every node type in the registry, then ``node(id:)`` and
``nodes(ids:)`` asked for each by a viewer (READ only), a member (owner of
their own API keys and sessions) and an admin, over HTTP: each sees exactly
what the type's read rule allows, and what they may not see is null, answered
exactly as an id of the same type that names nothing. Relationship fields and
connections (``node_field``, ``list_field``, ``connection_field`` and their
look-ahead) leave out what the caller may not read, with counts that agree.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type
from graphql import build_schema as graphql_build_schema
from sqlalchemy import JSON, Boolean, DateTime, Enum, Float, Integer, Numeric, String, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.schema.config import StrawberryConfig

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.pydantic_json import PydanticJSON
from expgraph.domains.abtest import models as abtest
from expgraph.domains.accounts import keys, service
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import types as account_types
from expgraph.domains.accounts.access import ROLE_PERMISSIONS
from expgraph.domains.experiments import models as experiments
from expgraph.graphql.auth import Permission, Principal
from expgraph.graphql.connections import Connection, connection_field
from expgraph.graphql.context import Context, Info
from expgraph.graphql.fastpath.executor import Executor
from expgraph.graphql.loaders import ChildLists, Relation, RowsById
from expgraph.graphql.prefetch import PREFETCH_ATTR, list_field, node_field
from expgraph.graphql.relay import decode_id, encode_id, registry
from expgraph.graphql.scalars import scalar_map
from expgraph.graphql.visibility import OwnerOrAdmin, ReadRule
from expgraph.schema import build_schema
from tests.auth_helpers import PASSWORD, Caller

ROLES = {
    "admin": accounts.UserRole.ADMIN,
    "member": accounts.UserRole.MEMBER,
    "viewer": accounts.UserRole.VIEWER,
}
# Who may read each node type; every type not named here is readable by anyone
# with READ. Written out, not read off the registry: a rule loosened in the code
# fails here.
OWNER_OR_ADMIN, ADMIN_ONLY = "owner or admin", "admin only"
RESTRICTED = {
    "ApiKey": OWNER_OR_ADMIN,
    "Session": OWNER_OR_ADMIN,
    "SavedSearch": OWNER_OR_ADMIN,
    "Notification": OWNER_OR_ADMIN,
    "Webhook": OWNER_OR_ADMIN,
    "WebhookLog": OWNER_OR_ADMIN,
    "SystemLog": ADMIN_ONLY,
    "ApiMetricsSummary": ADMIN_ONLY,
    "CustomProvider": ADMIN_ONLY,
}
MISSING_PK = 987_654_321  # no record of any type has it
# Values for columns whose type alone does not say what is valid.
COLUMN_VALUES: dict[str, Any] = {
    "task_config": {"model_provider": "echo", "model_name": "echo"},
}

NODE = "query($id: ID!) { node(id: $id) { id __typename } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }"


def may_read(type_name: str, role: str) -> bool:
    """Whether ``role`` may read the record of ``type_name`` made below (those
    with an owner are the member's)."""
    rule = RESTRICTED.get(type_name)
    if rule is None or role == "admin":
        return True
    return rule == OWNER_OR_ADMIN and role == "member"


# --- one record of every node type, straight through the ORM -------------------------


class Records:
    """Makes one record per model, filling every required column by its type
    and every foreign key with a record made the same way (one per model)."""

    def __init__(self, session: AsyncSession, owner_id: int) -> None:
        self.session = session
        self.owner_id = owner_id  # owner of every record a type's rule reads an owner off
        self.made: dict[type, Any] = {}
        self.serial = itertools.count(1)
        self.by_table: dict[str, type] = {}
        for spec in registry.specs():  # a table's first node type stands for it
            self.by_table.setdefault(spec.model.__tablename__, spec.model)

    async def of(self, model: type) -> Any:
        if model in self.made:
            return self.made[model]
        if issubclass(model, abtest.ViewBase):  # a view: make what it shows a row of
            self.made[model] = await self.view_row(model)
            return self.made[model]
        mapper = inspect(model)
        owner_attr = None
        spec = registry.for_model(model)
        if spec is not None and isinstance(spec.read, OwnerOrAdmin):
            owner_attr = spec.read.owner_attr
        values: dict[str, Any] = {}
        for key, column in mapper.columns.items():
            if key == owner_attr:  # the owner, also where the column is nullable (SET NULL)
                values[key] = self.owner_id
                continue
            if column is mapper.polymorphic_on or column.nullable:
                continue
            if column.default is not None or column.server_default is not None:
                continue
            if column.foreign_keys:
                table = next(iter(column.foreign_keys)).column.table.name
                values[key] = (await self.of(self.by_table[table])).id
            elif column.primary_key:
                continue
            else:
                values[key] = self.value(key, column)
        record = model(**values)
        self.session.add(record)
        await self.session.flush()
        self.made[model] = record
        return record

    async def view_row(self, model: type) -> Any:
        if model is abtest.ActiveAbTestRow:  # running A/B tests
            test = await self.of(experiments.AbTestExperiment)
            test.status = experiments.ExperimentStatus.RUNNING
            await self.session.flush()
            key = test.id
        elif model is abtest.ExperimentMetricRow:  # one row per metric aggregate
            key = (await self.of(abtest.MetricAggregate)).id
        else:
            raise AssertionError(f"no rows known for the view {model.__tablename__}")
        row = await self.session.get(model, key)
        assert row is not None, model
        return row

    def value(self, key: str, column: Any) -> Any:
        type_ = column.type
        if key in COLUMN_VALUES:
            return COLUMN_VALUES[key]
        if isinstance(type_, Enum):
            return next(iter(type_.enum_class)) if type_.enum_class else type_.enums[0]
        if isinstance(type_, (JSON, PydanticJSON)):
            return {}
        if isinstance(type_, Boolean):
            return True
        if isinstance(type_, Float):
            return 0.5
        if isinstance(type_, Numeric):  # exact decimals (allocations, scores)
            return Decimal("0.5")
        if isinstance(type_, Integer):
            return 1
        if isinstance(type_, String):
            return f"v{next(self.serial)}"
        if isinstance(type_, DateTime) or getattr(type_, "impl", None).__class__ is DateTime:
            return datetime.now(UTC) + timedelta(days=1)
        raise AssertionError(f"no value for {column} of type {type_!r}")


@dataclass
class World:
    ids: dict[str, str]  # node type -> global id of its record
    users: dict[str, int]
    callers: dict[str, Caller]  # each signed in with an API key of its own
    own: dict[str, list[str]]  # role -> global ids of its own API key and session


@pytest.fixture
async def world(settings: Settings, db: Database) -> AsyncIterator[World]:
    users: dict[str, int] = {}
    tokens: dict[str, str] = {}
    own: dict[str, list[str]] = {}
    async with db.transaction() as session:
        for name, role in ROLES.items():
            user = await service.create_user(
                session, username=name, email=f"{name}@example.com", role=role, password=PASSWORD
            )
            users[name] = user.id
            key, tokens[name] = await keys.create(
                session,
                user.id,
                name=f"{name}'s key",
                scopes=sorted(ROLE_PERMISSIONS[role], key=lambda p: p.value),
                expires_at=None,
                rate_limit=keys.MAX_RATE_LIMIT,
            )
            signed_in = accounts.SessionLog(
                user_id=user.id,
                session_token=f"{name}-session",
                ip_address="192.0.2.1",
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
            session.add(signed_in)
            await session.flush()
            own[name] = [encode_id("ApiKey", key.id), encode_id("Session", signed_in.id)]
    async with db.transaction() as session:
        records = Records(session, owner_id=users["member"])
        made = {spec.type_name: await records.of(spec.model) for spec in registry.specs()}
        ids = {name: encode_id(name, record.id) for name, record in made.items()}
    app = create_app(
        settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False}), db=db
    )
    callers = {role: Caller(app).bearer(tokens[role]) for role in ROLES}
    yield World(ids, users, callers, own)
    for caller in callers.values():
        await caller.aclose()


# --- the registry ----------------------------------------------------------------------


def test_every_node_type_declares_who_may_read_it() -> None:
    build_schema()  # every domain's types registered
    specs = registry.specs()
    assert len(specs) >= 30
    for spec in specs:
        assert isinstance(spec.read, ReadRule), f"{spec.type_name} declares no read rule"
        expected = RESTRICTED.get(spec.type_name)
        assert spec.read.always_visible == (expected is None), spec.type_name
        assert isinstance(spec.read, OwnerOrAdmin) == (expected == OWNER_OR_ADMIN), spec.type_name


def test_a_node_type_without_a_read_rule_cannot_be_declared() -> None:
    from expgraph.graphql.relay import node_type

    with pytest.raises(TypeError, match="read"):
        node_type(accounts.ApiKey)  # type: ignore[call-arg]


# --- node and nodes ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "member", "admin"])
async def test_node_and_nodes_show_each_type_exactly_to_whom_its_rule_allows(
    world: World, role: str
) -> None:
    caller = world.callers[role]
    assert set(world.ids) == {spec.type_name for spec in registry.specs()}
    asked: list[str] = []
    expected: list[dict[str, str] | None] = []
    for type_name, global_id in sorted(world.ids.items()):
        missing = encode_id(type_name, MISSING_PK)
        body = await caller.gql.post(NODE, {"id": global_id})
        if may_read(type_name, role):
            assert body == {"data": {"node": {"id": global_id, "__typename": type_name}}}, (
                type_name,
                body,
            )
        else:
            # Hidden: the very answer an id of nothing gets.
            assert body == {"data": {"node": None}}, (type_name, body)
        assert await caller.gql.post(NODE, {"id": missing}) == {"data": {"node": None}}
        asked += [global_id, missing]
        shown = {"id": global_id, "__typename": type_name}
        expected += [shown if may_read(type_name, role) else None, None]
    body = await caller.gql.post(NODES, {"ids": asked})
    assert body == {"data": {"nodes": expected}}


async def test_keys_and_sessions_are_their_owners(world: World) -> None:
    """Each user reads their own API keys and sessions and nobody else's
    (admins: everyone's)."""
    for role, caller in world.callers.items():
        for owner, owned in world.own.items():
            for global_id in owned:
                node = (await caller.gql.data(NODE, {"id": global_id}))["node"]
                assert (node is not None) == (role in (owner, "admin")), (role, owner, global_id)


# --- relationship fields ------------------------------------------------------------------


def _reaches(schema: GraphQLSchema) -> list[tuple[str, str, str, bool]]:
    """(parent node type, field, restricted node type, is a connection) for every
    field of a node type that leads to a restricted node type."""
    found = []
    for parent in schema.type_map.values():
        if not isinstance(parent, GraphQLObjectType):
            continue
        if "Node" not in {i.name for i in parent.interfaces}:
            continue
        for name, field in parent.fields.items():
            target = get_named_type(field.type)
            is_connection = isinstance(target, GraphQLObjectType) and "edges" in target.fields
            if is_connection:
                assert isinstance(target, GraphQLObjectType)
                edge = get_named_type(target.fields["edges"].type)
                assert isinstance(edge, GraphQLObjectType)
                target = get_named_type(edge.fields["node"].type)
            if target.name in RESTRICTED:
                found.append((parent.name, name, target.name, is_connection))
    return found


async def test_no_relationship_field_shows_a_viewer_a_restricted_node(world: World) -> None:
    viewer = world.callers["viewer"]
    reaching = _reaches(graphql_build_schema(build_schema().as_str()))
    for parent, field, target, is_connection in reaching:
        selection = "totalCount edges { node { id } }" if is_connection else "id"
        document = f"query($id: ID!) {{ node(id: $id) {{ ... on {parent} {{ {field} {{ {selection} }} }} }} }}"
        body = await viewer.gql.post(document, {"id": world.ids[parent]})
        if not may_read(parent, "viewer"):
            assert body == {"data": {"node": None}}, (parent, field, body)
            continue
        value = body["data"]["node"][field]
        if is_connection:
            assert value == {"totalCount": 0, "edges": []}, (parent, field, target)
        else:
            assert value is None or value == [], (parent, field, target)


# The kernel's relationship fields over restricted types, on a schema of their
# own (the real schema has no such field from a readable type today, see above).


@dataclass
class Holder:
    id: int  # the member's user id: keys and sessions hang off it
    log_id: int
    provider_id: int


@strawberry.type
class Probe:
    record: strawberry.Private[Holder]

    keys: Connection[account_types.ApiKey] = connection_field(
        Relation(accounts.ApiKey, "user_id"), account_types.ApiKey
    )
    key_list: list[account_types.ApiKey] = list_field(
        ChildLists(Relation(accounts.ApiKey, "user_id")), account_types.ApiKey
    )
    log: account_types.SystemLog | None = node_field(
        RowsById(accounts.SystemLog), "log_id", account_types.SystemLog
    )


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def probe(self, info: Info) -> Probe:
        return Probe(record=info.context.memo["holder"])


PROBE = "{ probe { keys { totalCount edges { node { id } } } keyList { id } log { id } } }"
PRINCIPALS: dict[str, Callable[[dict[str, int]], Principal]] = {
    "viewer": lambda u: Principal(u["viewer"], frozenset({Permission.READ})),
    "member": lambda u: Principal(u["member"], frozenset({Permission.READ, Permission.WRITE})),
    "admin": lambda u: Principal(u["admin"], frozenset(Permission)),
}


async def test_relationship_fields_leave_out_what_the_caller_may_not_read(
    world: World, settings: Settings, db: Database
) -> None:
    # the member's keys: their credential and the ApiKey record, by id
    member_keys = sorted(
        [world.own["member"][0], world.ids["ApiKey"]], key=lambda k: decode_id(k)[1]
    )
    holder = Holder(
        world.users["member"],
        decode_id(world.ids["SystemLog"])[1],
        decode_id(world.ids["CustomProvider"])[1],
    )
    schema = strawberry.Schema(
        ProbeQuery,
        config=StrawberryConfig(scalar_map=scalar_map),
        execution_context_class=Executor,
    )
    keys_ahead = getattr(
        _resolver(Probe, "keys"), PREFETCH_ATTR
    )  # the look-ahead a parent's page would use
    for role, principal_of in PRINCIPALS.items():
        context = Context(db=db, settings=settings, principal=principal_of(world.users))
        context.memo["holder"] = holder
        result = await schema.execute(PROBE, context_value=context)
        assert not result.errors, result.errors
        probe = result.data["probe"]  # type: ignore[index]
        keys = member_keys if may_read("ApiKey", role) else []
        assert probe["keys"] == {
            "totalCount": len(keys),
            "edges": [{"node": {"id": k}} for k in keys],
        }, role
        assert probe["keyList"] == [{"id": k} for k in keys], role
        log = encode_id("SystemLog", holder.log_id) if may_read("SystemLog", role) else None
        assert probe["log"] == ({"id": log} if log else None), role
        # Loaded ahead for a page: the same page and count.
        fresh = Context(db=db, settings=settings, principal=principal_of(world.users))
        bound = keys_ahead.bind(fresh, {})
        page = await bound.value(fresh, holder)
        assert [edge.node.id for edge in page.edges] == keys, role
        assert await page.total_count() == len(keys), role


def _resolver(cls: type, name: str) -> Any:
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    field = next(f for f in definition.fields if f.python_name == name)
    return field.base_resolver.wrapped_func
