"""Bearer tokens of an OpenID Connect issuer: the services as a resource server (ADR 0013).

The issuer's discovery document (``<issuer>/.well-known/openid-configuration``) names its JWKS;
PyJWT's :class:`jwt.PyJWKClient` fetches and parses that key set, and :class:`IssuerKeys` keeps
the usable keys by ``kid`` so that verifying a token needs no I/O. The set is fetched again

- when a token names a ``kid`` not in it (the provider rotated its key), at most once per
  ``GRADELINE_OIDC_JWKS_REFETCH_SECONDS``, so tokens with made-up key ids cannot make every
  request a fetch from the provider;
- when it is older than :data:`KEYS_MAX_AGE_SECONDS`, so a key the provider withdrew stops
  being trusted. A failed refresh keeps the known keys (an outage of the provider does not sign
  everyone out); a token whose key cannot be fetched at all is :class:`KeysUnavailable` (503).

Fetching is blocking (urllib, in PyJWT) and runs in a worker thread, never on the event loop.
Only RS256 and ES256 are taken, whatever the token's header or the key set say; ``iss``, ``aud``,
``exp`` and ``nbf`` are checked with :data:`LEEWAY_SECONDS` for clocks that disagree a little.
Who the caller is comes from ``GRADELINE_OIDC_SUBJECT_CLAIM`` (``sub`` by default), its roles,
branch and department from their own claim settings (:class:`ClaimPaths`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

import jwt
import structlog

ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 30
KEYS_MAX_AGE_SECONDS = 300.0
FETCH_TIMEOUT_SECONDS = 5.0

log = structlog.get_logger(__name__)


class TokenRejected(Exception):
    """The token is not the issuer's, or not for us; the message is safe to show the caller."""


class KeysUnavailable(Exception):
    """The issuer's keys cannot be fetched: a token cannot be checked (not the caller's fault)."""


@dataclass(frozen=True, slots=True)
class ClaimPaths:
    """Where the roles, branch, department and the caller's id sit in a token (dotted paths,
    settings)."""

    roles: str = "roles"
    branch: str = "branch_id"
    department: str = "department"
    subject: str = "sub"


