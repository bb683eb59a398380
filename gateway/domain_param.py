"""The `domain` query parameter: a domain declared in domains.yaml, checked against the registry.

Domains are configuration, so the parameter is a string checked against the domains stored at
prepare (re-read with the sensor types, `Resolver.domains`) rather than an enum fixed in the
OpenAPI document: a domain added by file is accepted without a code change, and an unknown one is
a 422 naming the declared ones. (Not in gateway.params: that module is imported by the models the
gateway state imports, and this check needs the state.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from gateway.errors import Invalid
from gateway.state import get_state


async def _declared_domain(
    request: Request,
    domain: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only this domain: the code of a domain declared in domains.yaml "
            "(an unknown one is a 422 naming the declared ones)",
        ),
    ] = None,
) -> str | None:
    if domain is None:
        return None
    state = get_state(request)
    await state.resolver.check_types_when_due(state.now())
    declared = state.resolver.domains
    if domain not in declared:
        known = ", ".join(declared)
        raise Invalid(f"domain: unknown domain {domain[:80]!r}; declared: {known}", field="domain")
    return domain


DomainCode = Annotated[str | None, Depends(_declared_domain)]
