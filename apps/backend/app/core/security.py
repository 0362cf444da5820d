"""Verification of Better Auth JWTs (EdDSA / Ed25519) against the frontend's JWKS.

Only EdDSA is accepted: no HS256 fallback with a shared secret, and a token
must name its key (`kid`) - a key is never guessed ("first key" fallback).
Keys are cached; an unknown `kid` triggers a refetch (key rotation), but at
most once per `refresh_min_interval` so forged kids cannot hammer the frontend.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
# Clock skew tolerated on exp/iat/nbf between frontend and backend.
LEEWAY_SECONDS = 5
FETCH_TIMEOUT_SECONDS = 5


class AuthError(Exception):
    """The request is not authenticated; answered with 401 and this message."""


class AuthUnavailable(Exception):
    """The signing keys cannot be fetched; answered with 503 and this message."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    claims: dict[str, Any]


class JwksCache:
    """Ed25519 public keys by kid, fetched from the JWKS URL on demand."""

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        refresh_min_interval: float = 10.0,
        max_age: float = 600.0,
    ) -> None:
        self.url = url
        self._client = client
        self._refresh_min_interval = refresh_min_interval
        self._max_age = max_age
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._last_error: str | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    async def key(self, kid: str) -> jwt.PyJWK:
        if not self._usable(kid):
            async with self._lock:
                # Another request may have refreshed while this one waited.
                if not self._usable(kid) and self._may_refresh():
                    await self._refresh()
        key = self._keys.get(kid)
        if key is not None:
            return key
        if not self._keys and self._last_error:
            raise AuthUnavailable(f"cannot fetch signing keys from {self.url}: {self._last_error}")
        raise AuthError("token signed with an unknown key")

    def _usable(self, kid: str) -> bool:
        fresh = self._fetched_at is not None and time.monotonic() - self._fetched_at < self._max_age
        return fresh and kid in self._keys

    def _may_refresh(self) -> bool:
        return self._attempted_at is None or time.monotonic() - self._attempted_at >= self._refresh_min_interval

    async def _refresh(self) -> None:
        self.fetch_count += 1
        self._attempted_at = time.monotonic()
        try:
            response = await self._client.get(self.url, timeout=FETCH_TIMEOUT_SECONDS)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            # Keys already known stay in use until the JWKS answers again.
            self._last_error = str(error) or type(error).__name__
            log.warning("jwks fetch failed", extra={"url": self.url, "error": self._last_error})
            return
        self._keys = _ed25519_keys(document)
        self._fetched_at = time.monotonic()
        self._last_error = None
        log.info("jwks refreshed", extra={"url": self.url, "kids": sorted(self._keys)})


def _ed25519_keys(document: Any) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        log.warning("jwks document has no keys list")
        return keys
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519" or not isinstance(kid, str):
            log.warning("jwks key skipped: not an Ed25519 key with a kid", extra={"kid": kid})
            continue
        try:
            keys[kid] = jwt.PyJWK(entry, algorithm=ALGORITHM)
        except jwt.PyJWTError as error:
            log.warning("jwks key skipped", extra={"kid": kid, "error": str(error)})
    return keys


class TokenVerifier:
    def __init__(self, jwks: JwksCache, *, issuer: str, audience: str) -> None:
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("malformed bearer token") from None
        if header.get("alg") != ALGORITHM:
            raise AuthError(f"token algorithm {header.get('alg')!r} is not accepted (only {ALGORITHM})")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token header has no kid")
        key = await self.jwks.key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                audience=self.audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(f"token audience is not {self.audience!r}") from None
        except jwt.InvalidIssuerError:
            raise AuthError(f"token issuer is not {self.issuer!r}") from None
        except jwt.InvalidSignatureError:
            raise AuthError("token signature is invalid") from None
        except jwt.PyJWTError as error:
            raise AuthError(f"invalid token: {error}") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthError("token has no subject")
        return Principal(user_id=subject, claims=claims)


def bearer_token(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer ...` header value."""
    if not authorization:
        raise AuthError("missing Authorization header (expected: Bearer <token>)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header must be: Bearer <token>")
    return token.strip()
