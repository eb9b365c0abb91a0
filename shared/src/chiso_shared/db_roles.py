"""A migration role and a runtime role on PostgreSQL: the runtime one cannot change the schema.

The role that runs the migrations owns the tables. After each migration it grants the
service's runtime role (`DATABASE_RUNTIME_ROLE`) exactly what the service does with its
database: read and write rows, and draw from sequences. Nothing else: no CREATE on the schema,
no TRUNCATE, REFERENCES or TRIGGER, and never ownership, so a compromised or buggy service
cannot alter, drop or empty a table. Default privileges give tables that later migrations
create the same rights, so a release that adds a table works before the grants run again.

The grants run inside the migration's transaction (`chiso_shared.migrations_env`), under its
advisory lock: a migration and its grants are applied together or not at all, whichever way
Alembic was started (`chiso migrate`, migration at start-up, the `alembic` command).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("chiso.db")

# PostgreSQL truncates longer identifiers (NAMEDATALEN - 1 bytes); a truncated name would
# silently name another role.
MAX_ROLE_BYTES = 63

# What the services do with rows. Sequences: UPDATE too, as the indicators importer reserves
# a block of ids with setval(), which needs it (nextval alone needs USAGE).
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"


class RuntimeRoleError(RuntimeError):
    """DATABASE_RUNTIME_ROLE names no role that may be given the runtime grants."""


def check_role_name(role: str) -> None:
    """Refuse a role name PostgreSQL would change or could not hold."""
    if not role or role != role.strip():
        raise RuntimeRoleError(
            f"DATABASE_RUNTIME_ROLE {role!r}: tên vai trò trống hoặc có khoảng trắng ở đầu/cuối. "
            f"/ DATABASE_RUNTIME_ROLE {role!r}: the role name is empty or has leading or "
            "trailing spaces."
        )
    if any(ord(char) < 32 or char == "\x7f" for char in role):
        raise RuntimeRoleError(
            f"DATABASE_RUNTIME_ROLE {role!r} có ký tự điều khiển. / DATABASE_RUNTIME_ROLE "
            f"{role!r} holds a control character."
        )
    if len(role.encode()) > MAX_ROLE_BYTES:
        raise RuntimeRoleError(
            f"DATABASE_RUNTIME_ROLE dài quá {MAX_ROLE_BYTES} byte. / DATABASE_RUNTIME_ROLE is "
            f"longer than {MAX_ROLE_BYTES} bytes."
        )


def grant_runtime_role(
    connection: Connection, role: str, version_table: str, *, migrated: bool = True
) -> None:
    """Give `role` the runtime privileges on the current schema, as the migrating role.

    `role` may read the Alembic version table (so a runtime-only tool can tell the schema is
    current) but not change it. `migrated`: whether this run changed the schema; when it did
    not and the connection is the runtime role itself (a tool in a service's pod with only
    its runtime URL, `chiso clients create`), there is nothing to grant. Runs in the caller's
    transaction."""
    check_role_name(role)
    if connection.dialect.name != "postgresql":
        logger.info(
            "DATABASE_RUNTIME_ROLE is ignored on %s: it has no roles",
            connection.dialect.name,
            extra={"runtime_role": role},
        )
        return
    if not migrated and connection.scalar(text("SELECT current_user = :role"), {"role": role}):
        logger.info(
            "schema already current; connected as the runtime role, nothing to grant",
            extra={"runtime_role": role},
        )
        return
    _check_role(connection, role)
    quote = connection.dialect.identifier_preparer.quote_identifier
    schema = str(connection.scalar(text("SELECT current_schema()")))
    grantee, where = quote(role), quote(schema)
    statements = (
        # Exactly these: whatever this role granted before on the schema's objects goes first.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {grantee}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {grantee}",
        f"REVOKE CREATE ON SCHEMA {where} FROM {grantee}",
        f"GRANT USAGE ON SCHEMA {where} TO {grantee}",
        f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {where} TO {grantee}",
        f"REVOKE INSERT, UPDATE, DELETE ON {where}.{quote(version_table)} FROM {grantee}",
        f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {where} TO {grantee}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA {where} "
        f"GRANT {TABLE_PRIVILEGES} ON TABLES TO {grantee}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA {where} "
        f"GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {grantee}",
    )
    for statement in statements:
        connection.execute(text(statement))
    logger.info(
        "runtime role granted row access on schema %s",
        schema,
        extra={"runtime_role": role, "schema": schema},
    )


def _check_role(connection: Connection, role: str) -> None:
    """The role exists, is not the migrating role and does not inherit its rights (a
    superuser counts as a member of every role)."""
    row = connection.execute(
        text(
            "SELECT r.rolname = current_user, pg_has_role(r.oid, current_user, 'USAGE') "
            "FROM pg_roles r WHERE r.rolname = :role"
        ),
        {"role": role},
    ).one_or_none()
    if row is None:
        raise RuntimeRoleError(
            f"không có vai trò PostgreSQL {role!r} (DATABASE_RUNTIME_ROLE); người quản trị "
            f"cơ sở dữ liệu cần tạo nó trước. / there is no PostgreSQL role {role!r} "
            "(DATABASE_RUNTIME_ROLE); the database administrator creates it first."
        )
    is_self, inherits = row
    if is_self or inherits:
        raise RuntimeRoleError(
            f"vai trò {role!r} (DATABASE_RUNTIME_ROLE) là vai trò chạy migration, thừa hưởng "
            "quyền của nó, hoặc là superuser: nó sẽ sửa được cấu trúc. Hãy dùng một vai trò "
            f"riêng. / the role {role!r} (DATABASE_RUNTIME_ROLE) is the role that migrates, "
            "inherits its rights, or is a superuser: it could change the schema. Use a role of "
            "its own."
        )


def runtime_can_change_schema(connection: Connection) -> str | None:
    """Why the connected role could change the schema (a sentence), or None when it cannot.

    PostgreSQL only: CREATE on the current schema (granted to PUBLIC on `public` before
    PostgreSQL 15), or owning one of the schema's tables."""
    if connection.dialect.name != "postgresql":
        return None
    can_create, owns = connection.execute(
        text(
            "SELECT has_schema_privilege(current_schema(), 'CREATE'), "
            "EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
            "AND pg_has_role(tableowner, 'USAGE'))"
        )
    ).one()
    if owns:
        return "it owns tables of the schema"
    if can_create:
        return "it may CREATE in the schema"
    return None


# The start-up check waits no longer than this for a database that does not answer.
CHECK_TIMEOUT_SECONDS = 5.0


async def _changeable(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(runtime_can_change_schema)


async def warn_if_runtime_can_change_schema(engine: AsyncEngine, env: str) -> None:
    """In prod on PostgreSQL, log a warning when the role the service runs as could change
    its schema: it should be a runtime role (README, "Running on PostgreSQL"). Start-up goes
    on either way, and a database that does not answer yet is left to /readyz."""
    if env != "prod" or engine.dialect.name != "postgresql":
        return
    try:
        reason = await asyncio.wait_for(_changeable(engine), CHECK_TIMEOUT_SECONDS)
    except (SQLAlchemyError, OSError):  # TimeoutError included
        return
    if reason:
        logger.warning(
            "the database role this service runs as could change the schema (%s): run it as "
            "a runtime role without DDL and migrate with MIGRATION_DATABASE_URL",
            reason,
            extra={"reason": reason},
        )
