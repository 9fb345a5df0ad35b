"""Account mutations: users, sign-in and sessions, two-factor, API keys."""

from __future__ import annotations

from datetime import UTC

import strawberry

from expgraph.domains.accounts import keys, models, second_factor, service, sessions
from expgraph.domains.accounts.inputs import (
    CreateApiKeyInput,
    CreateUserInput,
    IdInput,
    LoginInput,
    TotpCodeInput,
    UpdateUserInput,
)
from expgraph.domains.accounts.types import ApiKey, Session, User
from expgraph.errors import BadRequest, Forbidden, NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Context, Info
from expgraph.graphql.inputs import values_given
from expgraph.graphql.permissions import mutation, public_mutation
from expgraph.graphql.relay import model_pk, to_node


@strawberry.type(description="Result of a change to a user.")
class UserPayload:
    user: User = strawberry.field(description="The user as it now is.")


@strawberry.type(description="Result of signing in.")
class LoginPayload:
    token: str = strawberry.field(
        description="The session token, shown this once (also set as an HttpOnly cookie). "
        "Send it as `Authorization: Bearer <token>` or let the cookie travel."
    )
    session: Session = strawberry.field(description="The new session.")
    user: User = strawberry.field(description="The signed-in user.")


@strawberry.type(description="Result of ending a session.")
class SessionPayload:
    session: Session = strawberry.field(description="The ended session.")


@strawberry.type(description="Result of starting two-factor enrollment; confirm it with a code.")
class TotpEnrollmentPayload:
    provisioning_uri: str = strawberry.field(
        description="otpauth:// URI for an authenticator app, shown this once."
    )


@strawberry.type(description="New backup codes; the old ones stop working.")
class BackupCodesPayload:
    codes: list[str] = strawberry.field(description="Ten single-use codes, shown this once.")


@strawberry.type(description="Result of revoking an API key.")
class ApiKeyPayload:
    api_key: ApiKey = strawberry.field(description="The revoked key.")


@strawberry.type(description="A new API key and its secret.")
class CreateApiKeyPayload:
    api_key: ApiKey = strawberry.field(description="The new key, without its secret.")
    key: str = strawberry.field(description="The full key, shown this once.")


def _client(ctx: Context) -> sessions.Client:
    request = ctx.request
    host = request.client.host if request is not None and request.client else None
    agent = request.headers.get("user-agent") if request is not None else None
    return sessions.Client(ip_address=host, user_agent=agent)


def _own_or_any(ctx: Context) -> int | None:
    """Whose records a caller may act on: admins anyone's (None), others their own."""
    if ctx.principal.has(Permission.ADMIN):
        return None
    if ctx.principal.user_id is None:
        raise Forbidden("this needs a signed-in user")
    return ctx.principal.user_id


def _signed_in_user(ctx: Context) -> int:
    """Account-security changes need a person in a session, not an API key."""
    if ctx.principal.api_key_id is not None:
        raise Forbidden("sign in with a session to change account security")
    if ctx.principal.user_id is None:
        raise Forbidden("this needs a signed-in user (authentication is off)")
    return ctx.principal.user_id


