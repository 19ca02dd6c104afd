"""`ebox admin ...`: onboarding by command, through the same use cases as the demo and /admin/v1.

Senders and their signing keys, applications and message types, partners,
their consents, mandates, and OAuth clients (mailboxes are in
ebox.cli.admin_mailboxes). Every change is a ledger event made by an
`EboxLedger` use case (OAuth clients: the client registry). The names are the
ones issue 9 gives, and outside scripts rely on them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ebox.cli.access_commands import admin_app, admin_client_app
from ebox.cli.admin_common import (
    EboxIdArg,
    EboxType,
    JsonOption,
    NameDe,
    NameEn,
    NameFr,
    NameNl,
    add_client_with_key,
    done,
    ebox_id,
    fail,
    guarded,
    ledger_for,
    names_of,
)
from ebox.cli.admin_mailboxes import mailbox_app
from ebox.cli.opening import DbOption

sender_app = typer.Typer(help="Sender organisations (KBO number).", no_args_is_help=True)
sender_key_app = typer.Typer(help="A sender's Ed25519 signing keys.", no_args_is_help=True)
application_app = typer.Typer(help="A sender's applications.", no_args_is_help=True)
SensitiveOption = Annotated[
    bool,
    typer.Option(
        "--sensitive/--not-sensitive",
        help="Sensitive (default): the notification mail never names the letter's subject.",
    ),
]
message_type_app = typer.Typer(help="A sender's message types.", no_args_is_help=True)
partner_app = typer.Typer(help="Partner apps that mailboxes consent to.", no_args_is_help=True)
consent_app = typer.Typer(help="A mailbox's consent to a partner app.", no_args_is_help=True)
mandate_app = typer.Typer(help="Mandates to read another's eBox.", no_args_is_help=True)

admin_app.add_typer(sender_app, name="sender")
sender_app.add_typer(sender_key_app, name="key")
admin_app.add_typer(application_app, name="application")
admin_app.add_typer(message_type_app, name="message-type")
admin_app.add_typer(mailbox_app, name="mailbox")
admin_app.add_typer(partner_app, name="partner")
partner_app.add_typer(consent_app, name="consent")
admin_app.add_typer(consent_app, name="consent")
admin_app.add_typer(mandate_app, name="mandate")

KboArg = Annotated[str, typer.Argument(help="The sender's KBO number.", metavar="KBO")]


def _kbo(value: str) -> str:
    """A KBO number argument, canonical and its check digits checked; else one line, exit 2."""
    from ebox.domain.ids import checked_kbo_number

    number: str = guarded(lambda: checked_kbo_number(value))
    return number


# --------------------------------------------------------------------------- senders


@sender_app.command("add")
def sender_add(
    kbo: KboArg,
    name_nl: NameNl = None,
    name_fr: NameFr = None,
    name_de: NameDe = None,
    name_en: NameEn = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a sender organisation (its KBO number's check digits are checked)."""
    names = names_of(name_nl, name_fr, name_de, name_en)
    number = _kbo(kbo)
    with ledger_for(db) as ledger:
        sender_id = ledger.app.register_sender(number, names)
    done(
        as_json,
        f"sender {number} registered",
        {"kbo_number": number, "sender_id": sender_id, "names": names},
    )


