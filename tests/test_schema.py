"""The committed SDL, permissions on every mutation, and no field for a secret."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from graphql import build_schema as graphql_build_schema
from strawberry.permission import PermissionExtension

from expgraph import compat
from expgraph.graphql.permissions import OPEN_ROOT_FIELDS, RequiresNothing, RequiresPermission
from expgraph.schema import build_schema, export_sdl

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schema.graphql"
GRAPHQL_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}  # described by the spec
SECRET = re.compile(r"password|hash|secret|credential|totp(?!Enabled)|token|key$|codes|uri", re.I)
# Names that look secret but are not: a claim's fencing token, LLM token counts, a cache key,
# an A/B test's hash seed (public by design: SDKs bucket with it offline), a NAS
# architecture's content hash (SHA-256 of the architecture every reader sees).
NOT_SECRETS = {
    "fencingToken",
    "promptTokens",
    "completionTokens",
    "cacheKey",
    "hashSeed",
    "architectureHash",
}
# The only places a secret is ever returned: once, to its owner, when it is made.
SHOWN_ONCE = {
    "LoginPayload.token",
    "CreateApiKeyPayload.key",
    "BackupCodesPayload.codes",
    "TotpEnrollmentPayload.provisioningUri",
    "CreateWebhookPayload.signingSecret",
    "RotateWebhookSecretPayload.signingSecret",
}


def test_committed_schema_matches_the_code():
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == export_sdl(build_schema()), (
        "schema.graphql is stale: run `expgraph export-schema`"
    )


def test_every_mutation_declares_a_permission():
    schema = build_schema()
    mutation = schema.get_type_by_name("Mutation")
    assert mutation is not None
    missing = []
    for field in mutation.fields:  # type: ignore[union-attr]
        declared = [
            permission
            for extension in field.extensions
            if isinstance(extension, PermissionExtension)
            for permission in extension.permissions
            if isinstance(permission, RequiresPermission | RequiresNothing)
        ]
        if not declared:
            missing.append(field.python_name)
    assert mutation.fields, "no mutations found"  # type: ignore[union-attr]
    assert missing == [], f"mutations without a declared permission: {missing}"
    # Only sign-in is open to anonymous callers.
    assert {"__typename", "login"} == OPEN_ROOT_FIELDS


def test_no_output_field_can_carry_a_secret():
    """Walks every output type and field; inputs may take a password, nothing returns one."""
    schema = compat.graphql_schema(build_schema())
    offenders = []
    for type_name, gql_type in schema.type_map.items():
        if type_name.startswith("__") or not hasattr(gql_type, "fields"):
            continue
        if type_name in ("Query", "Mutation", "Subscription"):
            continue  # operation names; what they return is walked as its own type
        if type(gql_type).__name__ == "GraphQLInputObjectType":
            continue
        for field_name, field in gql_type.fields.items():
            named = get_named_type(field.type)
            if not is_leaf_type(named) or named.name in ("Boolean", "DateTime"):
                continue  # objects are walked in turn; a flag or a time holds no secret
            if field_name in NOT_SECRETS:
                continue
            if SECRET.search(field_name) and f"{type_name}.{field_name}" not in SHOWN_ONCE:
                offenders.append(f"{type_name}.{field_name}")
    assert offenders == []
    # And the shown-once fields exist where expected (the list above is not stale).
    for qualified in SHOWN_ONCE:
        type_name, field_name = qualified.split(".")
        assert field_name in schema.type_map[type_name].fields, qualified


def _undescribed(schema: GraphQLSchema) -> list[str]:
    missing = []
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in GRAPHQL_SCALARS:
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not value.description]
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
    return missing


def test_every_public_schema_element_has_a_description() -> None:
    """Types, fields, arguments, input fields and enum values: what a client
    developer reads in GraphiQL and in a generated client."""
    schema = graphql_build_schema(SCHEMA_FILE.read_text())
    assert _undescribed(schema) == []


def test_the_description_check_reports_what_lacks_one() -> None:
    sdl = '"""Q."""\ntype Query {\n  """Has one."""\n  a(x: Int): Int\n  b: E\n}\n\nenum E {\n  ONE\n}\n'
    assert _undescribed(graphql_build_schema(sdl)) == ["Query.a(x)", "Query.b", "E", "E.ONE"]
