"""My e-box: the portal of citizens and enterprises, server-rendered, at `/` of `ebox serve`.

See api/portal/README.md. `register(app)` mounts the pages (sign-in, inbox,
letter, and those of ebox.api.portal's other modules) and the static files
(/static/portal/: the one CSS file; the pages have no script).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ebox.api.portal import access_history, inbox, letter, settings, signin
from ebox.api.portal.pages import STATIC, STATIC_PATH

ROUTERS = [
    signin.router,
    inbox.router,
    letter.router,
    settings.router,
    access_history.router,
]


def register(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="portal-static")
