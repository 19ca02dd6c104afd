"""Access tokens, person tokens and client keys, without a database or HTTP."""

from __future__ import annotations

import base64
import json
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ebox.adapters.clients import (
    ClientError,
    generate_key,
    jwk_thumbprint,
    normalise_public_jwk,
    public_jwk_of,
)
from ebox.api.oidc import (
    EmbeddedPersonIssuer,
    PersonTokenVerifier,
    embedded_issuer,
    mint_person_token,
)
from ebox.api.settings import Settings
from ebox.api.tokens import (
    LEEWAY_SECONDS,
    BadSignature,
    MalformedToken,
    MissingClaim,
    TokenExpired,
    TokenService,
    UnknownKind,
    WrongAudience,
    WrongIssuer,
    WrongTokenType,
    load_token_seed,
)

URL = "https://ebox.test"
NRN = "58102882214"
SEED = bytes(range(32))


@pytest.fixture(autouse=True)
def _no_key_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EBOX_API_TOKEN_KEY", "EBOX_PERSON_ISSUER_KEY", "EBOX_OIDC_ISSUER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def service() -> TokenService:
    return TokenService(SEED, URL, ttl_seconds=600)


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _resign(service: TokenService, token: str, **changes: Any) -> str:
    """The same token with changed claims, signed again with the service's own key."""
    claims = {**_claims(token), **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    header = jwt.get_unverified_header(token)
    return jwt.encode(claims, service._private, algorithm="EdDSA", headers=header)


# --------------------------------------------------------------------------- access tokens


def test_an_access_token_carries_the_documented_claims(service: TokenService) -> None:
    issued = service.issue(
        kind="sender", subject="0308357159", client_id="sender-1", scopes=["ebox:publication"]
    )
    header = jwt.get_unverified_header(issued.access_token)
    claims = _claims(issued.access_token)
    assert (
        header["typ"] == "at+jwt" and header["alg"] == "EdDSA" and header["kid"] == service.key_id
    )
    assert claims["iss"] == claims["aud"] == URL
    assert claims["sub"] == "0308357159"
    assert claims["client_id"] == claims["azp"] == "sender-1"
    assert claims["kind"] == "sender" and claims["scope"] == "ebox:publication"
    assert claims["exp"] - claims["iat"] == 600 == issued.expires_in
    assert claims["jti"] == issued.token_id
    principal = service.verify(issued.access_token)
    assert (principal.kind, principal.subject, principal.client_id) == (
        "sender",
        "0308357159",
        "sender-1",
    )
    assert principal.scopes == {"ebox:publication"}
    assert principal.address is None


def test_each_token_has_its_own_jti(service: TokenService) -> None:
    ids = {
        service.issue(kind="auditor", subject="a", client_id="c", scopes=["ebox:audit"]).token_id
        for _ in range(5)
    }
    assert len(ids) == 5


def test_an_expired_token_is_refused_beyond_the_leeway(service: TokenService) -> None:
    now = time.time()
    token = service.issue(
        kind="auditor", subject="a", client_id="c", scopes=["ebox:audit"], now=now - 700
    ).access_token
    service.verify(token, now=now - 100 + LEEWAY_SECONDS - 1)  # expired, within the leeway
    with pytest.raises(TokenExpired):
        service.verify(token, now=now - 100 + LEEWAY_SECONDS)
    with pytest.raises(TokenExpired):
        service.verify(token)  # the real clock too


def test_a_token_of_another_key_is_forged(service: TokenService) -> None:
    other = TokenService(bytes(32), URL)
    token = other.issue(kind="sender", subject="0308357159", client_id="c", scopes=[]).access_token
    with pytest.raises(BadSignature):
        service.verify(token)
    # Same kid as ours, still the wrong key.
    forged = jwt.encode(
        _claims(token),
        other._private,
        algorithm="EdDSA",
        headers={"typ": "at+jwt", "kid": service.key_id},
    )
    with pytest.raises(BadSignature):
        service.verify(forged)


def test_a_tampered_payload_breaks_the_signature(service: TokenService) -> None:
    token = service.issue(
        kind="sender", subject="0308357159", client_id="c", scopes=[]
    ).access_token
    head, _payload, signature = token.split(".")
    claims = _claims(token) | {"sub": "0206731645"}
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignature):
        service.verify(f"{head}.{forged_payload}.{signature}")


