"""The read models by name: what `ebox projections rebuild NAME` and the workers know.

It imports the views, which import only their base (`ebox.projections.views`):
the runner asks here for a view by name, and no view imports the runner.
"""

from __future__ import annotations

from typing import Any

from ebox.adapters.runtime import Ledger
from ebox.projections.access import AccessProjection, AccessView
from ebox.projections.feed import FeedProjection, FeedView
from ebox.projections.inbox import InboxProjection, InboxView
from ebox.projections.status import StatusProjection, StatusView
from ebox.projections.views import View, ViewProjection

PROJECTION_NAMES = ("inbox", "status", "feed", "access")

_TYPES: dict[str, tuple[type[View], type[ViewProjection[Any]]]] = {
    "inbox": (InboxView, InboxProjection),
    "status": (StatusView, StatusProjection),
    "feed": (FeedView, FeedProjection),
    "access": (AccessView, AccessProjection),
}


class ProjectionError(RuntimeError):
    """Running a projection went wrong."""


class UnknownProjection(ProjectionError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no projection named {name!r}; known: {', '.join(PROJECTION_NAMES)}")
        self.name = name


def projection_types(name: str) -> tuple[type[View], type[ViewProjection[Any]]]:
    """The view and projection classes of a projection name."""
    try:
        return _TYPES[name]
    except KeyError:
        raise UnknownProjection(name) from None


def make_projection(name: str, ledger: Ledger) -> ViewProjection[Any]:
    view_class, projection_class = projection_types(name)
    return projection_class(view=view_class.of(ledger))
