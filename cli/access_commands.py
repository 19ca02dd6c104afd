"""`ebox token ...` and `ebox admin ...`: who may call the API (tokens, OAuth clients).

Apart from cli/main.py because it is one concept, access, and main holds the
ledger's own commands (demo, serve, workers, ledger, projections).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ebox.cli.opening import DbOption, fail, open_or_exit

err = Console(stderr=True)

# --------------------------------------------------------------------------- token

token_app = typer.Typer(help="Tokens and OAuth clients (embedded default).", no_args_is_help=True)


@token_app.command("person")
def token_person(
    nrn: str,
    partner: Annotated[str | None, typer.Option("--partner", help="Partner app id (azp).")] = None,
    ttl: Annotated[int, typer.Option("--ttl", min=1, max=86400, help="Lifetime, seconds.")] = 3600,
) -> None:
    """A person token of the embedded OIDC issuer for NRN (portal, or --partner ID)."""
    import os

    from ebox.adapters.home import data_dir
    from ebox.api.oidc import mint_person_token

    if os.environ.get("EBOX_OIDC_ISSUER"):
        err.print("[yellow]EBOX_OIDC_ISSUER is set: the API trusts that provider instead[/]")
    try:
        print(mint_person_token(data_dir(), nrn, partner, ttl))
    except ValueError as error:
        fail(str(error))


@token_app.command("client")
def token_client(
    kind: Annotated[str, typer.Argument(help="sender, partner, auditor or admin")],
    subject: Annotated[str, typer.Argument(help="KBO number, partner id or auditor name")],
    key_out: Annotated[Path, typer.Option("--key-out", help="Where to write the private key.")],
    scope: Annotated[list[str] | None, typer.Option("--scope", help="Default: the kind's.")] = None,
    alg: Annotated[str, typer.Option("--alg", help="EdDSA or RS256")] = "EdDSA",
    db: DbOption = None,
) -> None:
    """The older name of `ebox admin client add`: the same registration, the client id printed."""
    from ebox.cli.admin_common import add_client_with_key

    print(add_client_with_key(kind, subject, key_out, alg, db, scope))


@token_app.command("assertion")
def token_assertion(
    client_id: str,
    key: Annotated[Path, typer.Option("--key", help="The client's private key (PEM).")],
    ttl: Annotated[int, typer.Option("--ttl", min=1, max=300)] = 60,
) -> None:
    """A client assertion for POST /oauth/token (audience from $EBOX_PUBLIC_URL)."""
    from ebox.api.oauth import make_client_assertion, token_endpoint
    from ebox.api.settings import Settings

    audience = token_endpoint(Settings.from_env())
    pem = key.read_bytes()  # a missing or unreadable file: one line (ebox.cli.opening)
    try:
        assertion = make_client_assertion(pem, client_id, audience, ttl=ttl)
    except (ValueError, TypeError):  # cryptography's refusal of what is not a private key PEM
        fail(f"--key {key}: not a PEM private key (as `ebox token client --key-out` writes)")
    print(assertion)


# --------------------------------------------------------------------------- admin

admin_app = typer.Typer(
    help="Operations: onboarding senders, mailboxes, partners and OAuth clients.",
    no_args_is_help=True,
)
admin_client_app = typer.Typer(help="Registered OAuth clients.", no_args_is_help=True)
admin_app.add_typer(admin_client_app, name="client")


@admin_client_app.command("disable")
def admin_client_disable(
    client_id: str,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Disable an OAuth client: no new token, and its live tokens are refused at once."""
    import json

    from ebox.adapters.clients import UnknownClient, disable_client

    ledger = open_or_exit(db)
    try:
        disable_client(ledger, client_id)
    except UnknownClient:
        err.print(f"[red]no client {client_id!r}[/red]")
        raise typer.Exit(2) from None
    finally:
        ledger.close()
    print(json.dumps({"client_id": client_id, "disabled": True}) if as_json else client_id)
