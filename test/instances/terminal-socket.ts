import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import WebSocket from "ws";
import { terminalSockets } from "../../src/server.js";

/** The harness's app on a real port, with the WebSocket side the web terminal needs (as `gpuplane serve` has it). */
export async function listenWithTerminal(app: { fetch: (request: Request, env: never) => unknown }) {
  const http = serve({ fetch: app.fetch as never, port: 0, hostname: "127.0.0.1", websocket: terminalSockets() });
  await new Promise((resolve) => http.once("listening", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    base: `ws://127.0.0.1:${port}`,
    httpBase: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => (http as Server).close(resolve)),
  };
}

export interface TerminalClient {
  /** The handshake's HTTP status when the server refused the upgrade; 101 when it opened. */
  status: number;
  /** Every frame received: terminal output as text, status messages as parsed objects. */
  frames: (string | { type: string; state: string; message: string })[];
  /** The terminal output so far. */
  output(): string;
  send(data: string): void;
  resize(cols: number, rows: number): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Connects to a terminal url (from POST …/terminal) as the console does. */
export function connectTerminal(base: string, url: string): Promise<TerminalClient> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base}${url}`);
    const frames: TerminalClient["frames"] = [];
    let settled = false;
    let closedWith: (value: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((r) => {
      closedWith = r;
    });
    const client = (status: number): TerminalClient => ({
      status,
      frames,
      output: () => frames.filter((f): f is string => typeof f === "string").join(""),
      send: (data) => ws.send(JSON.stringify({ type: "input", data })),
      resize: (cols, rows) => ws.send(JSON.stringify({ type: "resize", cols, rows })),
      closed,
      close: () => ws.close(),
    });
    ws.on("message", (data, isBinary) => {
      frames.push(isBinary ? Buffer.from(data as Buffer).toString() : JSON.parse(data.toString()));
    });
    ws.on("unexpected-response", (_request, response) => {
      settled = true;
      // Any body bytes are frames too: the refusal must carry none.
      response.on("data", (chunk: Buffer) => frames.push(chunk.toString()));
      response.on("end", () => {
        closedWith({ code: 0, reason: "refused" });
        resolve(client(response.statusCode ?? 0));
      });
    });
    ws.on("open", () => {
      settled = true;
      resolve(client(101));
    });
    ws.on("close", (code, reason) => closedWith({ code, reason: reason.toString() }));
    ws.on("error", () => {
      if (!settled) resolve(client(0));
    });
  });
}

/** Resolves once `probe` holds, polling every 20 ms, or fails naming what it waited for. */
export async function eventually(what: string, probe: () => boolean, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
