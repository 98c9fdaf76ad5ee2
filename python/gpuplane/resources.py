"""The customer (and operator) API by resource: `client.instances.create(...)`, `client.ssh_keys.list()`, ...

Each method returns the envelope's `data`, typed with the TypedDicts of gpuplane.types (generated from the
API's OpenAPI document). `list()` returns every item (following cursors); `iter()` yields them page by page.
"""

import time
from typing import Any, Callable, Dict, Iterator, List, Optional, cast
from urllib.parse import quote

from . import types as t
from .client import Transport
from .errors import InstanceStateError, WaitTimeoutError


def _path(template: str, *ids: Any) -> str:
    return template.format(*(quote(str(i), safe="") for i in ids))


def _clean(body: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


class _Resource:
    base = ""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def iter(self, **params: Any) -> Iterator[Any]:
        return self._t.paginate(self.base, params)

    def list(self, **params: Any) -> List[Any]:
        return list(self.iter(**params))

    def get(self, id: Any) -> Any:
        return self._t.data("GET", _path(self.base + "/{}", id))

    def delete(self, id: Any, idempotency_key: Optional[str] = None) -> Any:
        return self._t.data("DELETE", _path(self.base + "/{}", id), idempotency_key=idempotency_key)

    def _create(self, body: Dict[str, Any], idempotency_key: Optional[str]) -> Any:
        return self._t.data("POST", self.base, json_body=_clean(body), idempotency_key=idempotency_key)


TERMINAL = ("failed", "deleted")


class Instances(_Resource):
    base = "/api/v1/instances"

    def create(
        self,
        plan_id: str,
        template_slug: str = "pytorch-cuda",
        name: Optional[str] = None,
        region: Optional[str] = None,
        ssh_key_ids: Optional[List[str]] = None,
        volume_ids: Optional[List[str]] = None,
        idempotency_key: Optional[str] = None,
    ) -> t.Instance:
        """Launch an instance. Without `ssh_key_ids` every SSH key of the account is installed, as the CLI does."""
        if ssh_key_ids is None:
            ssh_key_ids = [key["id"] for key in self._t.paginate("/api/v1/ssh-keys")]
        body = {
            "name": name or f"gpu-{int(time.time())}",
            "planId": plan_id,
            "templateSlug": template_slug,
            "region": region,
            "sshKeyIds": ssh_key_ids,
            "volumeIds": volume_ids,
        }
        return cast(t.Instance, self._create(body, idempotency_key))

    def get(self, id: str) -> t.Instance:
        return cast(t.Instance, super().get(id))

    def stop(self, id: str) -> t.Instance:
        return cast(t.Instance, self._t.data("POST", _path(self.base + "/{}/stop", id)))

    def start(self, id: str) -> t.Instance:
        return cast(t.Instance, self._t.data("POST", _path(self.base + "/{}/start", id)))

    def wait(
        self,
        id: str,
        until: str = "running",
        timeout_seconds: float = 600,
        interval_seconds: float = 2,
        on_change: Optional[Callable[[t.Instance], None]] = None,
    ) -> t.Instance:
        """Polls until the instance is `until`; calls `on_change` on every status change.

        Raises InstanceStateError when it fails or is deleted instead, WaitTimeoutError when time runs out.
        """
        deadline = time.monotonic() + timeout_seconds
        last: Optional[str] = None
        while True:
            instance = self.get(id)
            status = instance["status"]
            if status != last:
                last = status
                if on_change:
                    on_change(instance)
            if status == until:
                return instance
            if status in TERMINAL:
                reason = f" ({instance['statusReason']})" if instance.get("statusReason") else ""
                raise InstanceStateError(f"instance {id} is {status}{reason}, not {until}", status)
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(f"instance {id} is still {status} after {timeout_seconds}s", last)
            time.sleep(min(interval_seconds, left))


class Deployments(_Resource):
    """Seed 001's names for instances: cluster deployments (`1H100.80S.30V`)."""

    base = "/api/v1/deployments"

    def create(
        self,
        cluster_type: str,
        image: str,
        hostname: str,
        ssh_key_ids: List[str],
        location: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> t.Deployment:
        body = {
            "cluster_type": cluster_type,
            "image": image,
            "hostname": hostname,
            "ssh_key_ids": ssh_key_ids,
            "location": location,
        }
        data = self._t.data(
            "POST", "/api/v1/deployments/clusters", json_body=_clean(body), idempotency_key=idempotency_key
        )
        return cast(t.Deployment, data)


class Offers(_Resource):
    base = "/api/v1/offers"

    def list(self, **params: Any) -> List[t.Offer]:  # type: ignore[override]
        return cast(List[t.Offer], self._t.data("GET", self.base, params=params))


class Images(_Resource):
    base = "/api/v1/images"

    def list(self, **params: Any) -> List[t.Image]:  # type: ignore[override]
        return cast(List[t.Image], self._t.data("GET", self.base, params=params))


class SshKeys(_Resource):
    base = "/api/v1/ssh-keys"

    def create(self, name: str, public_key: str, idempotency_key: Optional[str] = None) -> t.SshKey:
        return cast(t.SshKey, self._create({"name": name, "public_key": public_key}, idempotency_key))


class Volumes(_Resource):
    base = "/api/v1/volumes"

    def create(
        self,
        name: str,
        size_gb: int,
        region: str,
        type: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> t.Volume:
        body = {"name": name, "size_gb": size_gb, "region": region, "type": type}
        return cast(t.Volume, self._create(body, idempotency_key))


class Waitlist(_Resource):
    base = "/api/v1/waitlist"

    def join(
        self,
        cluster_type: Optional[str] = None,
        plan_id: Optional[str] = None,
        region: Optional[str] = None,
        mode: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> t.WaitlistEntry:
        body = {"cluster_type": cluster_type, "plan_id": plan_id, "region": region, "mode": mode}
        return cast(t.WaitlistEntry, self._create(body, idempotency_key))

    def leave(self, id: str) -> t.WaitlistEntry:
        return cast(t.WaitlistEntry, self.delete(id))


class ApiKeys(_Resource):
    base = "/api/v1/api-keys"

    def create(
        self,
        label: str,
        permissions: Optional[List[str]] = None,
        scopes: Optional[List[str]] = None,
        expires_at: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> t.CreatedApiKey:
        body = {"label": label, "permissions": permissions, "scopes": scopes, "expires_at": expires_at}
        return cast(t.CreatedApiKey, self._create(body, idempotency_key))


class Webhooks(_Resource):
    base = "/api/v1/webhooks"

    def create(
        self,
        url: str,
        events: List[str],
        description: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> t.CreatedWebhook:
        body = {"url": url, "events": events, "description": description}
        return cast(t.CreatedWebhook, self._create(body, idempotency_key))

    def test(self, id: str) -> Any:
        return self._t.data("POST", _path(self.base + "/{}/test", id))

    def deliveries(self, id: str, **params: Any) -> List[t.WebhookDelivery]:
        return list(self._t.paginate(_path(self.base + "/{}/deliveries", id), params))


class Jobs(_Resource):
    base = "/api/v1/jobs"

    def submit(
        self,
        cluster_id: int,
        name: str,
        gpu_count: Optional[int] = None,
        command: Optional[str] = None,
        priority: Optional[int] = None,
        tenant_id: Optional[int] = None,
        idempotency_key: Optional[str] = None,
    ) -> t.Job:
        body = {
            "cluster_id": cluster_id,
            "name": name,
            "gpu_count": gpu_count,
            "command": command,
            "priority": priority,
            "tenant_id": tenant_id,
        }
        return cast(t.Job, self._create(body, idempotency_key))

    def cancel(self, id: int) -> t.Job:
        return cast(t.Job, self._t.data("POST", _path(self.base + "/{}/cancel", id)))


class Billing:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def balance(self, tenant_id: Optional[int] = None) -> t.Balance:
        return cast(t.Balance, self._t.data("GET", "/api/v1/billing/balance", params={"tenant_id": tenant_id}))

    def usage(self, days: Optional[int] = None, tenant_id: Optional[int] = None) -> t.Usage:
        params = {"days": days, "tenant_id": tenant_id}
        return cast(t.Usage, self._t.data("GET", "/api/v1/billing/usage", params=params))

    def transactions(self, tenant_id: Optional[int] = None) -> List[t.Transaction]:
        return list(self._t.paginate("/api/v1/billing/transactions", {"tenant_id": tenant_id}))

    def grant_credits(self, tenant_id: int, amount_usd: str, description: Optional[str] = None) -> t.CreditGrantResult:
        """Operator: adds prepaid credit to a tenant. The amount is an exact decimal string ("100", "12.50")."""
        body = _clean({"amount_usd": amount_usd, "description": description})
        return cast(t.CreditGrantResult, self._t.data("POST", _path("/api/v1/tenants/{}/credits", tenant_id), json_body=body))
