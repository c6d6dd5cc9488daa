"""append-only in the database: triggers refuse UPDATE and DELETE on the ledger and audit log

Revision ID: 0003_append_only
Revises: 0002
Create Date: 2026-12-02 07:45:00

The ORM hooks in casework.models catch a session that edits a ledger or audit row, but a
bulk `update()`/`delete()` or raw SQL goes around them. These triggers make the database
itself refuse (and TRUNCATE too, on PostgreSQL). Nothing in the product updates or
deletes these rows: retention keeps both tables whole.

They hold against mistakes and injected SQL, not against the database owner, who can drop
a trigger; in production the application's role should not own the tables.

SQLite keeps triggers with their table: a later migration that rebuilds one of these
tables in batch mode drops them and must create them again (tests/unit/test_append_only.py
checks they exist at head).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_append_only"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("consent_ledger", "audit_log")
PG_FUNCTION = "privacybot_append_only"


def _sqlite_upgrade() -> None:
    for table in TABLES:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _postgres_upgrade() -> None:
    op.execute(
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME "
        "USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
        )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        _postgres_upgrade()
    else:  # a database we do not test must not silently lose the guarantee
        raise NotImplementedError(f"append-only triggers for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
