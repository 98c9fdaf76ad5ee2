"""gpuplane: a Python client for the gpuplane GPU cloud API (standard library only, Python >= 3.9).

    import gpuplane
    client = gpuplane.Client("http://localhost:8080", api_key="gpk_...")
    instance = client.instances.create("GPU.A100.1x", ssh_key_ids=[key["id"]])
    instance = client.instances.wait(instance["id"])
    print(instance["sshCommand"])
"""

from typing import Any, Dict, Optional

from . import types
from .client import Transport, __version__, new_idempotency_key
from .errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GpuplaneError,
    InstanceStateError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    WaitTimeoutError,
)
from .resources import (
    ApiKeys,
    Billing,
    Deployments,
    Images,
    Instances,
    Jobs,
    Offers,
    SshKeys,
    Volumes,
    Waitlist,
    Webhooks,
)
from .webhooks import WebhookVerificationError, verify_webhook


class Client:
    """One server, one key. Resources: instances, deployments, offers, images, ssh_keys, volumes, waitlist,
    billing, api_keys, webhooks, jobs. `request()` reaches any other route of the API."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        auth_header: str = "x-api-key",
        max_retries: int = 3,
        backoff_seconds: float = 0.25,
        timeout_seconds: float = 60.0,
    ) -> None:
        self.transport = Transport(
            base_url,
            api_key=api_key,
            auth_header=auth_header,
            max_retries=max_retries,
            backoff_seconds=backoff_seconds,
            timeout_seconds=timeout_seconds,
        )
        self.instances = Instances(self.transport)
        self.deployments = Deployments(self.transport)
        self.offers = Offers(self.transport)
        self.images = Images(self.transport)
        self.ssh_keys = SshKeys(self.transport)
        self.volumes = Volumes(self.transport)
        self.waitlist = Waitlist(self.transport)
        self.billing = Billing(self.transport)
        self.api_keys = ApiKeys(self.transport)
        self.webhooks = Webhooks(self.transport)
        self.jobs = Jobs(self.transport)

    def whoami(self) -> types.Whoami:
        return self.transport.data("GET", "/api/v1/auth/whoami")  # type: ignore[no-any-return]

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any route: returns the envelope's data. kwargs: params, json_body, idempotency_key."""
        return self.transport.data(method, path, **kwargs)

    @staticmethod
    def register(base_url: str, email: str, password: str, name: Optional[str] = None) -> Dict[str, Any]:
        """Signs up: returns {"tenant": ..., "api_key": {"key": ...}} (the key is shown once)."""
        body = {"email": email, "password": password}
        if name:
            body["name"] = name
        return Transport(base_url).data("POST", "/api/v1/auth/register", json_body=body)  # type: ignore[no-any-return]


__all__ = [
    "APIConnectionError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "GpuplaneError",
    "InstanceStateError",
    "InsufficientCreditsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "Transport",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "__version__",
    "new_idempotency_key",
    "types",
    "verify_webhook",
]