def test_alg_none_and_garbage_are_refused(service: TokenService) -> None:
    token = service.issue(
        kind="sender", subject="0308357159", client_id="c", scopes=[]
    ).access_token
    unsigned = jwt.encode(_claims(token), "", algorithm="none", headers={"typ": "at+jwt"})
    with pytest.raises(BadSignature):
        service.verify(unsigned)
    with pytest.raises(MalformedToken):
        service.verify("not-a-jwt")


def test_wrong_issuer_and_wrong_audience(service: TokenService) -> None:
    token = service.issue(
        kind="sender", subject="0308357159", client_id="c", scopes=[]
    ).access_token
    with pytest.raises(WrongIssuer) as error:
        service.verify(_resign(service, token, iss="https://elsewhere.test"))
    assert error.value.expected == URL and error.value.actual == "https://elsewhere.test"
    with pytest.raises(WrongAudience):
        service.verify(_resign(service, token, aud="https://other-api.test"))
    with pytest.raises(MissingClaim):
        service.verify(_resign(service, token, jti=None))


def test_unknown_kinds_are_refused(service: TokenService) -> None:
    token = service.issue(
        kind="sender", subject="0308357159", client_id="c", scopes=[]
    ).access_token
    for kind in ("person", "root", ""):
        with pytest.raises(UnknownKind):
            service.verify(_resign(service, token, kind=kind))
    with pytest.raises(UnknownKind):
        service.issue(kind="person", subject=NRN, client_id="c", scopes=[])


def test_a_token_never_holds_more_than_its_kind_may(service: TokenService) -> None:
    token = service.issue(
        kind="sender", subject="0308357159", client_id="c", scopes=[]
    ).access_token
    greedy = _resign(service, token, scope="ebox:publication ebox:audit ebox:consultation")
    assert service.verify(greedy).scopes == {"ebox:publication"}


def test_only_access_tokens_are_access_tokens(service: TokenService, tmp_path: Path) -> None:
    person = mint_person_token(tmp_path, NRN, settings=Settings(public_url=URL))
    with pytest.raises(WrongTokenType):
        service.verify(person)


def test_the_token_key_file_is_private_and_stable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = load_token_seed(tmp_path)
    path = tmp_path / "api-token.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_token_seed(tmp_path) == seed and len(seed) == 32
    monkeypatch.setenv("EBOX_API_TOKEN_KEY", base64.b64encode(SEED).decode())
    assert load_token_seed(tmp_path / "elsewhere") == SEED
    assert not (tmp_path / "elsewhere").exists()
    assert repr(TokenService(SEED, URL)).count(base64.b64encode(SEED).decode()) == 0


# --------------------------------------------------------------------------- person tokens


def test_embedded_person_tokens_name_the_person_and_the_app(tmp_path: Path) -> None:
    settings = Settings(public_url=URL)
    verifier = PersonTokenVerifier.for_settings(settings, tmp_path)
    assert verifier.issuer == embedded_issuer(settings) == f"{URL}/embedded-oidc"
    assert stat.S_IMODE((tmp_path / "person-issuer.key").stat().st_mode) == 0o600
    portal = verifier.verify(mint_person_token(tmp_path, NRN, settings=settings))
    assert (portal.kind, portal.subject, portal.client_id, portal.partner_id) == (
        "person",
        NRN,
        "portal",
        None,
    )
    assert portal.scopes == {"ebox:consultation"} and portal.address == f"citizen:{NRN}"
    partner = verifier.verify(mint_person_token(tmp_path, NRN, "doccle", settings=settings))
    assert (partner.client_id, partner.partner_id) == ("doccle", "doccle")


