"""One router, two eBox types: mounting a router under `/ebox/citizen` and `/ebox/enterprise`.

The consultation, publication, reference-data and event routers
(ebox.api.ebox_routes, .publication, .reference, .feed) are each one
`APIRouter` whose routes serve both types of eBox. `mount_per_domain`
includes it once per type with `include_router`: under that type's base path,
with a dependency naming the type for the routes (`EboxDomain`), that type's
tags, and that type's operation ids.

Operation ids are what tests/contract.py and schemathesis match the contract
on, so they stay exactly what they were: a route is named by a template
(``getEBoxById_{domain}``, ``getEbox{Domain}DocumentEvents``) and each mount
fills it in.
"""

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute

from ebox.api.contract import EBOX_DOMAINS
from ebox.domain.mailbox import EBOX_TYPES

EBOX_DOMAIN_STATE = "ebox_domain"


def mounted_for(domain: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency of one mount of a router (`include_router(dependencies=...)`): the eBox
    type its base path names, `/ebox/citizen/v2` or `/ebox/enterprise/v2`.

    One router serves both base paths; its routes learn which one they were
    called under from `EboxDomain`, not from parsing the URL.
    """
    if domain not in EBOX_TYPES:
        raise ValueError(f"eBox type must be one of {EBOX_TYPES}, not {domain!r}")

    async def mounted(request: Request) -> None:
        setattr(request.state, EBOX_DOMAIN_STATE, domain)

    return mounted


async def get_ebox_domain(request: Request) -> str:
    domain = getattr(request.state, EBOX_DOMAIN_STATE, None)
    if domain is None:
        raise RuntimeError("this route is mounted without mounted_for(domain)")
    return str(domain)


EboxDomain = Annotated[str, Depends(get_ebox_domain)]


def operation_ids(domain: str) -> Callable[[APIRoute], str]:
    """The operation id of each route of one mount: its name's template, filled in.

    ``getEBoxById_{domain}`` is ``getEBoxById_citizen`` under /ebox/citizen/v2;
    ``{Domain}`` is the capitalised type (``getEboxCitizenDocumentEvents``).
    """

    def operation_id(route: APIRoute) -> str:
        return route.name.format(domain=domain, Domain=domain.capitalize())

    return operation_id


def mount_per_domain(app: FastAPI, router: APIRouter, prefix: str, tags: str | None = None) -> None:
    """Include `router` once per eBox type; `prefix` and `tags` are templates of `{domain}`."""
    for domain in EBOX_DOMAINS:
        mount_tags: list[str | Enum] | None = [tags.format(domain=domain)] if tags else None
        app.include_router(
            router,
            prefix=prefix.format(domain=domain),
            tags=mount_tags,
            dependencies=[Depends(mounted_for(domain))],
            generate_unique_id_function=operation_ids(domain),
        )
