"""Which entities the phone keeps in sync, and who sees which of them.

Adding an entity type is one `register(...)` line in `entities.py`: the change capture, the
`/sync` reader and the scope fan-out all read this registry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema
from sqlalchemy import ColumnElement, and_, false
from sqlalchemy.orm import InstrumentedAttribute

from field_ops.users.models import Role
from field_ops.users.scope import in_scope


@dataclass(frozen=True)
class Viewer:
    """Who reads: a signed-in user, or a user as they were before a scope change."""

    id: int
    role: str
    dealership_ids: frozenset[int]

    @property
    def sees_all_dealerships(self) -> bool:
        return self.role in (Role.ADMIN, Role.SPECIALIST)


@dataclass(frozen=True)
class SyncedType:
    entity_type: str  # as in `removed` and the audit trail: "visit"
    key: str  # the response's array: "visits"
    model: type
    schema: type[Schema]
    # The rep who owns the entity (visits, routes): a rep reads only their own.
    rep_column: str | None = None
    # For a rep, when the entity has no owner column: which rows they see (accounts of their visits).
    rep_visible: Callable[[Any], ColumnElement[bool]] | None = None
    # Fields a rep never receives.
    rep_exclude: tuple[str, ...] = ()
    # Only specialists, managers and admins receive it (follow-ups).
    office_only: bool = False
    # Entities whose visibility follows this one's owner (a visit's account), as (entity_type, id).
    related: Callable[[Any], list[tuple[str, int]]] | None = None
    dealership_column: str = "dealership_id"
    # Loader options for reading a page: skip the eager loads its schema never serializes.
    load_options: Callable[[], tuple[Any, ...]] | None = None

    def column(self, name: str) -> InstrumentedAttribute:
        return getattr(self.model, name)

    def owner_of(self, obj: Any) -> tuple[int | None, int | None]:
        rep = getattr(obj, self.rep_column) if self.rep_column else None
        return getattr(obj, self.dealership_column), rep

    def receives(self, viewer: Any) -> bool:
        return not (self.office_only and viewer.role == Role.REP)

    def visible(self, viewer: Any) -> ColumnElement[bool]:
        """The rows of `model` the viewer may see now."""
        if not self.receives(viewer):
            return false()
        condition = in_scope(viewer, self.column(self.dealership_column))
        if viewer.role == Role.REP:
            if self.rep_column:
                condition = and_(condition, self.column(self.rep_column) == viewer.id)
            elif self.rep_visible is not None:
                condition = and_(condition, self.rep_visible(viewer))
        return condition

    def schema_for(self, viewer: Any) -> Schema:
        return _schema(self.schema, self.rep_exclude if viewer.role == Role.REP else ())


@functools.cache
def _schema(schema: type[Schema], exclude: tuple[str, ...]) -> Schema:
    """One dumping schema per type and exclusion (a schema is not changed by dumping)."""
    return schema(many=True, exclude=exclude)


_TYPES: dict[str, SyncedType] = {}
_BY_MODEL: dict[type, SyncedType] = {}


def register(synced: SyncedType) -> None:
    _TYPES[synced.entity_type] = synced
    _BY_MODEL[synced.model] = synced


def synced_types() -> list[SyncedType]:
    return list(_TYPES.values())


def synced_type(entity_type: str) -> SyncedType | None:
    return _TYPES.get(entity_type)


def synced_type_of(obj_or_class: Any) -> SyncedType | None:
    cls = obj_or_class if isinstance(obj_or_class, type) else type(obj_or_class)
    return _BY_MODEL.get(cls)
