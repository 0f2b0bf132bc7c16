"""The database itself refuses to change or remove an audit entry (migration 0006).

PostgreSQL: a row trigger raising an exception on UPDATE and DELETE. SQLite: two triggers
with `RAISE(ABORT)`. Only inserts remain possible through SQL.
"""

from __future__ import annotations

MESSAGE = "audit_entries is append-only"

POSTGRESQL_CREATE = [
    f"""
    CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries",
    "DROP FUNCTION IF EXISTS audit_entries_append_only()",
]

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_entries_no_update",
    "DROP TRIGGER IF EXISTS audit_entries_no_delete",
]


def create_statements(dialect: str) -> list[str]:
    return POSTGRESQL_CREATE if dialect == "postgresql" else SQLITE_CREATE


def drop_statements(dialect: str) -> list[str]:
    return POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP
