"""Typed exceptions: one class per error a caller branches on, each with the server's code, message and request id."""

from typing import Any, Dict, Optional


class GpuplaneError(Exception):
    """The API answered with an error: `status`, `code` (BAD_REQUEST, NOT_FOUND, ...), `message`, `request_id`."""

    def __init__(
        self,
        message: str,
        status: int,
        code: str,
        request_id: Optional[str],
        details: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details = details or {}

    def __str__(self) -> str:
        rid = f", request id {self.request_id}" if self.request_id else ""
        return f"{self.message} ({self.code}{rid})"


class BadRequestError(GpuplaneError):
    pass


class AuthenticationError(GpuplaneError):
    pass


class InsufficientCreditsError(GpuplaneError):
    pass


class PermissionDeniedError(GpuplaneError):
    pass


class NotFoundError(GpuplaneError):
    pass


class ConflictError(GpuplaneError):
    pass


class RateLimitedError(GpuplaneError):
    pass


class ServerError(GpuplaneError):
    pass


class APIConnectionError(Exception):
    """No answer came back (refused, reset, timed out), after the client's own retries."""


class WaitTimeoutError(Exception):
    """`instances.wait` ran out of time before the instance reached the wanted state."""

    def __init__(self, message: str, last_status: Optional[str]) -> None:
        super().__init__(message)
        self.last_status = last_status


class InstanceStateError(Exception):
    """`instances.wait` ended because the instance reached a state it cannot leave (failed, deleted)."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


_BY_STATUS = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ConflictError,
    429: RateLimitedError,
}


def error_from_response(status: int, body: bytes, request_id_header: Optional[str]) -> GpuplaneError:
    """The typed exception for an error answer, from the API's `{code, error, request_id, ...}` body."""
    import json

    parsed: Dict[str, Any] = {}
    try:
        value = json.loads(body.decode("utf-8"))
        if isinstance(value, dict):
            parsed = value
    except ValueError:
        pass  # not the API's envelope (a proxy's HTML page): the status and the start of the text stand in
    code = parsed.pop("code", None)
    message = parsed.pop("error", None)
    request_id = parsed.pop("request_id", None) or request_id_header
    if not isinstance(message, str):
        message = f"HTTP {status} {body[:200].decode('utf-8', 'replace')}".strip()
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else GpuplaneError)
    return cls(message, status, code if isinstance(code, str) else f"HTTP_{status}", request_id, parsed)