@dataclass(frozen=True, slots=True)
class Identity:
    sub: str
    roles: frozenset[str]
    branch_id: str | None
    department: str | None


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` in ``claims``, None when absent. A name that is itself a claim is
    taken whole (namespaced claims such as ``https://example.com/roles`` hold dots); otherwise
    each dot reaches into a nested object (``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for name in path.split("."):
        if not isinstance(value, Mapping) or name not in value:
            return None
        value = value[name]
    return value


def read_identity(claims: Mapping[str, Any], paths: ClaimPaths) -> Identity:
    """Who the token names, from the claims at ``paths``; TokenRejected naming the claim that is
    absent or malformed. Absent roles are no roles (the caller is then refused with 403 on every
    route); an absent subject refuses the token."""
    sub = _single_text(claims, paths.subject)
    if sub is None:
        raise TokenRejected(f"token lacks the {paths.subject!r} claim")
    roles = claim_at(claims, paths.roles)
    if roles is None:
        roles = []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise TokenRejected(f"token claim {paths.roles!r} is not a list of role names")
    return Identity(
        sub=sub,
        roles=frozenset(roles),
        branch_id=_single_text(claims, paths.branch),
        department=_single_text(claims, paths.department),
    )


def _single_text(claims: Mapping[str, Any], path: str) -> str | None:
    # A user attribute mapped into a token may arrive as a one-element list (Keycloak's
    # multivalued attributes): that one value is meant.
    value = claim_at(claims, path)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None or isinstance(value, str):
        return value or None
    raise TokenRejected(f"token claim {path!r} is not a single text value")


def _get_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as answer:
        return json.load(answer)


class IssuerKeys:
    """The issuer's signing keys by ``kid``; see the module docstring for when they are fetched.

    ``lookup`` never does I/O; ``fetch`` does (call it in a thread). ``clock`` and ``get_json``
    are for tests."""

    def __init__(
        self,
        issuer: str,
        refetch_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        get_json: Callable[[str], Any] = _get_json,
    ) -> None:
        self.issuer = issuer
        self.refetch_seconds = refetch_seconds
        self._clock = clock
        self._get_json = get_json
        self._client: jwt.PyJWKClient | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._lock = threading.Lock()

    def lookup(self, kid: str) -> jwt.PyJWK | None:
        """The key ``kid`` when known and the set is fresh; None means: fetch first, if allowed."""
        if self._fetched_at is None or self._clock() - self._fetched_at > KEYS_MAX_AGE_SECONDS:
            return None
        return self._keys.get(kid)

    def may_fetch(self, kid: str) -> bool:
        """Whether a fetch for ``kid`` is due: never fetched, set too old, or an unknown kid and
        the last attempt at least ``refetch_seconds`` ago."""
        if self._tried_at is None:
            return True
        since = self._clock() - self._tried_at
        if self._fetched_at is None or self._clock() - self._fetched_at > KEYS_MAX_AGE_SECONDS:
            return since >= min(self.refetch_seconds, KEYS_MAX_AGE_SECONDS)
        return kid not in self._keys and since >= self.refetch_seconds

    def ever_fetched(self) -> bool:
        return self._fetched_at is not None

    def known(self, kid: str) -> jwt.PyJWK | None:
        """The key ``kid`` if the set holds it, however old the set (after a failed refresh)."""
        return self._keys.get(kid)

    def fetch(self, kid: str) -> jwt.PyJWK | None:
        """Fetch the key set (blocking) unless another thread just did, then look ``kid`` up.
        KeysUnavailable when the provider cannot be asked and the set has no such key."""
        with self._lock:
            if self.lookup(kid) is None and self.may_fetch(kid):
                self._tried_at = self._clock()
                try:
                    self._refresh()
                except KeysUnavailable as exc:
                    log.warning("oidc_keys_unavailable", issuer=self.issuer, reason=str(exc))
                    if kid not in self._keys:
                        raise
            return self._keys.get(kid)

    def _refresh(self) -> None:
        client = self._client or self._discover()
        try:
            keys = client.get_signing_keys(refresh=True)
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailable(f"the issuer's key set cannot be fetched ({exc})") from exc
        except jwt.PyJWKClientError as exc:  # not JSON, or no usable signing key
            raise KeysUnavailable(f"the issuer's key set is unusable ({exc})") from exc
        usable = {k.key_id: k for k in keys if k.key_id and k.algorithm_name in ALGORITHMS}
        if not usable:
            raise KeysUnavailable("the issuer's key set holds no RS256 or ES256 signing key")
        self._keys = usable
        self._fetched_at = self._clock()
        log.info("oidc_keys_fetched", issuer=self.issuer, kids=sorted(usable))

    def _discover(self) -> jwt.PyJWKClient:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            document = self._get_json(url)
        except (URLError, OSError, ValueError) as exc:
            raise KeysUnavailable(f"the issuer's discovery document {url} failed: {exc}") from exc
        if not isinstance(document, dict) or document.get("issuer") != self.issuer:
            named = document.get("issuer") if isinstance(document, dict) else None
            raise KeysUnavailable(f"discovery at {url} names issuer {named!r}, not {self.issuer!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise KeysUnavailable(f"discovery at {url} names no jwks_uri")
        self._client = jwt.PyJWKClient(jwks_uri, timeout=FETCH_TIMEOUT_SECONDS)
        return self._client


class IssuerVerifier:
    """Verifies tokens of one issuer for one audience."""

    def __init__(self, keys: IssuerKeys, audience: str, paths: ClaimPaths) -> None:
        self.keys = keys
        self.audience = audience
        self.paths = paths
        # ``sub`` is required when it names the caller; with the subject mapped elsewhere, the
        # mapped claim is (read_identity), and a token without ``sub`` is taken.
        self.required = ["exp", "iss", "aud", *(["sub"] if paths.subject == "sub" else [])]

    async def verify(self, token: str) -> tuple[Identity, float]:
        """The identity the token proves and its expiry (epoch seconds), or TokenRejected /
        KeysUnavailable."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenRejected("token is invalid") from exc
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str) or not kid:
            raise TokenRejected("token is invalid")
        key = self.keys.lookup(kid)
        if key is None and self.keys.may_fetch(kid):
            key = await asyncio.to_thread(self.keys.fetch, kid)
        key = key or self.keys.known(kid)
        if key is None and not self.keys.ever_fetched():
            raise KeysUnavailable("the issuer's key set has not been fetched yet (retrying)")
        if key is None:
            raise TokenRejected("token is signed by a key the issuer does not publish")
        claims = self._decode(token, key)
        return read_identity(claims, self.paths), float(claims["exp"])

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self.keys.issuer,
                audience=self.audience,
                leeway=LEEWAY_SECONDS,
                options={"require": self.required},
            )
        except jwt.ImmatureSignatureError as exc:  # nbf (or iat) ahead, beyond the leeway
            raise TokenRejected("token is not valid yet") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(refusal(exc)) from exc


def refusal(exc: jwt.InvalidTokenError) -> str:
    """What the caller is told of a token PyJWT refused: the check it failed, or, for a bad
    signature, algorithm or shape, one answer (no oracle for attackers)."""
    match exc:
        case jwt.ExpiredSignatureError():
            return "token expired"
        case jwt.MissingRequiredClaimError():
            return f"token lacks the {exc.claim!r} claim"
        case jwt.InvalidIssuerError():
            return "token is not from the configured issuer"
        case jwt.InvalidAudienceError():
            return "token is not for this audience"
    return "token is invalid"


# One key set per issuer and one verifier per configuration in a process: every app (and test)
# configured alike shares the fetched keys.
_KEYS: dict[tuple[str, float], IssuerKeys] = {}
_VERIFIERS: dict[tuple[str, str, float, ClaimPaths], IssuerVerifier] = {}


def verifier_for(
    issuer: str, audience: str, paths: ClaimPaths, refetch_seconds: float
) -> IssuerVerifier:
    key = (issuer, audience, refetch_seconds, paths)
    verifier = _VERIFIERS.get(key)
    if verifier is None:
        keys = _KEYS.setdefault((issuer, refetch_seconds), IssuerKeys(issuer, refetch_seconds))
        verifier = _VERIFIERS[key] = IssuerVerifier(keys, audience, paths)
    return verifier
