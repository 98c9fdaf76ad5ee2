"""Launch the cheapest available GPU instance and wait until it is running, then print how to reach it.

GPUPLANE_URL=http://localhost:8080 GPUPLANE_API_KEY=... python3 python/examples/launch_and_wait.py
"""

import os

import gpuplane

client = gpuplane.Client(os.environ["GPUPLANE_URL"], api_key=os.environ["GPUPLANE_API_KEY"])

cheapest = min(client.offers.list(available="true"), key=lambda offer: offer["price_per_hour_usd"])
key_ids = [key["id"] for key in client.ssh_keys.list()]

try:
    instance = client.instances.create(cheapest["plan_id"], name="example", ssh_key_ids=key_ids)
except gpuplane.InsufficientCreditsError as error:
    raise SystemExit(f"top up first: {error}")

instance = client.instances.wait(instance["id"], on_change=lambda i: print(i["id"], i["status"]))
print(instance["sshCommand"])
