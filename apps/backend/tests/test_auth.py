"""Bearer JWT verification: every way a token can be wrong, and the JWKS cache."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import httpx
import jwt
import pytest

from app.core.security import AuthError, AuthUnavailable, JwksCache, TokenVerifier
from tests.conftest import make_settings
from tests.servers import FakeLLM, JwksServer, RunningApp, SigningKey


def tasks_url(user_id: str) -> str:
    return f"/api/{user_id}/tasks"


def assert_401(response: httpx.Response, detail: str) -> None:
    assert response.status_code == 401, response.text
    assert detail in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_valid_token_is_accepted(api: httpx.Client, user_id: str, jwks: JwksServer) -> None:
    assert api.get(tasks_url(user_id), headers=jwks.auth(user_id)).status_code == 200


def test_missing_or_malformed_authorization_header(api: httpx.Client, user_id: str) -> None:
    assert_401(api.get(tasks_url(user_id)), "missing Authorization header")
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": "Basic dXNlcjpwYXNz"}), "Bearer <token>")
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": "Bearer"}), "Bearer <token>")
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": "Bearer not.a.jwt"}), "malformed")


def test_expired_token(api: httpx.Client, user_id: str, jwks: JwksServer) -> None:
    expired = jwks.token(user_id, lifetime=-60)
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {expired}"}), "expired")


def test_wrong_audience_and_issuer(api: httpx.Client, user_id: str, jwks: JwksServer) -> None:
    wrong_aud = jwks.token(user_id, aud="someone-else")
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {wrong_aud}"}), "audience")
    wrong_iss = jwks.token(user_id, iss="https://evil.example")
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {wrong_iss}"}), "issuer")


def test_required_claims(api: httpx.Client, user_id: str, jwks: JwksServer) -> None:
    for claim in ("exp", "aud", "iss"):
        token = jwks.token(user_id, **{claim: None})
        assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {token}"}), claim)
    no_sub = jwks.token(None)
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {no_sub}"}), "sub")


def test_forged_signature(api: httpx.Client, user_id: str, jwks: JwksServer) -> None:
    # Signed by an attacker's key that claims the real key's kid.
    impostor = SigningKey(kid=jwks.keys[0].kid)
    forged = jwks.token(user_id, key=impostor)
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {forged}"}), "signature")

    # A valid token whose payload was edited to another user.
    header, payload, signature = jwks.token(user_id).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{edited}.{signature}"
    response = api.get(tasks_url("someone-else"), headers={"Authorization": f"Bearer {tampered}"})
    assert_401(response, "signature")


def test_no_hs256_and_no_alg_none(api: httpx.Client, user_id: str, jwks: JwksServer) -> None:
    kid = jwks.keys[0].kid
    now = int(time.time())
    claims = {"sub": user_id, "iss": jwks.issuer, "aud": jwks.audience, "exp": now + 600}
    # Classic algorithm confusion: HMAC keyed with the public key's bytes.
    public_x = jwks.keys[0].jwk()["x"]
    hs256 = jwt.encode(claims, public_x.encode() * 2, algorithm="HS256", headers={"kid": kid})
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {hs256}"}), "'HS256' is not accepted")
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {unsigned}"}), "not accepted")


def test_kid_is_required_and_never_guessed(api: httpx.Client, user_id: str, jwks: JwksServer) -> None:
    now = int(time.time())
    claims = {"sub": user_id, "iss": jwks.issuer, "aud": jwks.audience, "exp": now + 600}
    # Validly signed by the only published key, but without a kid: no "first key" fallback.
    no_kid = jwt.encode(claims, jwks.keys[0].private, algorithm="EdDSA")
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {no_kid}"}), "no kid")
    stranger = SigningKey(kid="not-published")
    unknown = jwks.token(user_id, key=stranger)
    assert_401(api.get(tasks_url(user_id), headers={"Authorization": f"Bearer {unknown}"}), "unknown key")


# ---- the JWKS cache, against the real local JWKS server -------------------------------


async def _verify_with(jwks: JwksServer, tokens: list[str], **cache_options: float) -> tuple[list[str], int]:
    """Verify tokens in order with one cache; return outcomes and how often the JWKS was fetched."""
    outcomes = []
    async with httpx.AsyncClient() as client:
        cache = JwksCache(f"{jwks.url}/api/auth/jwks", client, **cache_options)
        verifier = TokenVerifier(cache, issuer=jwks.issuer, audience=jwks.audience)
        for token in tokens:
            try:
                outcomes.append((await verifier.verify(token)).user_id)
            except AuthError as error:
                outcomes.append(f"401: {error}")
            except AuthUnavailable as error:
                outcomes.append(f"503: {error}")
        return outcomes, cache.fetch_count


def test_keys_are_cached(jwks: JwksServer) -> None:
    tokens = [jwks.token("u1"), jwks.token("u2"), jwks.token("u3")]
    outcomes, fetches = asyncio.run(_verify_with(jwks, tokens))
    assert outcomes == ["u1", "u2", "u3"]
    assert fetches == 1


def test_unknown_kid_refetches_after_rotation(jwks: JwksServer) -> None:
    async def scenario() -> tuple[list[str], int]:
        outcomes = []
        async with httpx.AsyncClient() as client:
            cache = JwksCache(f"{jwks.url}/api/auth/jwks", client, refresh_min_interval=0.2)
            verifier = TokenVerifier(cache, issuer=jwks.issuer, audience=jwks.audience)
            outcomes.append((await verifier.verify(jwks.token("before"))).user_id)
            new_key = jwks.rotate()
            await asyncio.sleep(0.3)
            outcomes.append((await verifier.verify(jwks.token("after", key=new_key))).user_id)
            return outcomes, cache.fetch_count

    try:
        outcomes, fetches = asyncio.run(scenario())
    finally:
        del jwks.keys[1:]
    assert outcomes == ["before", "after"]
    assert fetches == 2


def test_unknown_kids_are_rate_limited(jwks: JwksServer) -> None:
    strangers = [jwks.token("x", key=SigningKey(kid=f"forged-{n}")) for n in range(20)]
    outcomes, fetches = asyncio.run(_verify_with(jwks, strangers, refresh_min_interval=60))
    assert all(outcome == "401: token signed with an unknown key" for outcome in outcomes)
    # One fetch on first use; the 19 other unknown kids do not reach the JWKS endpoint.
    assert fetches == 1


def test_jwks_unreachable_is_503_not_401(jwks: JwksServer) -> None:
    jwks.failing = True
    outcomes, _ = asyncio.run(_verify_with(jwks, [jwks.token("u1")]))
    assert outcomes[0].startswith("503: cannot fetch signing keys from")


def test_known_keys_survive_a_jwks_outage(jwks: JwksServer) -> None:
    async def scenario() -> list[str]:
        async with httpx.AsyncClient() as client:
            cache = JwksCache(f"{jwks.url}/api/auth/jwks", client, refresh_min_interval=0, max_age=0.1)
            verifier = TokenVerifier(cache, issuer=jwks.issuer, audience=jwks.audience)
            first = (await verifier.verify(jwks.token("u1"))).user_id
            jwks.failing = True
            await asyncio.sleep(0.2)  # cache is now stale; the refetch fails
            second = (await verifier.verify(jwks.token("u2"))).user_id
            return [first, second]

    assert asyncio.run(scenario()) == ["u1", "u2"]


@pytest.mark.parametrize(
    "document",
    [
        {"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]},
        {"keys": "nope"},
        [],
    ],
)
def test_unusable_jwks_entries_are_ignored(document: object) -> None:
    from app.core.security import _ed25519_keys

    assert _ed25519_keys(document) == {}


def test_jwks_down_at_first_use_is_503_over_http(
    database_url: str, jwks: JwksServer, llm: FakeLLM, user_id: str
) -> None:
    jwks.failing = True
    app = RunningApp(make_settings(database_url, jwks, llm)).start()
    try:
        response = httpx.get(f"{app.url}/api/{user_id}/tasks", headers=jwks.auth(user_id), timeout=30)
    finally:
        app.stop()
    assert response.status_code == 503
    assert response.json()["detail"].startswith(
        f"authentication is unavailable: cannot fetch signing keys from {jwks.url}"
    )
