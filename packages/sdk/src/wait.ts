/**
 * Waiting for an instance to reach a state (usually `running`), polling its status and reporting each change, so a
 * script or the CLI's `launch --wait` needs no loop of its own. A terminal state that is not the wanted one
 * (`failed`, `deleted`) ends the wait at once with InstanceStateError; running out of time, with WaitTimeoutError.
 */
import type { GpuplaneClient } from "./client.js";
import { unwrap } from "./client.js";
import { InstanceStateError, WaitTimeoutError } from "./errors.js";
import type { components } from "./generated/schema.js";

export type Instance = components["schemas"]["Instance"];
export type InstanceStatus = Instance["status"];

export interface WaitOptions {
  /** The state to wait for (default `running`). */
  until?: InstanceStatus;
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Between polls (default 2 s). */
  intervalMs?: number;
  /** Called with the instance on the first poll and on every status change. */
  onChange?: (instance: Instance) => void;
  signal?: AbortSignal;
}

const TERMINAL: InstanceStatus[] = ["failed", "deleted"];

export async function waitForInstance(api: GpuplaneClient, id: string, options: WaitOptions = {}): Promise<Instance> {
  const until = options.until ?? "running";
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let last: InstanceStatus | undefined;
  for (;;) {
    const instance = await unwrap(api.GET("/api/v1/instances/{id}", { params: { path: { id } } }));
    if (instance.status !== last) {
      last = instance.status;
      options.onChange?.(instance);
    }
    if (instance.status === until) return instance;
    if (TERMINAL.includes(instance.status)) {
      const reason = instance.statusReason ? ` (${instance.statusReason})` : "";
      throw new InstanceStateError(`instance ${id} is ${instance.status}${reason}, not ${until}`, instance.status);
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(`instance ${id} is still ${instance.status} after the timeout`, last);
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.intervalMs ?? 2000, left)));
    if (options.signal?.aborted) throw new WaitTimeoutError(`waiting for instance ${id} was aborted`, last);
  }
}
