"""Read your own writes: the ledger position a write reached, and waiting for a view to reach one.

The listings read the views, which follow the ledger a moment behind. Every
request that writes (opening content, PATCH, archive) catches the inbox view
up before it answers and returns the ledger position it reached in
``X-Ebox-Position`` (`after_write`); a client that sends that number back in
``X-Ebox-Min-Position`` (to this or any other replica) is answered only once
the view has processed it (`wait_for_view`: 503 ``NOT_YET_CONSISTENT`` with
``Retry-After`` if that takes longer than a few seconds; 400 for a position
the ledger has not reached, which no response ever gave). The catch-up comes
after the commit, so nothing that goes wrong in it turns the committed action
into an error: it is logged, and the answer is the committed result.
"""

import logging
from typing import Annotated

from fastapi import Header, Request

from ebox.adapters.runtime import Ledger
from ebox.api.errors import ApiError
from ebox.domain.limits import LIMITS
from ebox.projections.runner import (
    ProjectionTimeout,
    latest_notification_id,
    wait_until_position,
)

log = logging.getLogger("ebox.api.consultation")

MIN_POSITION_HEADER = "X-Ebox-Min-Position"
POSITION_HEADER = "X-Ebox-Position"
CONSISTENCY_TIMEOUT = 5.0
"""Seconds a request waits for a view (override with app.state.consistency_timeout)."""

MinPositionHeader = Annotated[
    int | None,
    Header(
        alias=MIN_POSITION_HEADER,
        ge=0,
        le=LIMITS.position,
        description=(
            "Extension, read your own writes: answer only once the read model has processed "
            f"this ledger position (the {POSITION_HEADER} of an earlier response); 503 if it "
            "does not in a few seconds, 400 if the ledger never reached it."
        ),
    ),
]


def consistency_timeout(request: Request) -> float:
    return float(getattr(request.app.state, "consistency_timeout", CONSISTENCY_TIMEOUT))


def wait_for_view(
    ledger: Ledger, projection: str, min_position: int | None, timeout: float
) -> None:
    """Honour X-Ebox-Min-Position: catch the view up to it, or 503.

    Also 503 when catching up fails (a view stuck on an event): the data asked
    for is not there yet, which is no fault of the request; only the error's
    class is logged (a view's database error carries personal data).
    """
    if not min_position:
        return
    latest = latest_notification_id(ledger)
    if min_position > latest:
        # Positions come from X-Ebox-Position, so they are never beyond the log's end:
        # waiting for one that is would only hold the request until the timeout.
        raise ApiError(
            400,
            "INVALID_REQUEST",
            f"{MIN_POSITION_HEADER} {min_position} lies beyond the ledger's last position {latest}",
        )
    try:
        wait_until_position(ledger, projection, min_position, timeout)
    except ProjectionTimeout as error:
        raise ApiError(
            503,
            "NOT_YET_CONSISTENT",
            f"the {projection} view has not reached position {min_position} yet "
            f"(it is at {error.position}); retry shortly",
            headers={"Retry-After": "1"},
        ) from None
    except Exception as error:
        log.error(
            "the %s view failed to catch up to position %d (%s)",
            projection,
            min_position,
            _name(error),
        )
        raise ApiError(
            503,
            "NOT_YET_CONSISTENT",
            f"the {projection} view cannot reach position {min_position} now; retry later",
            headers={"Retry-After": "1"},
        ) from None


def after_write(ledger: Ledger, timeout: float) -> dict[str, str]:
    """Catch the inbox view up with what was just written; the position reached, as a header.

    The write is committed whatever happens here, so nothing here fails the
    request: a view that is slow to follow, or one that fails (a handler that
    raises, a broken table), is logged and the committed result is answered; the
    client can still wait with X-Ebox-Min-Position, and the view's own runner
    retries. Only the error's class is logged: a view's database error carries
    its SQL parameters, which hold national register numbers and subjects.
    """
    try:
        position = latest_notification_id(ledger)
    except Exception as error:
        log.error("committed write: the ledger position could not be read (%s)", _name(error))
        return {}
    try:
        wait_until_position(ledger, "inbox", position, timeout)
    except ProjectionTimeout as error:
        log.warning("inbox view behind after a write: %s", error)
    except Exception as error:
        log.error(
            "committed write: the inbox view failed to catch up to position %d (%s)",
            position,
            _name(error),
        )
    return {POSITION_HEADER: str(position)}


def _name(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}"
