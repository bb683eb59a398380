"""The `domains` table: the declared domains as running services see them.

Written by the registry sync at prepare (before the types that refer to them); read by the
services with the stored types, so the gateway and the alert engine know a domain added by
file without reading the registry folder themselves.
"""

from __future__ import annotations

from types import MappingProxyType

import asyncpg

from schemas.domains import Domains, DomainSpec


async def sync_domains(conn: asyncpg.Connection, domains: Domains) -> None:
    """Insert or update every declared domain. None is deleted: stored types and alerts may
    still refer to a domain the file no longer declares."""
    await conn.executemany(
        "INSERT INTO domains (code, name_zh, name_en, position, colour) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET "
        "name_zh = excluded.name_zh, name_en = excluded.name_en, position = excluded.position, "
        "colour = excluded.colour, updated_at = now() "
        "WHERE (domains.name_zh, domains.name_en, domains.position, domains.colour) "
        "IS DISTINCT FROM (excluded.name_zh, excluded.name_en, excluded.position, excluded.colour)",
        [(d.code, d.zh, d.en, d.position, d.colour) for d in domains.values()],
    )


_SELECT = "SELECT code, name_zh, name_en, position, colour FROM domains d"
_ORDER = " ORDER BY position, code"  # the code breaks ties with a domain no longer declared


async def load_stored_domains(conn: asyncpg.Connection) -> Domains:
    """Every stored domain, in wall order."""
    return MappingProxyType({d.code: d for d in _specs(await conn.fetch(_SELECT + _ORDER))})


async def domains_in_use(conn: asyncpg.Connection) -> list[DomainSpec]:
    """The stored domains that have sensor types, in wall order (a domain declared before its
    types has nothing to show)."""
    used = " WHERE EXISTS (SELECT FROM sensor_types t WHERE t.domain = d.code)"
    return _specs(await conn.fetch(_SELECT + used + _ORDER))


def _specs(rows: list[asyncpg.Record]) -> list[DomainSpec]:
    return [
        DomainSpec(r["code"], r["name_zh"], r["name_en"], r["colour"], r["position"]) for r in rows
    ]
