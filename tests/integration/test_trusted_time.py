"""Trusted time on SQLite and PostgreSQL: the workers stamp checkpoints with a real TSA
(OpenSSL's `ts -reply` over HTTP), the bundle carries the earliest stamped checkpoint that
covers its events, and the verifier checks it; a TSA that is down shows in /health and
holds back no follower.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ebox.adapters.evidence import build_evidence
from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import checkpoint_timestamps, checkpoints
from ebox.adapters.transparency import TransparencyLog
from ebox.adapters.tsa import TsaClient
from ebox.api import health
from ebox.domain.proofs.evidence import EvidenceBundle, TrustedTime
from ebox.domain.proofs.timestamp import check_token, checkpoint_hash, load_anchors
from ebox.projections.faults import fault_of
from ebox.projections.timestamper import Timestamper
from ebox.projections.workers import RetryPolicy, Workers
from ebox.verifier.bundle import verify_bundle
from ebox.verifier.trusted_time import TrustedTimeRefused
from tests.auth_helpers import api_client, app_settings
from tests.builders import CITIZEN, World, make_world
from tests.tsa_server import TsaFiles, TsaServer, make_tsa

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, parked_poll=0.05)


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> TsaFiles:
    return make_tsa(tmp_path_factory.mktemp("tsa"))


@pytest.fixture
def server(tsa: TsaFiles) -> Iterator[TsaServer]:
    with TsaServer(tsa) as running:
        yield running


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


def anchors(tsa: TsaFiles) -> tuple[Any, ...]:
    return tuple(load_anchors(tsa.ca_pem.read_bytes()))


def workers(ledger: Ledger, server: TsaServer, tsa: TsaFiles) -> Workers:
    stamper = Timestamper(ledger, TsaClient(server.url, anchors(tsa)), interval=60)
    return Workers(ledger, FAST, timestamper=stamper)


def send(world: World, key: str) -> str:
    return str(world.ledger.app.publish(world.letter(CITIZEN, idempotency_key=key)))


def latest_checkpoint(ledger: Ledger) -> int:
    with ledger.db.read() as session:
        return int(session.execute(select(func.max(checkpoints.c.size))).scalar_one())


def stamped_sizes(ledger: Ledger) -> list[int]:
    with ledger.db.read() as session:
        query = select(checkpoint_timestamps.c.size).order_by(checkpoint_timestamps.c.size)
        return [int(s) for s in session.execute(query).scalars()]


def test_the_workers_stamp_the_latest_checkpoint_and_the_bundle_carries_it(
    ledger: Ledger, world: World, server: TsaServer, tsa: TsaFiles
) -> None:
    message_id = send(world, "one")
    work = workers(ledger, server, tsa)
    assert work.run_until_idle() == []

    size = latest_checkpoint(ledger)
    assert stamped_sizes(ledger) == [size]
    bundle = build_evidence(ledger, message_id)
    assert bundle.trusted_time is not None
    assert bundle.trusted_time.checkpoint == bundle.ledger.checkpoint
    assert bundle.trusted_time.consistency == ()
    proven = check_token(
        bundle.trusted_time.token, checkpoint_hash(bundle.ledger.checkpoint), anchors(tsa)
    )
    assert proven.trusted

    parsed = EvidenceBundle.parse(bundle.to_json())
    assert parsed.trusted_time == bundle.trusted_time
    report = verify_bundle(bundle.to_json(), TransparencyLog(ledger).vkey(), anchors(tsa))
    (time,) = [s for s in report.sections if s.title == "Time"]
    assert time.verdict.startswith("no later than") and "TSA trusted" in time.verdict
    assert any("RFC 3161 token by" in line and "Test TSA" in line for line in time.lines)
    assert any("operator's clock" in line for line in time.lines)


def test_the_bundle_names_the_earliest_stamped_checkpoint_that_covers_its_events(
    ledger: Ledger, world: World, server: TsaServer, tsa: TsaFiles
) -> None:
    first = send(world, "first")
    workers(ledger, server, tsa).run_until_idle()
    (early,) = stamped_sizes(ledger)
    second = send(world, "second")
    workers(ledger, server, tsa).run_until_idle()
    late = latest_checkpoint(ledger)
    assert stamped_sizes(ledger) == [early, late] and early < late

    vkey = TransparencyLog(ledger).vkey()
    old = build_evidence(ledger, first)
    assert old.trusted_time is not None and f"\n{early}\n" in old.trusted_time.checkpoint
    assert old.trusted_time.consistency  # from the stamped checkpoint to the bundle's
    verify_bundle(old.to_json(), vkey, anchors(tsa))
    new = build_evidence(ledger, second)
    assert new.trusted_time is not None and f"\n{late}\n" in new.trusted_time.checkpoint
    verify_bundle(new.to_json(), vkey, anchors(tsa))

    # The first letter's stamp does not cover the second letter: refused, not believed.
    swapped = dataclasses.replace(
        new,
        trusted_time=TrustedTime(
            old.trusted_time.checkpoint,
            old.trusted_time.token,
            tuple(TransparencyLog(ledger).consistency(early, late)),
        ),
    )
    with pytest.raises(TrustedTimeRefused, match="is not in the time-stamped checkpoint"):
        verify_bundle(swapped.to_json(), vkey, anchors(tsa))


def test_a_token_for_another_checkpoint_is_refused(
    ledger: Ledger, world: World, server: TsaServer, tsa: TsaFiles
) -> None:
    first = send(world, "first")
    workers(ledger, server, tsa).run_until_idle()
    send(world, "second")
    workers(ledger, server, tsa).run_until_idle()
    old = build_evidence(ledger, first)
    third = send(world, "third")
    Workers(ledger, FAST).run_until_idle()  # sealed, not stamped
    newest = build_evidence(ledger, third)
    assert old.trusted_time is not None
    other = TsaClient(server.url).stamp(0, newest.ledger.checkpoint).token
    forged = dataclasses.replace(
        old, trusted_time=dataclasses.replace(old.trusted_time, token=other)
    )
    with pytest.raises(TrustedTimeRefused, match="for another checkpoint"):
        verify_bundle(forged.to_json(), TransparencyLog(ledger).vkey(), anchors(tsa))


def test_each_round_stamps_only_a_checkpoint_not_yet_stamped(
    ledger: Ledger, world: World, server: TsaServer, tsa: TsaFiles
) -> None:
    send(world, "one")
    Workers(ledger, FAST).run_until_idle()
    stamper = Timestamper(ledger, TsaClient(server.url, anchors(tsa)), interval=60)
    assert stamper.step() is not None
    assert not stamper.due()  # the next round waits for the interval
    assert stamper.step() is None  # and there is nothing new to stamp anyway
    assert server.replies == 1


def test_a_tsa_that_is_down_degrades_health_and_the_sealer_goes_on(
    ledger: Ledger, world: World, server: TsaServer, tsa: TsaFiles, ledger_home: Path
) -> None:
    send(world, "one")
    server.broken = True
    assert workers(ledger, server, tsa).run_until_idle() == []
    assert stamped_sizes(ledger) == []
    fault = fault_of(ledger, "tsa")
    assert fault is not None and fault.error_class == "TsaUnavailable"

    before = latest_checkpoint(ledger)
    send(world, "two")
    assert workers(ledger, server, tsa).run_until_idle() == []
    assert latest_checkpoint(ledger) > before  # sealed all the same

    settings = app_settings(tsa_url=server.url)
    with api_client(ledger, ledger_home, settings, routers=(health.register,)) as http:
        response = http.get("/health")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "degraded"
    assert "tsa" in body["stuck"] and body["followers"]["sealer"]["lag"] == 0
    assert body["tsa"]["state"] == "failing" and body["tsa"]["error"] == "TsaUnavailable"
    assert server.url not in response.text

    server.broken = False
    assert workers(ledger, server, tsa).run_until_idle() == []
    assert stamped_sizes(ledger) == [latest_checkpoint(ledger)]
    assert fault_of(ledger, "tsa") is None
    with api_client(ledger, ledger_home, settings, routers=(health.register,)) as http:
        body = http.get("/health").json()
    assert body["status"] == "ok" and body["tsa"]["state"] == "ok"
    assert body["tsa"]["stamped_size"] == latest_checkpoint(ledger)


def test_a_reply_from_an_untrusted_tsa_is_not_stored(
    ledger: Ledger, world: World, server: TsaServer, tmp_path: Path
) -> None:
    send(world, "one")
    stranger = make_tsa(tmp_path / "stranger", "Stranger TSA")
    stamper = Timestamper(ledger, TsaClient(server.url, anchors(stranger)), interval=60)
    Workers(ledger, FAST, timestamper=stamper).run_until_idle()
    assert stamped_sizes(ledger) == []
    fault = fault_of(ledger, "tsa")
    assert fault is not None and fault.error_class == "TsaReplyRejected"


def test_without_a_tsa_url_there_is_no_timestamper_and_no_tsa_in_health(
    ledger: Ledger, world: World, ledger_home: Path
) -> None:
    message_id = send(world, "one")
    work = Workers(ledger, FAST)
    assert work.timestamper is None
    assert work.run_until_idle() == []
    bundle = build_evidence(ledger, message_id)
    assert bundle.trusted_time is None and "trusted_time" not in bundle.as_json()
    report = verify_bundle(bundle.to_json(), TransparencyLog(ledger).vkey())
    assert "Time" not in {s.title for s in report.sections}
    with api_client(ledger, ledger_home, routers=(health.register,)) as http:
        body = http.get("/health").json()
    assert "tsa" not in body and body["status"] == "ok"


def test_after_a_ledger_key_rotation_only_a_checkpoint_of_the_new_key_is_offered(
    ledger: Ledger, world: World, server: TsaServer, tsa: TsaFiles
) -> None:
    """A stamp of a checkpoint signed by the retired key would not open with the bundle's key."""
    from ebox.adapters.key_rotation import rotate_ledger_key

    message_id = send(world, "one")
    workers(ledger, server, tsa).run_until_idle()
    assert len(stamped_sizes(ledger)) == 1
    rotate_ledger_key(ledger)
    Workers(ledger, FAST).run_until_idle()  # sealed by the new key, not stamped

    bundle = build_evidence(ledger, message_id)
    assert bundle.trusted_time is None
    vkey = TransparencyLog(ledger).vkey()
    verify_bundle(bundle.to_json(), vkey, anchors(tsa))

    workers(ledger, server, tsa).run_until_idle()
    bundle = build_evidence(ledger, message_id)
    assert bundle.trusted_time is not None
    report = verify_bundle(bundle.to_json(), vkey, anchors(tsa))
    assert "Time" in {s.title for s in report.sections}
