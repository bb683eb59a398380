"""Which sensors an ingest key may post for: its scope, built from a request or the CLI, described
for listings, and checked by the HTTP ingest before anything is stored.

A scope is explicit sensor ids or an id prefix, narrowed by a domain and a subdistrict; every
part given must hold. Ids and the prefix are checked against the sensor id in the URL (the id the
readings are stored under). A domain or a subdistrict is checked against the URL *and* against
the sensor's registration in the catalog: the ingest stores a reading under the sensor's
registered subdistrict whatever subdistrict the topic names, so the URL alone would let a key
scoped to one subdistrict post for any sensor of the district by naming its own subdistrict in
the URL. A sensor the catalog does not know yet is checked against the URL, and again after the
ingest's resolve, which reloads the catalog when a sensor is unknown (one registered since, in
another subdistrict, would otherwise slip through).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from gateway.errors import Forbidden
from ingest.resolve import Resolver
from schemas.domains import shipped_domains
from schemas.geography import Geography
from schemas.inventory import SENSOR_ID_PATTERN
from storage.api_keys import ApiKey, KeyScope

MAX_SENSORS = 10_000  # a bound on what one key lists; a fleet that large is better a prefix
_SENSOR_ID = re.compile(SENSOR_ID_PATTERN)
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")  # the start of a sensor id
_SHOWN = 5  # sensor ids named in a description before "and N more"


class ScopeProblem(ValueError):
    """`part` (sensors, prefix, domain, subdistrict, unbound or scope) is wrong: `what`."""

    def __init__(self, part: str, what: str) -> None:
        super().__init__(f"{part}: {what}")
        self.part = part
        self.what = what


def key_scope(
    role: str,
    *,
    sensors: list[str] | None = None,
    prefix: str | None = None,
    domain: str | None = None,
    subdistrict: str | None = None,
    unbound: bool = False,
    domains: Collection[str] | None = None,
    geography: Geography,
) -> KeyScope | None:
    """The scope of a new key of `role` (None: none); raises ScopeProblem naming the part.
    `domains`: the declared domain codes (default: the shipped domains.yaml's).

    An ingest key needs a scope, or `unbound` said aloud: a key for any sensor is an IoT
    platform's, and nobody should get one by leaving a field out."""
    given = [
        part
        for part, value in (
            ("sensors", sensors),
            ("prefix", prefix),
            ("domain", domain),
            ("subdistrict", subdistrict),
        )
        if value is not None
    ]
    if role != "ingest":
        if given or unbound:
            part = given[0] if given else "unbound"
            raise ScopeProblem(part, f"only ingest keys are bound to sensors, not {role} keys")
        return None
    if unbound:
        if given:
            raise ScopeProblem("unbound", f"an unbound key has no {given[0]} (give one or other)")
        return None
    if not given:
        raise ScopeProblem(
            "scope",
            "an ingest key is bound to sensors (ids, an id prefix, a domain or a subdistrict); "
            "an IoT platform that posts for any sensor gets an unbound key, said explicitly",
        )
    if sensors is not None and prefix is not None:
        raise ScopeProblem("prefix", "give sensor ids or an id prefix, not both")
    return KeyScope(
        None if sensors is None else _sensor_ids(sensors),
        None if prefix is None else _prefix(prefix),
        None
        if domain is None
        else _domain(domain, shipped_domains() if domains is None else domains),
        None if subdistrict is None else _subdistrict(subdistrict, geography),
    )


def _sensor_ids(sensors: list[str]) -> frozenset[str]:
    if not sensors:
        raise ScopeProblem("sensors", "name at least one sensor id")
    if len(sensors) > MAX_SENSORS:
        raise ScopeProblem("sensors", f"{len(sensors):,} ids; at most {MAX_SENSORS:,}")
    for sensor in sensors:
        if _SENSOR_ID.fullmatch(sensor) is None:
            what = f"{sensor[:80]!r} is not a sensor id ({SENSOR_ID_PATTERN})"
            raise ScopeProblem("sensors", what)
    return frozenset(sensors)


def _prefix(prefix: str) -> str:
    if _PREFIX.fullmatch(prefix) is None:
        what = "must be the start of a sensor id (letters, digits, '_', '.', '-')"
        raise ScopeProblem("prefix", f"{prefix[:80]!r}: {what}")
    return prefix


def _domain(domain: str, declared: Collection[str]) -> str:
    if domain not in declared:
        raise ScopeProblem("domain", f"{domain[:80]!r} is not one of {', '.join(declared)}")
    return domain


def _subdistrict(code: str, geography: Geography) -> str:
    if code not in geography:
        codes = geography.known_codes()
        raise ScopeProblem("subdistrict", f"{code[:80]!r} is not a subdistrict code: {codes}")
    return code


def describe(key: ApiKey) -> str | None:
    """Which sensors `key` may post for, in words; None for roles that post nothing."""
    if key.role not in ("ingest", "admin"):
        return None
    scope = key.scope
    if scope is None:
        return "any sensor (unbound)" if key.role == "ingest" else "any sensor"
    if scope.sensors is not None:
        ids = sorted(scope.sensors)
        more = f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
        what = f"sensors {', '.join(ids[:_SHOWN])}{more}"
    elif scope.prefix is not None:
        what = f"sensors {scope.prefix}*"
    else:
        what = "sensors"
    if scope.domain is not None:
        what += f" of domain {scope.domain}"
    if scope.subdistrict is not None:
        what += f" in subdistrict {scope.subdistrict}"
    return what


def ensure_in_scope(
    key: ApiKey, domain: str, subdistrict: str, sensor_id: str, resolver: Resolver
) -> bool:
    """Raise Forbidden, naming the sensor and the key's scope, when `key` may not post for the
    sensor at `domain/subdistrict/sensor_id`. True when the answer is final; False when the
    catalog does not know the sensor (check again after the resolve: see the module's doc)."""
    scope = key.scope
    if scope is None:
        return True
    if scope.sensors is not None and sensor_id not in scope.sensors:
        raise _outside(key, "sensor_id", f"sensor {sensor_id!r}")
    if scope.prefix is not None and not sensor_id.startswith(scope.prefix):
        raise _outside(key, "sensor_id", f"sensor {sensor_id!r}")
    if scope.domain is not None and domain != scope.domain:
        raise _outside(key, "domain", f"sensor {sensor_id!r} of domain {domain!r}")
    if scope.subdistrict is not None and subdistrict != scope.subdistrict:
        raise _outside(key, "subdistrict", f"sensor {sensor_id!r} in subdistrict {subdistrict!r}")
    if scope.domain is None and scope.subdistrict is None:
        return True  # the id is all there is to check
    registered = resolver.catalog.sensor(sensor_id)
    if registered is None:
        return False
    if scope.subdistrict is not None and registered.subdistrict != scope.subdistrict:
        where = f"registered in subdistrict {registered.subdistrict!r}"
        raise _outside(key, "sensor_id", f"sensor {sensor_id!r}, {where},")
    validator = resolver.validators.get(registered.type_name)
    registered_domain = None if validator is None else validator.domain
    if scope.domain is not None and registered_domain != scope.domain:
        where = f"registered as {registered.type_name!r} of domain {registered_domain!r}"
        raise _outside(key, "sensor_id", f"sensor {sensor_id!r}, {where},")
    return True


def _outside(key: ApiKey, field: str, what: str) -> Forbidden:
    return Forbidden(
        f"{field}: {what} is outside the scope of API key {key.id} ({key.name}), "
        f"which may post for {describe(key)} only",
        field=field,
    )
