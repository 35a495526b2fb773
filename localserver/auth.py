"""Credentials, HS256 JWT tokens and the ``auth.*`` endpoints.

Access/secret keys are generated on first start and kept in ``<data_dir>/credentials.json``
(mode 0600) together with the token-signing secret. ``auth.login`` takes HTTP Basic
access:secret and returns a JWT whose claims drive the SDK: ``api_version`` selects the
client's service module, ``feature_set`` "basic" keeps it away from enterprise endpoints.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from .core import ApiError, endpoint

API_VERSION = "2.31"
SERVER_VERSION = "2.0.0"
TOKEN_TTL_SEC = 30 * 24 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_encode(claims: dict, key: bytes) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    sig = hmac.new(key, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(sig)}"


def jwt_decode(token: str, key: bytes) -> dict | None:
    """Return the claims of a valid, unexpired token signed with ``key``; otherwise None."""
    try:
        header, payload, sig = token.split(".")
        expected = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(sig)):
            return None
        claims = json.loads(_unb64(payload))
    except (ValueError, TypeError):
        return None
    if claims.get("exp", 0) < time.time():
        return None
    return claims


class Credentials:
    """The server's single access/secret key pair plus the token signing key."""

    def __init__(self, access_key: str, secret_key: str, token_key: str):
        self.access_key = access_key
        self.secret_key = secret_key
        self.token_key = token_key.encode()

    @classmethod
    def load_or_create(cls, data_dir: Path) -> "Credentials":
        path = Path(data_dir) / "credentials.json"
        if path.exists():
            raw = json.loads(path.read_text())
        else:
            raw = {
                "access_key": "LS" + secrets.token_hex(10).upper(),
                "secret_key": secrets.token_urlsafe(36),
                "token_key": secrets.token_hex(32),
            }
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(raw, fh)
            os.replace(tmp, path)
        return cls(raw["access_key"], raw["secret_key"], raw["token_key"])

    def check_basic(self, header: str) -> bool:
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            user, _, pwd = base64.b64decode(header[6:].strip()).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, self.access_key) and hmac.compare_digest(pwd, self.secret_key)

    def issue_token(self, ttl: int = TOKEN_TTL_SEC) -> str:
        now = int(time.time())
        claims = {
            "iat": now,
            "exp": now + int(ttl),
            "identity": {"user": "local-user", "company": "local", "role": "user"},
            "api_version": API_VERSION,
            "server_version": SERVER_VERSION,
            "feature_set": "basic",
            "env": "local",
        }
        return jwt_encode(claims, self.token_key)

    def check_bearer(self, header: str) -> bool:
        if not header or not header.lower().startswith("bearer "):
            return False
        return jwt_decode(header[7:].strip(), self.token_key) is not None


@endpoint("auth.login")
def login(ctx, body):
    # Credentials are verified by the transport before dispatch (Basic or a valid token).
    ttl = body.get("expiration_sec") or TOKEN_TTL_SEC
    try:
        ttl = max(60, min(int(ttl), TOKEN_TTL_SEC))
    except (TypeError, ValueError):
        raise ApiError(400, "expiration_sec must be an integer")
    return {"token": ctx.extra["credentials"].issue_token(ttl)}


@endpoint("users.get_current_user")
def current_user(ctx, body):
    return {"user": {"id": ctx.user, "name": "Local User", "company": {"id": ctx.company, "name": "local"},
                     "role": "user", "preferences": {}}, "getting_started": {}}


@endpoint("users.get_preferences")
def preferences(ctx, body):
    return {"preferences": {}}


@endpoint("server.info")
def server_info(ctx, body):
    return {"version": SERVER_VERSION, "api_version": API_VERSION, "build": "local", "commit": "", "uid": "local"}
