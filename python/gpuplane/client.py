"""The HTTP core: auth headers, JSON envelope, typed errors, retries with idempotency keys, cursor pages.

Standard library only (urllib), so `pip install` works anywhere, with no package index needed.
"""

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Dict, Iterator, Mapping, Optional

from .errors import APIConnectionError, error_from_response

__version__ = "0.1.0"

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_BY_KEY = frozenset({"POST", "DELETE"})


def new_idempotency_key() -> str:
    return f"gp-{uuid.uuid4()}"


class Transport:
    """Sends requests to one server with one key; every resource of the Client goes through `request`."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        auth_header: str = "x-api-key",
        max_retries: int = 3,
        backoff_seconds: float = 0.25,
        max_backoff_seconds: float = 20.0,
        timeout_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if auth_header not in ("x-api-key", "bearer"):
            raise ValueError('auth_header is "x-api-key" or "bearer"')
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.auth_header = auth_header
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.timeout_seconds = timeout_seconds
        self._sleep = sleep

    def _headers(self, idempotency_key: Optional[str], has_body: bool) -> Dict[str, str]:
        headers = {"accept": "application/json", "user-agent": f"gpuplane-python/{__version__}"}
        if has_body:
            headers["content-type"] = "application/json"
        if self.api_key:
            if self.auth_header == "bearer":
                headers["authorization"] = f"Bearer {self.api_key}"
            else:
                headers["x-api-key"] = self.api_key
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        return headers

    def request(
        self,
        method: str,
        path: str,
        params: Optional[Mapping[str, Any]] = None,
        json_body: Any = None,
        idempotency_key: Optional[str] = None,
    ) -> Any:
        """One API call; returns the whole decoded JSON body (`{"code": "OK", "data": ..., "meta": ...}`).

        POST and DELETE get an Idempotency-Key (yours, or a new one) that every retry reuses, so a create whose
        answer was lost is done once. 429 (after Retry-After), 502, 503, 504 and connection errors are retried.
        """
        method = method.upper()
        if method in IDEMPOTENT_BY_KEY and idempotency_key is None:
            idempotency_key = new_idempotency_key()
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        url = self.base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if json_body is None else json.dumps(json_body).encode("utf-8")
        headers = self._headers(idempotency_key, data is not None)
        attempt = 0
        while True:
            backoff = min(self.max_backoff_seconds, self.backoff_seconds * 2**attempt) * (0.5 + random.random() / 2)
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_seconds) as res:
                    body = res.read()
                    return json.loads(body.decode("utf-8")) if body else None
            except urllib.error.HTTPError as error:
                body = error.read()
                if error.code in RETRY_STATUSES and attempt < self.max_retries:
                    wait = _retry_after(error.headers.get("retry-after"))
                    self._sleep(min(self.max_backoff_seconds, backoff if wait is None else wait))
                    attempt += 1
                    continue
                raise error_from_response(error.code, body, error.headers.get("x-request-id")) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
                if attempt < self.max_retries:
                    self._sleep(backoff)
                    attempt += 1
                    continue
                raise APIConnectionError(f"{method} {url}: {error}") from error

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        """The `data` of the envelope."""
        body = self.request(method, path, **kwargs)
        return body.get("data") if isinstance(body, dict) and "data" in body else body

    def paginate(self, path: str, params: Optional[Mapping[str, Any]] = None, page_size: int = 100) -> Iterator[Any]:
        """Every item of a list, following `meta.cursor` page by page (a page is fetched only when needed)."""
        query = dict(params or {})
        query.setdefault("limit", page_size)
        cursor: Optional[str] = None
        while True:
            body = self.request("GET", path, params={**query, "cursor": cursor})
            yield from body.get("data") or []
            meta = body.get("meta") or {}
            cursor = meta.get("cursor")
            if not meta.get("has_more") or not cursor:
                return


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
