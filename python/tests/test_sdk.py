"""The Python SDK against a live server: every resource's create/list/get/delete, an instance launched and
waited for, typed errors, paging over 250 items, a retry after a lost answer creating one resource, and the
verification of a real webhook delivery."""

import base64
import http.server
import json
import os
import secrets
import struct
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List

import pytest

import gpuplane
from gpuplane import types as t


def ssh_public_key(comment: str = "me@laptop") -> str:
    """An ed25519 public key line in OpenSSH wire format (a random 32-byte point: the server checks the format)."""
    def wire(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    blob = wire(b"ssh-ed25519") + wire(os.urandom(32))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


def test_ssh_keys_volumes_webhooks_api_keys_and_waitlist(server):
    client, _ = server.customer()
    key = client.ssh_keys.create("laptop", ssh_public_key())
    assert [k["id"] for k in client.ssh_keys.list()] == [key["id"]]
    assert client.ssh_keys.get(key["id"])["name"] == "laptop"
    client.ssh_keys.delete(key["id"])
    with pytest.raises(gpuplane.NotFoundError) as missing:
        client.ssh_keys.get(key["id"])
    assert missing.value.code == "NOT_FOUND" and missing.value.request_id

    volume = client.volumes.create("data", 20, "FIN-01")
    assert volume["id"] in [v["id"] for v in client.volumes.list()]
    assert client.volumes.get(volume["id"])["size_gb"] == 20
    client.volumes.delete(volume["id"])

    hook = client.webhooks.create("https://example.com/hook", ["instance.*"])
    assert hook["secret"].startswith("whsec_")
    assert client.webhooks.get(hook["id"])["url"] == "https://example.com/hook"
    assert [w["id"] for w in client.webhooks.list()] == [hook["id"]]
    client.webhooks.delete(hook["id"])
    assert client.webhooks.list() == []

    created = client.api_keys.create("ci")
    second = gpuplane.Client(server.url, api_key=created["key"])
    assert second.whoami()["key_id"] == created["id"]
    assert "ci" in [k["label"] for k in client.api_keys.list()]
    client.api_keys.delete(created["id"])
    with pytest.raises(gpuplane.AuthenticationError):
        second.whoami()

    entry = client.waitlist.join(cluster_type="1H100.80S.30V", region="FIN-01")
    assert entry["id"] in [e["id"] for e in client.waitlist.list()]
    assert client.waitlist.get(entry["id"])["instance_type"]
    client.waitlist.leave(entry["id"])


def test_launch_wait_stop_start_delete(server):
    client, _ = server.customer(fund_usd="100")
    key = client.ssh_keys.create("k", ssh_public_key())
    offer = client.offers.list(available="true")[0]
    instance = client.instances.create(offer["plan_id"], name="trainer", ssh_key_ids=[key["id"]])
    seen: List[str] = []
    running = client.instances.wait(instance["id"], interval_seconds=0.2, on_change=lambda i: seen.append(i["status"]))
    assert running["status"] == "running" and running["sshCommand"].startswith("ssh ")
    assert seen[-1] == "running" and seen[0] != "running"
    assert [i["id"] for i in client.instances.list()] == [instance["id"]]
    assert client.instances.stop(instance["id"])["status"] == "stopped"
    client.instances.start(instance["id"])
    client.instances.wait(instance["id"], interval_seconds=0.2)
    assert client.instances.delete(instance["id"])["status"] in ("deleting", "deleted")
    usage = client.billing.usage(days=1)
    assert usage["tenant_id"] == running["tenantId"]


def test_wait_times_out(server):
    client, _ = server.customer(fund_usd="50")
    key = client.ssh_keys.create("k", ssh_public_key())
    instance = client.instances.create("GPU.A100.1x", ssh_key_ids=[key["id"]])
    with pytest.raises(gpuplane.WaitTimeoutError):
        client.instances.wait(instance["id"], timeout_seconds=0)


def test_typed_errors_carry_code_message_and_request_id(server):
    client, _ = server.customer()
    key = client.ssh_keys.create("k", ssh_public_key())
    # The $5 sign-up credit covers the first hour of an A100 ($1.29), not of eight ($10.32).
    with pytest.raises(gpuplane.InsufficientCreditsError) as poor:
        client.instances.create("GPU.A100.8x", ssh_key_ids=[key["id"]])
    assert poor.value.status == 402 and poor.value.code == "INSUFFICIENT_CREDITS"
    assert "balance" in poor.value.message.lower() and len(poor.value.request_id) >= 8
    with pytest.raises(gpuplane.BadRequestError) as bad:
        client.volumes.create("x", 20, "")
    assert bad.value.code == "BAD_REQUEST"
    other, _ = server.customer()
    with pytest.raises(gpuplane.NotFoundError):
        other.ssh_keys.get(key["id"])


def test_pages_through_250_items_each_once(server):
    client, _ = server.customer()
    names = [f"key-{i}" for i in range(250)]
    for name in names:
        client.ssh_keys.create(name, ssh_public_key(name))
    pages = []
    original = client.transport.request

    def counting(method: str, path: str, **kwargs: Any) -> Any:
        if method == "GET":
            pages.append(kwargs.get("params", {}).get("cursor"))
        return original(method, path, **kwargs)

    client.transport.request = counting  # type: ignore[method-assign]
    keys: List[t.SshKey] = list(client.ssh_keys.iter(limit=100))
    assert len(pages) == 3 and pages[0] is None
    assert sorted(k["name"] for k in keys) == sorted(names)


class LossyProxy:
    """A real HTTP proxy in front of the server that delivers each request but loses the first answers to POSTs:
    first a 502 page, then a dropped connection, as a load balancer timing out would."""

    def __init__(self, upstream: str, lose: int) -> None:
        self.seen: List[Dict[str, Any]] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0)) or None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                req = urllib.request.Request(upstream + self.path, data=body, method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(req) as res:
                        status, payload, res_headers = res.status, res.read(), dict(res.headers)
                except urllib.error.HTTPError as error:
                    status, payload, res_headers = error.code, error.read(), dict(error.headers)
                proxy.seen.append({"method": self.command, "key": self.headers.get("idempotency-key")})
                posts = sum(1 for s in proxy.seen if s["method"] == "POST")
                if self.command == "POST" and posts <= lose:
                    if posts == 1:
                        page = b"<html>502 Bad Gateway</html>"
                        self.send_response(502)
                        self.send_header("content-length", str(len(page)))
                        self.end_headers()
                        self.wfile.write(page)
                    else:
                        self.close_connection = True
                        self.connection.shutdown(2)
                    return
                self.send_response(status)
                for k, v in res_headers.items():
                    if k.lower() in ("content-type", "x-request-id", "idempotent-replayed"):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_retry_after_lost_answers_creates_once(server):
    plain, _ = server.customer()
    proxy = LossyProxy(server.url, lose=2)
    try:
        client = gpuplane.Client(proxy.url, api_key=plain.transport.api_key, backoff_seconds=0.01)
        key = client.ssh_keys.create("once", ssh_public_key())
        assert key["name"] == "once"
        posts = [s for s in proxy.seen if s["method"] == "POST"]
        assert len(posts) == 3
        assert len({p["key"] for p in posts}) == 1 and posts[0]["key"].startswith("gp-")
        assert [k["name"] for k in plain.ssh_keys.list()] == ["once"]
    finally:
        proxy.close()


def test_verifies_a_real_webhook_delivery(server):
    received: List[Dict[str, Any]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            received.append({"headers": dict(self.headers), "body": body})
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        client, _ = server.customer()
        hook = client.webhooks.create(f"http://127.0.0.1:{httpd.server_address[1]}/hook", ["*"])
        client.webhooks.test(hook["id"])
        deadline = time.time() + 20
        while not received and time.time() < deadline:
            time.sleep(0.1)
        assert received, "no delivery arrived"
        delivery = received[0]
        payload = gpuplane.verify_webhook(hook["secret"], delivery["body"], delivery["headers"])
        assert payload["type"] == "webhook.ping"
        with pytest.raises(gpuplane.WebhookVerificationError):
            gpuplane.verify_webhook(hook["secret"], delivery["body"].replace(b"ping", b"pong"), delivery["headers"])
        with pytest.raises(gpuplane.WebhookVerificationError):
            gpuplane.verify_webhook(hook["secret"], delivery["body"], delivery["headers"], now=time.time() + 3600)
        assert json.loads(delivery["body"])["type"] == "webhook.ping"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_types_match_the_openapi_document():
    """The TypedDicts are generated from the checked-in document; this checks the two agree key for key."""
    from pathlib import Path

    doc = json.loads((Path(__file__).resolve().parents[2] / "packages/sdk/openapi.json").read_text())
    for name, schema in doc["components"]["schemas"].items():
        typed = getattr(t, name)
        if "properties" in schema:
            assert set(typed.__annotations__) == set(schema["properties"]), name
            assert typed.__required_keys__ == frozenset(schema.get("required", [])), name


def test_the_readme_example_launches_and_waits(server):
    """python/examples/launch_and_wait.py, run as a user would, against the live server."""
    import subprocess
    import sys
    from pathlib import Path

    client, _ = server.customer(fund_usd="100")
    client.ssh_keys.create("k", ssh_public_key())
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "GPUPLANE_URL": server.url, "GPUPLANE_API_KEY": client.transport.api_key,
           "PYTHONPATH": str(root / "python")}
    done = subprocess.run([sys.executable, str(root / "python/examples/launch_and_wait.py")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-2].endswith(" running") and lines[-1].startswith("ssh -p ")


def test_jobs_submit_list_get_cancel(server):
    operator = server.operator
    _, tenant_id = server.customer()
    cluster = operator.request("POST", "/api/v1/clusters", json_body={"name": "py-lab", "region": "FIN-01"})
    job = operator.jobs.submit(cluster["id"], "train", gpu_count=1, command="python train.py", tenant_id=tenant_id)
    assert job["id"] in [j["id"] for j in operator.jobs.list(cluster_id=cluster["id"])]
    assert operator.jobs.get(job["id"])["command"] == "python train.py"
    assert operator.jobs.cancel(job["id"])["status"] == "cancelled"


def test_create_without_ssh_key_ids_installs_all_the_accounts_keys(server):
    # Issue 20: the CLI installs every key when none is named; the SDK sent no sshKeyIds and got a 400.
    client, _ = server.customer(fund_usd="100")
    first = client.ssh_keys.create("laptop", ssh_public_key("me@laptop"))
    second = client.ssh_keys.create("desktop", ssh_public_key("me@desktop"))
    offer = client.offers.list(available="true")[0]
    instance = client.instances.create(offer["plan_id"])
    assert sorted(instance["sshKeyIds"]) == sorted([first["id"], second["id"]])
    client.instances.delete(instance["id"])
