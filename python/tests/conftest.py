"""A live gpuplane server for the tests: `node bin/gpuplane.mjs serve` on a free port with an embedded PGlite
database in a temporary folder, its background loops on and the simulator provisioning in a second."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

import gpuplane  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, operator_key: str) -> None:
        self.url = url
        self.operator_key = operator_key
        self.operator = gpuplane.Client(url, api_key=operator_key, auth_header="bearer")

    def customer(self, fund_usd: str = "") -> "tuple[gpuplane.Client, int]":
        account = gpuplane.Client.register(self.url, f"py-{secrets.token_hex(6)}@example.com", "correct horse battery")
        tenant_id = account["tenant"]["id"]
        if fund_usd:
            self.operator.billing.grant_credits(tenant_id, fund_usd, "python sdk test")
        return gpuplane.Client(self.url, api_key=account["api_key"]["key"]), tenant_id


@pytest.fixture(scope="session")
def server():
    data_dir = tempfile.mkdtemp(prefix="gpuplane-py-")
    port = _free_port()
    operator_key = "gpk_" + secrets.token_hex(32)
    limits = {k: 100000 for k in ("instance_create", "instance_action", "billing", "read", "public", "write")}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GPUPLANE_") and k not in ("DATABASE_URL", "PORT")},
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "GPUPLANE_DATA_DIR": data_dir,
        "GPUPLANE_ADMIN_KEY": operator_key,
        "GPUPLANE_SIMULATOR_PROVISION_S": "1",
        "GPUPLANE_WEBHOOK_ALLOW_PRIVATE": "on",
        "GPUPLANE_RATE_LIMITS": json.dumps(limits),
        "LOG_LEVEL": "warn",
    }
    log = open(os.path.join(data_dir, "server.log"), "wb")
    proc = subprocess.Popen(["node", "bin/gpuplane.mjs", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited {proc.returncode}: {Path(data_dir, 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as res:
                    if res.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("server did not start: " + Path(data_dir, "server.log").read_text())
            time.sleep(0.2)
        yield Server(url, operator_key)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
