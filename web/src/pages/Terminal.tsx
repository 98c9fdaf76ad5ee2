import "@xterm/xterm/css/xterm.css";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { useEffect, useRef, useState } from "react";
import { api } from "../api.js";
import type { Instance } from "../types.js";
import { ActionButton } from "../ui.js";

interface TerminalTicket {
  ticket: string;
  url: string;
  expires_at: string;
}

/**
 * A shell on the instance in the browser: a ticket from POST /instances/{id}/terminal (the session's key), then a
 * WebSocket the server joins to the instance over SSH. Output arrives as binary frames; status lines as JSON text.
 */
export function InstanceTerminal({ instance }: { instance: Instance }) {
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState("");
  const box = useRef<HTMLDivElement>(null);
  const socket = useRef<WebSocket | null>(null);

  useEffect(() => {
    if (!open || !box.current) return;
    const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 13 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current);
    fit.fit();
    let ws: WebSocket | null = null;
    let cancelled = false;
    api
      .post<TerminalTicket>(`/instances/${encodeURIComponent(instance.id)}/terminal`)
      .then(({ data }) => {
        if (cancelled) return;
        const scheme = location.protocol === "https:" ? "wss:" : "ws:";
        ws = new WebSocket(`${scheme}//${location.host}${data.url}`);
        ws.binaryType = "arraybuffer";
        socket.current = ws;
        const send = (frame: object) => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify(frame));
        ws.onopen = () => send({ type: "resize", cols: term.cols, rows: term.rows });
        ws.onmessage = (event) => {
          if (typeof event.data === "string") {
            const message = JSON.parse(event.data) as { state: string; message: string };
            setStatus(message.message);
          } else term.write(new Uint8Array(event.data as ArrayBuffer));
        };
        ws.onclose = (event) => {
          if (event.code !== 1000 && event.reason) setStatus(event.reason);
          else if (event.code === 1006) setStatus("the terminal could not be opened");
        };
        term.onData((data) => send({ type: "input", data }));
        term.onResize(({ cols, rows }) => send({ type: "resize", cols, rows }));
        term.focus();
      })
      .catch((error: Error) => setStatus(error.message));
    const onResize = () => fit.fit();
    window.addEventListener("resize", onResize);
    return () => {
      cancelled = true;
      window.removeEventListener("resize", onResize);
      ws?.close();
      socket.current = null;
      term.dispose();
    };
  }, [open, instance.id]);

  if (instance.status !== "running") return null;
  return (
    <section data-testid="instance-terminal">
      <h2>Terminal</h2>
      {open ? (
        <>
          <div className="row">
            <span className="muted small" data-testid="terminal-status">
              {status}
            </span>
            <button type="button" onClick={() => setOpen(false)}>
              Close terminal
            </button>
          </div>
          <div ref={box} className="terminal" data-testid="terminal-screen" style={{ height: 360 }} />
        </>
      ) : (
        <div className="row">
          <ActionButton
            onClick={async () => {
              setStatus("");
              setOpen(true);
            }}
          >
            Open terminal
          </ActionButton>
          <span className="muted small">A shell on the instance in this browser tab, as its SSH user.</span>
        </div>
      )}
    </section>
  );
}