@strawberry.type
class Mutation:
    @mutation(permission=Permission.ADMIN, description="Create a user (admins only).")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        async with info.context.db.transaction() as session:
            user = await service.create_user(
                session,
                username=input.username,
                email=input.email,
                role=input.role,
                password=input.password,
            )
        return UserPayload(user=to_node(user))

    @mutation(permission=Permission.ADMIN, description="Change a user's role or deactivate them.")
    async def update_user(self, info: Info, input: UpdateUserInput) -> UserPayload:
        pk = model_pk(input.id, models.User)
        async with info.context.db.transaction() as session:
            user = await service.update_user(session, pk, values_given(input))
        return UserPayload(user=to_node(user))

    @public_mutation(description="Sign in; returns a session token once.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        ctx = info.context
        if (input.username is None) == (input.email is None):
            raise BadRequest("give either username or email")
        signed_in = await sessions.login(
            ctx.db,
            ctx.settings,
            _client(ctx),
            identifier=input.username or input.email or "",
            password=input.password,
            totp_code=input.totp_code,
            backup_code=input.backup_code,
        )
        if ctx.response is not None:
            ctx.response.set_cookie(
                ctx.settings.session_cookie_name,
                signed_in.token,
                max_age=ctx.settings.session_ttl_hours * 3600,
                httponly=True,
                samesite="lax",
                secure=ctx.settings.cookie_secure,
            )
        return LoginPayload(
            token=signed_in.token,
            session=to_node(signed_in.session),
            user=to_node(signed_in.user),
        )

    @mutation(permission=Permission.READ, description="End the current session.")
    async def logout(self, info: Info) -> SessionPayload:
        ctx = info.context
        if ctx.principal.session_id is None:
            raise BadRequest("this request is not made with a session")
        ended = await sessions.end_session(
            ctx.db, ctx.principal.session_id, owner_id=ctx.principal.user_id
        )
        if ctx.response is not None:
            ctx.response.delete_cookie(ctx.settings.session_cookie_name)
        if ended is None:
            raise BadRequest("the session already ended")
        return SessionPayload(session=to_node(ended))

    @mutation(permission=Permission.READ, description="End one of your sessions (admins: any).")
    async def revoke_session(self, info: Info, input: IdInput) -> SessionPayload:
        ctx = info.context
        pk = model_pk(input.id, models.SessionLog)
        ended = await sessions.end_session(ctx.db, pk, owner_id=_own_or_any(ctx))
        if ended is None:
            raise NotFound("no active session of yours with that id")
        return SessionPayload(session=to_node(ended))

    @mutation(permission=Permission.READ, description="Start two-factor sign-in (TOTP).")
    async def begin_totp_enrollment(self, info: Info) -> TotpEnrollmentPayload:
        ctx = info.context
        user_id = _signed_in_user(ctx)
        async with ctx.db.transaction() as session:
            uri = await second_factor.begin_enrollment(session, user_id, ctx.settings.totp_issuer)
        return TotpEnrollmentPayload(provisioning_uri=uri)

    @mutation(permission=Permission.READ, description="Turn two-factor sign-in on with a code.")
    async def confirm_totp_enrollment(self, info: Info, input: TotpCodeInput) -> UserPayload:
        ctx = info.context
        user_id = _signed_in_user(ctx)
        async with ctx.db.transaction() as session:
            user = await second_factor.confirm_enrollment(session, user_id, input.code)
        return UserPayload(user=to_node(user))

    @mutation(permission=Permission.READ, description="Turn two-factor sign-in off (needs a code).")
    async def disable_totp(self, info: Info, input: TotpCodeInput) -> UserPayload:
        ctx = info.context
        user_id = _signed_in_user(ctx)
        async with ctx.db.transaction() as session:
            user = await second_factor.disable(session, user_id, input.code)
        return UserPayload(user=to_node(user))

    @mutation(
        permission=Permission.READ, description="Replace your backup codes with ten new ones."
    )
    async def generate_backup_codes(self, info: Info) -> BackupCodesPayload:
        ctx = info.context
        user_id = _signed_in_user(ctx)
        async with ctx.db.transaction() as session:
            codes = await second_factor.new_backup_codes(session, user_id)
        return BackupCodesPayload(codes=codes)

    @mutation(permission=Permission.READ, description="Create an API key; shown once.")
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        ctx = info.context
        user_id = _signed_in_user(ctx)
        expires = input.expires_at.astimezone(UTC) if input.expires_at else None
        async with ctx.db.transaction() as session:
            record, key = await keys.create(
                session,
                user_id,
                name=input.name,
                scopes=list(input.scopes),
                preset=input.preset,
                expires_at=expires,
                rate_limit=input.rate_limit,
            )
        return CreateApiKeyPayload(api_key=to_node(record), key=key)

    @mutation(permission=Permission.READ, description="Revoke one of your keys (admins: any).")
    async def revoke_api_key(self, info: Info, input: IdInput) -> ApiKeyPayload:
        ctx = info.context
        pk = model_pk(input.id, models.ApiKey)
        async with ctx.db.transaction() as session:
            record = await keys.revoke(session, pk, owner_id=_own_or_any(ctx))
        return ApiKeyPayload(api_key=to_node(record))
