import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { answerViolations, type CloudContract, requestViolations } from "../contracts/contract.js";

export interface FakeAnswer {
  status: number;
  /** JSON-encoded unless `text` is set. */
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export interface Fault {
  method?: string;
  /** Matches when the request path starts with this. */
  path?: string;
  /** Answer this instead of handling the request. */
  answer?: FakeAnswer;
  /** Handle the request (its effect happens), then drop the connection: the caller never learns the answer. */
  dropAnswer?: boolean;
  /** Hold the request this long before handling it (past gpuplane's timeout, it is a timeout). */
  delayMs?: number;
  /**
   * The injected answer is deliberately outside the cloud's contract (a malformed body, a proxy's HTML page): it is
   * not checked against it.
   */
  offContract?: boolean;
  times: number;
}

export interface Recorded {
  method: string;
  path: string;
  body: any;
  at: number;
  authorization: string | undefined;
}

/**
 * The common part of the fake clouds: a real HTTP server on a random port, a clock the test controls (the harness's
 * manual clock), a request log, and faults a test injects (an error answer, a lost answer, a slow answer). Each
 * cloud's fake answers in that cloud's exact shapes, status codes and error codes.
 */
export abstract class FakeCloud {
  url = "";
  requests: Recorded[] = [];
  faults: Fault[] = [];
  now: () => number = () => Date.now();
  /** Called as each request arrives (benchmarks time the launch call by it). */
  onRequest: ((method: string, path: string) => void) | null = null;
  /**
   * The cloud's published contract (test/providers/contracts/). When set, every request is checked against it, and
   * one it breaks is refused as the cloud refuses a bad request (`refuse`); every answer the fake gives is checked
   * too. Whatever breaks it is kept in `violations`, which a suite asserts empty.
   */
  contract: CloudContract | null = null;
  violations: string[] = [];
  private server: Server | null = null;

  /** The server's settings that point gpuplane at this fake: its credentials and URL (read after start()). */
  abstract env(): Record<string, string>;

  protected abstract handle(
    method: string,
    path: string,
    body: unknown,
    req: IncomingMessage,
  ): FakeAnswer | Promise<FakeAnswer>;

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /**
   * How this cloud answers a request its API does not accept (unknown path, missing or mistyped field): each fake
   * answers in its cloud's own error shape.
   */
  protected refuse(problems: string[]): FakeAnswer {
    return { status: 400, body: { error: problems.join("; ") } };
  }

  /** Back to a fresh cloud (each database kind's suite starts with one). */
  reset(): void {
    this.requests = [];
    this.faults = [];
    this.onRequest = null;
    this.violations = [];
  }

  fault(fault: Omit<Fault, "times"> & { times?: number }): void {
    this.faults.push({ times: 1, ...fault });
  }

  calls(method: string, path: string): Recorded[] {
    return this.requests.filter((r) => r.method === method && r.path.split("?")[0] === path);
  }

  private async serve(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {}
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    this.onRequest?.(method, path);
    this.requests.push({ method, path, body, at: Date.now(), authorization: req.headers.authorization });
    const fault = this.faults.find(
      (f) => f.times > 0 && (!f.method || f.method === method) && (!f.path || path.startsWith(f.path)),
    );
    if (fault) fault.times--;
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    const refused = this.contract ? requestViolations(this.contract, { method, path, body }) : [];
    this.violations.push(...refused);
    // A cloud goes on with a request whose caller gave up (timed out): the launch happens, the answer is lost.
    const answer =
      fault?.answer ?? (refused.length ? this.refuse(refused) : await this.handle(method, path, body, req));
    if (this.contract && !fault?.offContract && !refused.length) {
      const given = answer.text !== undefined ? answer.text : answer.body;
      this.violations.push(
        ...answerViolations(this.contract, { method, path, body, status: answer.status, answer: given }),
      );
    }
    if (res.destroyed) return;
    if (fault?.dropAnswer) {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = { "x-request-id": randomUUID(), ...answer.headers };
    if (answer.text !== undefined) {
      res.writeHead(answer.status, { "content-type": "text/plain", ...headers });
      res.end(answer.text);
    } else {
      res.writeHead(answer.status, { "content-type": "application/json", ...headers });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    }
  }
}

/** A public-looking IPv4 from the documentation ranges (never routed). */
export function fakeIp(n: number): string {
  return `203.0.113.${1 + (n % 250)}`;
}
