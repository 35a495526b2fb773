"""A tiny stdlib client for the API (used by the CLI, tests and benchmarks).

    >>> api = ApiClient(handle.api_url, handle.access_key, handle.secret_key)
    >>> api.call("tasks.get_all", name="^train$")["tasks"]
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request


class ApiCallError(RuntimeError):
    def __init__(self, endpoint: str, code: int, msg: str):
        super().__init__(f"{endpoint} -> {code}: {msg}")
        self.endpoint, self.code, self.msg = endpoint, code, msg


class ApiClient:
    def __init__(self, api_url: str, access_key: str, secret_key: str, timeout: float = 30.0):
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        basic = base64.b64encode(f"{access_key}:{secret_key}".encode()).decode()
        self._basic = f"Basic {basic}"
        self._token: str | None = None

    def _post(self, endpoint: str, payload: dict, auth: str) -> tuple[int, dict]:
        req = urllib.request.Request(f"{self.api_url}/{endpoint}", data=json.dumps(payload).encode(),
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "Authorization": auth})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def login(self) -> str:
        code, body = self._post("auth.login", {}, self._basic)
        if code != 200:
            raise ApiCallError("auth.login", code, (body.get("meta") or {}).get("result_msg", ""))
        self._token = body["data"]["token"]
        return self._token

    def raw(self, endpoint: str, **payload) -> tuple[int, dict]:
        """Return ``(http_status, envelope)`` without raising."""
        if self._token is None:
            self.login()
        return self._post(endpoint, payload, f"Bearer {self._token}")

    def call(self, endpoint: str, **payload):
        """Return ``data`` of a successful call; raise :class:`ApiCallError` otherwise."""
        code, body = self.raw(endpoint, **payload)
        if code != 200:
            raise ApiCallError(endpoint, code, (body.get("meta") or {}).get("result_msg", ""))
        return body.get("data")
