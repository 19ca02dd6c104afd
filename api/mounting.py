"""One router, two eBox types: mounting a router under `/ebox/citizen` and `/ebox/enterprise`.

The consultation, reference-data and event routers (ebox.api.ebox_routes,
.reference, .feed) are each one `APIRouter` whose routes serve both types of
eBox. `mount_per_domain` includes it once per type with `include_router`:
under that type's base path, with a dependency naming the type for the routes
(ebox.api.deps.EboxDomain), that type's tags, and that type's operation ids.

Operation ids are what tests/contract.py and schemathesis match the contract
on, so they stay exactly what they were: a route is named by a template
(``getEBoxById_{domain}``, ``getEbox{Domain}DocumentEvents``) and each mount
fills it in.
"""

from collections.abc import Callable
from enum import Enum

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from ebox.api.contract import EBOX_DOMAINS
from ebox.api.deps import mounted_for


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
