"""Who may read which node: every node type's read rule, applied wherever a
record becomes a node on a read path.

Every ``@node_type(Model, read=...)`` declares one rule (there is no default):

- ``Public``: whoever may ask for it (the root field already demands READ);
- ``OwnerOrAdmin("user_id")``: the user the record's ``user_id`` names, or an admin;
- ``AdminOnly``: callers with the ADMIN permission.

A rule answers for one record (``visible``) and, for a caller who may not see
every row, as a SQL condition on the model (``where``), so lists are narrowed
in SQL and their ``totalCount`` agrees with their pages.

It is applied by the kernel, not by fields: ``node``/``nodes`` (``node.py``),
relationship fields loaded by ``node_field``/``list_field`` (``prefetch.py``),
``load_node``/``load_nodes``, and connections (``connections.py``: top-level
ones narrow their statement, relationship ones their ``Relation``, and every
page drops what its caller may not see). A record the caller may not see is
null, exactly like a missing one (no error tells them apart); in a list or a
page it is left out, and a connection's ``totalCount`` counts only what the
caller may see.

Mutation payloads make their nodes with ``relay.to_node``: what a mutation
answers is decided by the mutation (its permission and its service's checks,
e.g. revoking a key needs to own it or be an admin; ``login`` answers the new
session to a caller who is anonymous until then).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false
from sqlalchemy.sql.elements import ColumnElement

from expgraph.graphql.auth import Permission, Principal
from expgraph.graphql.loaders import Narrowing, Relation
from expgraph.graphql.relay import make_view, registry


class ReadRule:
    """Who may read the records of one node type."""

    # True only for rules that show every record to every caller: the kernel
    # then skips the check (the fast path of public types).
    always_visible: bool = False

    def sees_all(self, principal: Principal) -> bool:
        """Whether ``principal`` may read every record of the type."""
        raise NotImplementedError

    def visible(self, principal: Principal, record: Any) -> bool:
        """Whether ``principal`` may read ``record``."""
        raise NotImplementedError

    def where(self, principal: Principal, model: type) -> ColumnElement[bool]:
        """The records of ``model`` ``principal`` may read, as a SQL condition
        (asked only when ``sees_all`` is false)."""
        raise NotImplementedError

    def scope(self, principal: Principal) -> Hashable:
        """What ``where`` depends on for ``principal`` (names it in loader and
        statement caches)."""
        raise NotImplementedError


@dataclass(frozen=True)
class _Public(ReadRule):
    always_visible = True

    def sees_all(self, principal: Principal) -> bool:
        return True

    def visible(self, principal: Principal, record: Any) -> bool:
        return True

    def where(self, principal: Principal, model: type) -> ColumnElement[bool]:
        raise AssertionError("a public type has no condition")

    def scope(self, principal: Principal) -> Hashable:
        return None

    def __repr__(self) -> str:
        return "Public"


@dataclass(frozen=True)
class _AdminOnly(ReadRule):
    def sees_all(self, principal: Principal) -> bool:
        return principal.has(Permission.ADMIN)

    def visible(self, principal: Principal, record: Any) -> bool:
        return principal.has(Permission.ADMIN)

    def where(self, principal: Principal, model: type) -> ColumnElement[bool]:
        return false()

    def scope(self, principal: Principal) -> Hashable:
        return "none"

    def __repr__(self) -> str:
        return "AdminOnly"


@dataclass(frozen=True)
class OwnerOrAdmin(ReadRule):
    """Readable by the user ``record.<owner_attr>`` names, and by admins."""

    owner_attr: str

    def sees_all(self, principal: Principal) -> bool:
        return principal.has(Permission.ADMIN)

    def visible(self, principal: Principal, record: Any) -> bool:
        if principal.has(Permission.ADMIN):
            return True
        owner = getattr(record, self.owner_attr)
        return principal.user_id is not None and owner == principal.user_id

    def where(self, principal: Principal, model: type) -> ColumnElement[bool]:
        if principal.user_id is None:
            return false()
        column: Any = getattr(model, self.owner_attr)
        condition: ColumnElement[bool] = column == principal.user_id
        return condition

    def scope(self, principal: Principal) -> Hashable:
        return ("owner", self.owner_attr, principal.user_id)


Public: ReadRule = _Public()
AdminOnly: ReadRule = _AdminOnly()


# --- applying the rules -----------------------------------------------------------


def node_for(principal: Principal, record: Any) -> Any:
    """The node of ``record`` as ``principal`` may see it: None when the record
    is None or hidden from them (the two are indistinguishable)."""
    if record is None:
        return None
    spec = registry.for_record(record)
    read = spec.read
    if not read.always_visible and not read.visible(principal, record):
        return None
    return make_view(spec, record)


def nodes_for(principal: Principal, records: list[Any]) -> list[Any]:
    """The nodes of ``records`` ``principal`` may see, in order (hidden ones left out)."""
    shown = []
    for record in records:
        node = node_for(principal, record)
        if node is not None:
            shown.append(node)
    return shown


def rule_for(model: type) -> ReadRule | None:
    """The read rule of ``model``'s rows: its node type's, or, for a base model
    (a polymorphic table), ``Public`` when every node type under it is public;
    None when they differ or none is registered (then records are checked one
    by one, as nodes are made)."""
    spec = registry.for_model(model)
    if spec is not None:
        return spec.read
    under = [s for s in registry.specs() if issubclass(s.model, model)]
    if under and all(s.read.always_visible for s in under):
        return Public
    return None


def visible_statement(stmt: Select[Any], model: type, principal: Principal) -> Select[Any]:
    """``stmt`` (a ``select(model)``) narrowed to the rows ``principal`` may read."""
    rule = rule_for(model)
    if rule is None or rule.sees_all(principal):
        return stmt
    return stmt.where(rule.where(principal, model))


def visible_relation(relation: Relation, principal: Principal) -> Relation:
    """``relation`` narrowed to the children ``principal`` may read: the same
    relation when they may read them all (so its loaders are shared), else one
    whose filter adds the rule's condition (a loader per rule scope)."""
    rule = rule_for(relation.model)
    if rule is None or rule.sees_all(principal):
        return relation
    condition = rule.where(principal, relation.model)
    # The relation's model fixes the rule; its scope for ``principal`` fixes
    # the condition.
    return relation.narrowed(Narrowing(("visible", rule.scope(principal)), lambda: condition))


def owned_by(owner: Any, user_id: int | None) -> ColumnElement[bool]:
    """The rows of one user (``owner``: the model's owner column), for "my ..."
    lists: none for a caller without a user (authentication off, the local admin),
    and only the caller's own rows even for an admin."""
    return false() if user_id is None else owner == user_id
