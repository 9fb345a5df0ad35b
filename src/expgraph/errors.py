"""expgraph's own errors: what a caller did wrong or must know about.

Every layer below the GraphQL kernel (domain services, the CLI) raises these;
the kernel (``graphql.errors``) turns each into a GraphQL error whose
``extensions.code`` is the class's ``code``. Nothing here knows about GraphQL.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ExpgraphError(Exception):
    """A failure the client caused or must know about."""

    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {"code": self.code, **extensions}


class BadRequest(ExpgraphError):
    code = "BAD_REQUEST"


class NotFound(ExpgraphError):
    code = "NOT_FOUND"


class Conflict(ExpgraphError):
    code = "CONFLICT"


class Cooldown(ExpgraphError):
    code = "COOLDOWN"


class Unauthenticated(ExpgraphError):
    code = "UNAUTHENTICATED"


class Forbidden(ExpgraphError):
    code = "FORBIDDEN"


class RateLimited(ExpgraphError):
    code = "RATE_LIMITED"


class Timeout(ExpgraphError):
    """The request's work ran past a server time limit (the statement timeout)."""

    code = "TIMEOUT"


class Unavailable(ExpgraphError):
    """The database cannot be reached right now; the same request may succeed later."""

    code = "UNAVAILABLE"