def test_a_person_token_is_checked_like_any_other(tmp_path: Path) -> None:
    settings = Settings(public_url=URL)
    verifier = PersonTokenVerifier.for_settings(settings, tmp_path)
    issuer = EmbeddedPersonIssuer.load(tmp_path, settings)
    with pytest.raises(TokenExpired):
        verifier.verify(issuer.mint(NRN, ttl=60, now=time.time() - 3600))
    with pytest.raises(WrongAudience):  # an ID token for some app cannot be replayed here
        verifier.verify(issuer.mint(NRN, audience="doccle-app"))
    stranger = EmbeddedPersonIssuer(bytes(32), issuer.issuer, issuer.audience)
    with pytest.raises(BadSignature):
        verifier.verify(stranger.mint(NRN))
    greedy = issuer.mint(NRN, scopes=("ebox:consultation", "ebox:audit", "ebox:publication"))
    assert verifier.verify(greedy).scopes == {"ebox:consultation"}
    for bad in ("12345678901", "5810288221", "abc"):
        with pytest.raises(ValueError):
            issuer.mint(bad)


def test_an_external_provider_replaces_the_embedded_issuer(tmp_path: Path) -> None:
    """A fake identity provider: an RSA key in a JWKS file, rotated without a restart."""
    idp = "https://idp.test/realms/citizens"
    jwks_file = tmp_path / "jwks.json"

    def provider_key() -> tuple[rsa.RSAPrivateKey, str]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = public_jwk_of(key.public_key())
        jwks_file.write_text(json.dumps({"keys": [jwk]}))
        return key, jwk["kid"]

    def idp_token(key: rsa.RSAPrivateKey, kid: str, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": idp,
            "aud": URL,
            "sub": NRN,
            "azp": "portal",
            "scope": "openid ebox:consultation",
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})

    settings = Settings(public_url=URL, oidc_issuer=idp, oidc_jwks_file=str(jwks_file))
    first, first_kid = provider_key()
    verifier = PersonTokenVerifier.for_settings(settings, tmp_path)
    principal = verifier.verify(idp_token(first, first_kid))
    assert (principal.subject, principal.scopes) == (NRN, {"ebox:consultation"})
    assert verifier.verify(idp_token(first, first_kid, sub="pairwise-x", nrn=NRN)).subject == NRN
    with pytest.raises(WrongIssuer):  # the embedded issuer is no longer trusted
        verifier.verify(mint_person_token(tmp_path, NRN, settings=settings))
    second, second_kid = provider_key()  # rotation: the file changes, the verifier follows
    verifier.verify(idp_token(second, second_kid))
    with pytest.raises(BadSignature):
        verifier.verify(idp_token(first, first_kid))
    with pytest.raises(MalformedToken):
        verifier.verify(idp_token(second, second_kid, sub="not-an-nrn"))


# --------------------------------------------------------------------------- client keys


def test_rfc7638_thumbprint_vector() -> None:
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRX"
        "jBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAt"
        "aSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XP"
        "ksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    jwk = {"kty": "RSA", "n": n, "e": "AQAB"}
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert (
        normalise_public_jwk({**jwk, "alg": "RS256"})["kid"]
        == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    )


@pytest.mark.parametrize("alg", ["EdDSA", "RS256"])
def test_generated_keys_hand_out_the_private_half_only_once(alg: str) -> None:
    pair = generate_key(alg)
    assert pair.private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert "PRIVATE" not in repr(pair)
    jwk = pair.public_jwk
    assert jwk["alg"] == alg and jwk["use"] == "sig" and "d" not in jwk
    assert normalise_public_jwk(jwk) == jwk


def test_the_registry_refuses_unfit_keys() -> None:
    ed = generate_key("EdDSA").public_jwk
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    modulus = small.public_numbers().n.to_bytes(128, "big")
    small_jwk = {
        "kty": "RSA",
        "n": base64.urlsafe_b64encode(modulus).decode().rstrip("="),
        "e": "AQAB",
    }
    for bad in (
        {**ed, "d": "c2VjcmV0"},  # private material
        small_jwk,
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "OKP", "crv": "X25519", "x": ed["x"]},
        {**ed, "alg": "RS256"},
        {**ed, "use": "enc"},
        {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
    ):
        with pytest.raises(ClientError):
            normalise_public_jwk(bad)
