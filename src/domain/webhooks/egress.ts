import { promises as dns, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * Where webhook requests may go. Receivers are customers' URLs, but the requests leave from inside the operator's
 * network: unchecked, a webhook could reach the cloud metadata service (169.254.169.254), the database, or anything
 * on 10/8. Unless the operator allows private addresses (GPUPLANE_WEBHOOK_ALLOW_PRIVATE), registration refuses a URL
 * naming one (`refusedHost`), and delivery resolves each host itself, refuses if any address is private, and
 * connects only to the addresses it checked (`guardedLookup`): a name that was public at registration can point
 * inside later (DNS rebinding), and a second lookup by the socket could differ from the checked one.
 */

/** Loopback, private, link-local, CGNAT, unspecified, multicast and reserved ranges. */
const privateRanges = new BlockList();
for (const [network, bits] of [
  ["0.0.0.0", 8], // "this network", including the unspecified 0.0.0.0
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT (the simulator's instance addresses live here)
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata services
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking networks
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and the broadcast address
] as const) {
  privateRanges.addSubnet(network, bits, "ipv4");
}
for (const [network, bits] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated, still routed by some networks)
  ["ff00::", 8], // multicast
] as const) {
  privateRanges.addSubnet(network, bits, "ipv6");
}

/** True for an IP address in a private range; IPv4-mapped IPv6 (::ffff:10.0.0.1) counts as its IPv4 address. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && privateRanges.check(address, family === 6 ? "ipv6" : "ipv4");
}

/** A URL's hostname as an address or name: without IPv6 brackets, the root's trailing dot, or case. */
const bareHost = (hostname: string) =>
  hostname
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "")
    .toLowerCase();

/**
 * Why a URL's host may not receive webhooks, or null: a literal private address, or a name reserved for loopback
 * (RFC 6761's `localhost`). Other names are checked when they are resolved, at delivery.
 */
export function refusedHost(hostname: string): string | null {
  const host = bareHost(hostname);
  if (host === "localhost" || host.endsWith(".localhost")) return `${host} is a loopback name`;
  if (isPrivateAddress(host)) return `${host} is a private, loopback or link-local address`;
  return null;
}

/** Resolves a host name to every address it has (tests pass their own, to play a rebinding name). */
export type Resolve = (host: string) => Promise<LookupAddress[]>;
export const systemResolve: Resolve = (host) => dns.lookup(host, { all: true, verbatim: true });

/** A connection refused because its host is, or resolves to, a private address. */
export class RefusedAddressError extends Error {}

/**
 * A `lookup` for the sockets webhooks use: resolves with `resolve`, refuses when any address is private (one
 * private answer is enough for a rebinding attacker to win a race), and gives the socket exactly the addresses it
 * checked, so the check and the connection use one resolution.
 */
export function guardedLookup(resolve: Resolve, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        if (!allowPrivate && addresses.some((a) => isPrivateAddress(a.address))) {
          return callback(new RefusedAddressError(`refused: ${hostname} resolves to a private address`), "");
        }
        const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : options.family;
        const usable = family ? addresses.filter((a) => a.family === family) : addresses;
        if (!usable.length) {
          const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = "ENOTFOUND";
          return callback(error, "");
        }
        if (options.all) callback(null, usable);
        else callback(null, usable[0].address, usable[0].family);
      },
      (error) => callback(error, ""),
    );
  };
}

/** Keep-alive agents whose every connection goes through the guard; one pair per (resolver, setting). */
export interface Egress {
  allowPrivate: boolean;
  http: http.Agent;
  https: https.Agent;
}

const egresses = new WeakMap<Resolve, Map<boolean, Egress>>();

export function egressFor(allowPrivate: boolean, resolve: Resolve = systemResolve): Egress {
  let byMode = egresses.get(resolve);
  if (!byMode) {
    byMode = new Map();
    egresses.set(resolve, byMode);
  }
  let egress = byMode.get(allowPrivate);
  if (!egress) {
    const options = { keepAlive: true, timeout: 5_000, lookup: guardedLookup(resolve, allowPrivate) };
    egress = { allowPrivate, http: new http.Agent(options), https: new https.Agent(options) };
    byMode.set(allowPrivate, egress);
  }
  return egress;
}

/** Of a failed answer's body, this much is kept for the delivery log. */
const KEPT_BODY_BYTES = 1_024;

/**
 * One POST through the guarded agents. Resolves with the status and, for a non-2xx answer, the start of its body;
 * rejects with RefusedAddressError, a connection error, or an AbortError once `timeoutMs` has passed. A socket does
 * not look up a literal address, so those are checked here. Redirects are never followed.
 */
export function post(
  url: string,
  request: { headers: Record<string, string>; body: string; timeoutMs: number },
  egress: Egress,
): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const host = bareHost(target.hostname);
  if (!egress.allowPrivate && isPrivateAddress(host)) {
    return Promise.reject(new RefusedAddressError(`refused: ${host} is a private address`));
  }
  const secure = target.protocol === "https:";
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      target,
      {
        method: "POST",
        agent: secure ? egress.https : egress.http,
        headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
        signal: AbortSignal.timeout(request.timeoutMs),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.resume();
          return resolve({ status, text: "" });
        }
        const chunks: Buffer[] = [];
        let kept = 0;
        const done = () => resolve({ status, text: Buffer.concat(chunks).toString("utf8") });
        res.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          kept += chunk.length;
          if (kept >= KEPT_BODY_BYTES) res.destroy(); // enough for the log; a huge body is not read
        });
        res.on("end", done);
        res.on("close", done);
        res.on("error", done);
      },
    );
    req.on("error", reject);
    req.end(request.body);
  });
}
