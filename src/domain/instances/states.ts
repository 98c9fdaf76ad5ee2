import { InvalidState } from "../../lib/errors.js";
import type { InstanceRow } from "./row.js";

/**
 * ordered → provisioning → running ⇄ stopped → deleting → deleted, and failed (with a reason) from any live state.
 * An upstream cloud's stop passes through `stopping` (billed until the cloud confirms; see docs/upstreams.md).
 * On a node whose agent runs the container, stop passes through `stopping` (and delete waits in `deleting`) until the
 * agent reports the container stopped (removed): it is billed, and holds its GPUs, until then.
 * Stop is also accepted while ordered or provisioning (it cancels the provisioning and frees the capacity), so
 * seed 000's quickstart, which stops right after creating, works when pasted as written.
 */
export const instanceStatuses = [
  "ordered",
  "provisioning",
  "running",
  "stopping",
  "stopped",
  "deleting",
  "deleted",
  "failed",
] as const;
export type InstanceStatus = (typeof instanceStatuses)[number];

export type InstanceAction = "start" | "stop" | "delete" | "attach a volume to";

/** Why an action is refused in a state, in words a customer can act on; undefined = allowed. */
const refusals: Record<InstanceAction, Partial<Record<InstanceStatus, string>>> = {
  stop: {
    stopping: "instance is already stopping",
    stopped: "instance is already stopped",
    deleting: "instance is being deleted",
    deleted: "instance is deleted",
    failed: "instance has failed; delete it and create a new one",
  },
  start: {
    ordered: "instance is ordered and will start on its own",
    provisioning: "instance is already provisioning",
    running: "instance is already running",
    stopping: "instance is stopping; start it once it is stopped",
    deleting: "instance is being deleted",
    deleted: "instance is deleted",
    failed: "instance has failed; delete it and create a new one",
  },
  delete: {},
  "attach a volume to": {
    deleting: "instance is being deleted",
    deleted: "instance is deleted",
    failed: "instance has failed",
  },
};

export function assertAllowed(row: InstanceRow, action: InstanceAction): void {
  const reason = refusals[action][row.status as InstanceStatus];
  if (reason) {
    throw new InvalidState(`cannot ${action} instance ${row.id}: ${reason}`, { status: row.status });
  }
}