@sender_key_app.command("add")
def sender_key_add(
    kbo: KboArg,
    public_key: Annotated[
        Path,
        typer.Option("--public-key", help="Ed25519 public key: PEM, or 32 raw bytes in base64url."),
    ],
    valid_from: Annotated[
        str | None, typer.Option("--valid-from", help="RFC 3339; default now.")
    ] = None,
    valid_until: Annotated[
        str | None, typer.Option("--valid-until", help="RFC 3339; default none.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a signing key to a sender; prints its key id (what a signed envelope names)."""
    from ebox.adapters.onboarding import read_ed25519_public_key, read_moment

    kbo = _kbo(kbo)
    try:
        data = public_key.read_bytes()
    except OSError as error:
        fail(f"{public_key} cannot be read: {error.strerror or error}")
    raw = guarded(lambda: read_ed25519_public_key(data))
    start = guarded(lambda: read_moment(valid_from, "--valid-from"))
    end = guarded(lambda: read_moment(valid_until, "--valid-until"))
    with ledger_for(db) as ledger:
        key_id = ledger.app.add_signing_key(kbo, raw, start, end)
    done(as_json, key_id, {"kbo_number": kbo, "key_id": key_id})


@sender_key_app.command("revoke")
def sender_key_revoke(
    kbo: KboArg,
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID")],
    reason: Annotated[str, typer.Option("--reason", help="Recorded with the revocation.")] = (
        "revoked by the operator"
    ),
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a sender's signing key: letters signed with it are refused from now on."""
    kbo = _kbo(kbo)
    with ledger_for(db) as ledger:
        ledger.app.revoke_signing_key(kbo, key_id, reason)
    done(
        as_json,
        f"key {key_id} of sender {kbo} revoked",
        {"kbo_number": kbo, "key_id": key_id, "revoked": True},
    )


@application_app.command("add")
def application_add(
    kbo: KboArg,
    application_id: Annotated[str, typer.Argument(metavar="APPLICATION_ID")],
    name_nl: NameNl = None,
    name_fr: NameFr = None,
    name_de: NameDe = None,
    name_en: NameEn = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an application of a sender (the senderApplicationId it publishes with)."""
    names = names_of(name_nl, name_fr, name_de, name_en)
    kbo = _kbo(kbo)
    with ledger_for(db) as ledger:
        ledger.app.register_application(kbo, application_id, names)
    done(
        as_json,
        f"application {application_id} of sender {kbo} registered",
        {"kbo_number": kbo, "application_id": application_id, "names": names},
    )


@message_type_app.command("add")
def message_type_add(
    kbo: KboArg,
    message_type_id: Annotated[str, typer.Argument(metavar="MESSAGE_TYPE_ID")],
    validity: Annotated[
        str, typer.Option("--validity", help="How long a letter stays: 90d, 3m or 1y.")
    ],
    name_nl: NameNl = None,
    name_fr: NameFr = None,
    name_de: NameDe = None,
    name_en: NameEn = None,
    registered_mail: Annotated[
        bool, typer.Option("--registered-mail", help="Letters of this type are registered.")
    ] = False,
    sensitive: SensitiveOption = True,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a message type of a sender, with its validity period."""
    names = names_of(name_nl, name_fr, name_de, name_en)
    kbo = _kbo(kbo)
    with ledger_for(db) as ledger:
        unit, amount = ledger.app.register_message_type_for(
            kbo, message_type_id, names, validity, registered_mail
        )
        if not sensitive:  # registered sensitive (the safe default), then told otherwise
            ledger.app.set_message_type_sensitivity(kbo, message_type_id, False)
    done(
        as_json,
        f"message type {message_type_id} of sender {kbo} registered ({amount} {unit})",
        {
            "kbo_number": kbo,
            "message_type_id": message_type_id,
            "validity_unit": unit,
            "validity_amount": amount,
            "registered_mail": registered_mail,
            "sensitive": sensitive,
        },
    )


@message_type_app.command("sensitivity")
def message_type_sensitivity(
    kbo: KboArg,
    message_type_id: Annotated[str, typer.Argument(metavar="MESSAGE_TYPE")],
    sensitive: Annotated[
        bool | None,
        typer.Option(
            "--sensitive/--not-sensitive",
            help="Sensitive: the notification mail never names the letter's subject.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a message type sensitive (the mail names no subject) or not sensitive."""
    if sensitive is None:
        typer.echo("say --sensitive or --not-sensitive", err=True)
        raise typer.Exit(2)
    kbo = _kbo(kbo)
    with ledger_for(db) as ledger:
        ledger.app.set_message_type_sensitivity(kbo, message_type_id, sensitive)
    state = "sensitive" if sensitive else "not sensitive"
    done(
        as_json,
        f"message type {message_type_id} of sender {kbo} is {state}",
        {"kbo_number": kbo, "message_type_id": message_type_id, "sensitive": sensitive},
    )


# --------------------------------------------------------------------------- partners


@partner_app.command("add")
def partner_add(
    partner_id: Annotated[str, typer.Argument(metavar="PARTNER_ID")],
    name: Annotated[str, typer.Option("--name", help="The partner app's name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a partner app (the id mailboxes consent to and its OAuth client names)."""
    with ledger_for(db) as ledger:
        ledger.app.register_partner(partner_id, name)
    done(as_json, f"partner {partner_id} registered", {"partner_id": partner_id, "name": name})


def _consent(grant: bool, partner_id: str, ebox_type: str, value: str, db: str | None) -> str:
    number = ebox_id(ebox_type, value)
    with ledger_for(db) as ledger:
        if grant:
            ledger.app.partner(partner_id)  # consent goes to a partner the ledger knows
            ledger.app.grant_partner_consent(ebox_type, number, partner_id)
        else:
            ledger.app.revoke_partner_consent(ebox_type, number, partner_id)
    return number


@consent_app.command("grant")
def consent_grant(
    partner_id: Annotated[str, typer.Argument(metavar="PARTNER_ID")],
    ebox_type: EboxType,
    id_value: EboxIdArg,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Let a partner app read this eBox (as its owner, with the owner's token)."""
    number = _consent(True, partner_id, ebox_type, id_value, db)
    done(
        as_json,
        f"{ebox_type}:{number} consents to partner {partner_id}",
        {"partner_id": partner_id, "ebox_type": ebox_type, "id_value": number, "consent": True},
    )


@consent_app.command("revoke")
def consent_revoke(
    partner_id: Annotated[str, typer.Argument(metavar="PARTNER_ID")],
    ebox_type: EboxType,
    id_value: EboxIdArg,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Withdraw a partner app's consent: its next request for this eBox is refused."""
    number = _consent(False, partner_id, ebox_type, id_value, db)
    done(
        as_json,
        f"{ebox_type}:{number} no longer consents to partner {partner_id}",
        {"partner_id": partner_id, "ebox_type": ebox_type, "id_value": number, "consent": False},
    )


# --------------------------------------------------------------------------- mandates


def _mandate(
    grant: bool, holder: str, ebox_type: str, value: str, db: str | None
) -> tuple[str, str]:
    from ebox.domain.ids import checked_national_register_number

    nrn = guarded(lambda: checked_national_register_number(holder))
    number = ebox_id(ebox_type, value)
    with ledger_for(db) as ledger:
        change = ledger.app.grant_mandate if grant else ledger.app.revoke_mandate
        change(ebox_type, number, f"citizen:{nrn}")
    return nrn, number


@mandate_app.command("grant")
def mandate_grant(
    holder_nrn: Annotated[str, typer.Argument(metavar="HOLDER_NRN")],
    ebox_type: EboxType,
    id_value: EboxIdArg,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Let a person (national register number) read another's eBox by mandate."""
    nrn, number = _mandate(True, holder_nrn, ebox_type, id_value, db)
    done(
        as_json,
        f"citizen:{nrn} holds a mandate for {ebox_type}:{number}",
        {"holder": nrn, "ebox_type": ebox_type, "id_value": number, "mandate": True},
    )


@mandate_app.command("revoke")
def mandate_revoke(
    holder_nrn: Annotated[str, typer.Argument(metavar="HOLDER_NRN")],
    ebox_type: EboxType,
    id_value: EboxIdArg,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Withdraw a mandate."""
    nrn, number = _mandate(False, holder_nrn, ebox_type, id_value, db)
    done(
        as_json,
        f"citizen:{nrn} no longer holds a mandate for {ebox_type}:{number}",
        {"holder": nrn, "ebox_type": ebox_type, "id_value": number, "mandate": False},
    )


# --------------------------------------------------------------------------- clients


@admin_client_app.command("add")
def client_add(
    kind: Annotated[str, typer.Argument(metavar="sender|partner|auditor|admin")],
    subject: Annotated[
        str, typer.Argument(help="KBO number, partner id, auditor or admin name", metavar="SUBJECT")
    ],
    key_out: Annotated[Path, typer.Option("--key-out", help="Where to write the private key.")],
    alg: Annotated[str, typer.Option("--alg", help="EdDSA or RS256")] = "EdDSA",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an OAuth client with a new key pair; the private key goes to --key-out (0600)."""
    from ebox.adapters.clients import ALLOWED_SCOPES

    client_id = add_client_with_key(kind, subject, key_out, alg, db)
    done(
        as_json,
        client_id,
        {
            "client_id": client_id,
            "kind": kind,
            "subject": subject,
            "scopes": sorted(ALLOWED_SCOPES[kind]),
            "key_file": str(key_out),
        },
    )
