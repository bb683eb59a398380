"""The database login Grafana's walls read with: SELECT on exactly what the panels read.

`WALL_READS` is the one list of it. A panel that reads another table (or another column of
dead_letters) needs a line here: `tests/grafana_dashboards/test_wall_reader.py` runs every
panel's SQL as the login, so a missing line fails there, and checks that every relation not
listed is refused.

Why a command (`cityvitals db grant-wall-reader ROLE`, run after every `db migrate`) and not a
migration granting to a NOLOGIN group role: roles belong to the server, not the database, so a
migration would create or expect a cluster-wide role behind the operator's back (and clash
between databases sharing a server); migrations are checksummed, so the list would be spread
over one migration per change instead of living here; and the grants must also take away what
an older deployment gave the login (`pg_read_all_data`), which is about the login, not the
schema. The command is idempotent: it revokes everything the login holds and grants the list
again in one transaction, so running it twice, or after a migration, leaves the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from storage.errors import StorageError

SCHEMA = "public"

# relation -> the columns the walls may read, or None for the whole relation. Whole relations
# hold what a wall shows anyway (places, types, sensors, readings, alerts). dead_letters keeps
# each refused message's raw bytes (`payload`, possibly a device's credentials or personal data)
# and `detail`, which may quote them: the walls count letters by time and reason, nothing more.
WALL_READS: Mapping[str, tuple[str, ...] | None] = {
    "subdistricts": None,
    "sensor_types": None,
    "metrics": None,
    "sensors": None,
    "sensor_status": None,
    "readings": None,
    "ingest_activity": None,  # the overview's ingest health (storage/activity.py)
    # Views over the rollups (plain PostgreSQL) or continuous aggregates (TimescaleDB): a view
    # reads its tables with its owner's rights, and TimescaleDB passes a GRANT on an aggregate to
    # the hypertable holding its materialized rows, so SELECT on the view is all the login needs.
    "readings_1m": None,
    "readings_1h": None,
    "alerts": None,
    "alert_transitions": None,
    "dead_letters": ("id", "received_at", "reason"),
}

# Set on the login itself: the walls never write (a second guard besides having only SELECT),
# and a runaway panel query stops instead of holding a connection.
ROLE_SETTINGS = {"default_transaction_read_only": "on", "statement_timeout": "30s"}


class WallReaderError(StorageError):
    """The login cannot be given the walls' grants (names the login or the relation)."""


@dataclass(frozen=True)
class GrantReport:
    role: str
    memberships_revoked: list[str]  # roles the login no longer inherits from (pg_read_all_data)
    relations_revoked: int  # relations whose privileges were taken away before granting
    relations_granted: list[str]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _check_role(conn: asyncpg.Connection, role: str) -> None:
    found = await conn.fetchrow(
        "SELECT r.rolsuper, r.rolname = current_user OR EXISTS (SELECT 1 FROM pg_class c "
        "WHERE c.relowner = r.oid AND c.relnamespace = $2::regnamespace) AS own "
        "FROM pg_roles r WHERE r.rolname = $1",
        role,
        SCHEMA,
    )
    if found is None:
        raise WallReaderError(
            f"role {role!r} does not exist: create the login first "
            "(deploy/timescaledb/initdb/10-grafana-reader.sh, or CREATE ROLE ... LOGIN)"
        )
    if found["rolsuper"] or found["own"]:
        # Revoking "everything else" from the role that owns the schema would lock it out.
        raise WallReaderError(
            f"role {role!r} is a superuser, this session's role or an owner of the schema's "
            "tables: give the walls "
            "a login of their own"
        )


async def _check_relations(conn: asyncpg.Connection) -> None:
    for relation, columns in WALL_READS.items():
        known = await conn.fetchval(
            "SELECT array_agg(attname::text) FROM pg_attribute "
            "WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
            f"{SCHEMA}.{relation}",
        )
        if known is None:
            raise WallReaderError(
                f"WALL_READS: relation {relation!r} does not exist: run `cityvitals db migrate` "
                "first"
            )
        missing = sorted(set(columns or ()) - set(known))
        if missing:
            raise WallReaderError(f"WALL_READS[{relation!r}]: no column(s) {', '.join(missing)}")


async def _revoke_memberships(conn: asyncpg.Connection, role: str) -> list[str]:
    """Every role the login is a member of (pg_read_all_data from the first deployments):
    it inherits nothing."""
    groups: list[str] = [
        r["rolname"]
        for r in await conn.fetch(
            "SELECT DISTINCT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 ORDER BY 1",
            role,
        )
    ]
    for group in groups:
        try:
            await conn.execute(f"REVOKE {quote_ident(group)} FROM {quote_ident(role)}")
        except asyncpg.InsufficientPrivilegeError as error:
            raise WallReaderError(
                f"cannot take {group!r} from {role!r} ({error}): run this command as a role "
                f"with ADMIN OPTION on {group!r} (or as a superuser) once"
            ) from error
    return groups


async def _revoke_relations(conn: asyncpg.Connection, role: str) -> int:
    """Every table, view and sequence in the schema the login holds any privilege on, table or
    column level (REVOKE ALL ON TABLE takes the columns' too). TimescaleDB's chunks and
    aggregate internals follow their hypertable or aggregate, so only the schema's own
    relations are named."""
    held = await conn.fetch(
        """
        SELECT DISTINCT c.oid::regclass::text AS name
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attacl IS NOT NULL
        WHERE n.nspname = $1
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND (EXISTS (SELECT 1 FROM aclexplode(c.relacl) x WHERE x.grantee = $2::regrole)
               OR EXISTS (SELECT 1 FROM aclexplode(a.attacl) x WHERE x.grantee = $2::regrole))
        ORDER BY 1
        """,
        SCHEMA,
        quote_ident(role),
    )
    for row in held:
        await conn.execute(f"REVOKE ALL ON TABLE {row['name']} FROM {quote_ident(role)}")
    # PostgreSQL before 15 let every role create tables in `public`; the login must not.
    await conn.execute(f"REVOKE CREATE ON SCHEMA {SCHEMA} FROM {quote_ident(role)}")
    return len(held)


async def grant_wall_reader(conn: asyncpg.Connection, role: str) -> GrantReport:
    """Leave `role` with SELECT on `WALL_READS` and nothing else, read-only, time-limited."""
    await _check_role(conn, role)
    await _check_relations(conn)
    grantee = quote_ident(role)
    async with conn.transaction():
        groups = await _revoke_memberships(conn, role)
        revoked = await _revoke_relations(conn, role)
        for relation, columns in WALL_READS.items():
            target = f"{quote_ident(SCHEMA)}.{quote_ident(relation)}"
            if columns is None:
                await conn.execute(f"GRANT SELECT ON TABLE {target} TO {grantee}")
            else:
                listed = ", ".join(quote_ident(c) for c in columns)
                await conn.execute(f"GRANT SELECT ({listed}) ON TABLE {target} TO {grantee}")
        await conn.execute(f"GRANT USAGE ON SCHEMA {quote_ident(SCHEMA)} TO {grantee}")
        for name, value in ROLE_SETTINGS.items():
            await conn.execute(f"ALTER ROLE {grantee} SET {name} = '{value}'")
    return GrantReport(role, groups, revoked, list(WALL_READS))
