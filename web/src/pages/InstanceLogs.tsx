import { useResource } from "../hooks.js";
import type { InstanceLogs } from "../types.js";
import { ErrorNote } from "../ui.js";

/**
 * The container's last output lines, as the node agent streamed them: read through the shared store (one read per
 * path, pollers share it), refreshed every 5 s, at most the last 200 lines on screen.
 */
export function InstanceLogsPanel({ instanceId }: { instanceId: string }) {
  const logs = useResource<InstanceLogs>(`/instances/${encodeURIComponent(instanceId)}/logs?tail=200`, 5000);
  const data = logs.data;
  return (
    <section data-testid="instance-logs">
      <h2>Logs</h2>
      <ErrorNote error={logs.error} />
      {data && !data.available ? (
        <p className="muted">{data.reason}</p>
      ) : data && data.lines.length === 0 ? (
        <p className="muted">No output from the container yet.</p>
      ) : data ? (
        <pre className="logs" style={{ maxHeight: "24rem", overflow: "auto", fontFamily: "monospace" }}>
          {data.lines.map((l) => l.line).join("\n")}
        </pre>
      ) : (
        <p className="loading">Loading…</p>
      )}
      {data?.available ? (
        <p className="muted small">
          The last {data.window.lines} lines (up to {Math.round(data.window.bytes / 1024)} KiB) are kept per instance.
        </p>
      ) : null}
    </section>
  );
}
