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
  ["64:ff9b:1::", 48], // NAT64 for local use (RFC 8215): translates to whatever the operator's network routes
] as const) {
  privateRanges.addSubnet(network, bits, "ipv6");
}

/**
 * True for an IP address in a private range. An IPv6 address that carries an IPv4 address counts as that IPv4
 * address too (`embeddedIPv4`): `[::127.0.0.1]` or `[64:ff9b::7f00:1]` reach loopback through a translator or a
 * dual stack as surely as `127.0.0.1` does.
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, ""); // a zone id (fe80::1%eth0) names an interface, not another address
  const family = isIP(bare);
  if (family === 4) return privateRanges.check(bare, "ipv4");
  if (family !== 6) return false;
  if (privateRanges.check(bare, "ipv6")) return true;
  return embeddedIPv4(bare).some((v4) => privateRanges.check(v4, "ipv4"));
}

/**
 * The IPv4 addresses an IPv6 address embeds: IPv4-mapped (::ffff:0:0/96) and SIIT (::ffff:0:0:0/96), IPv4-compatible
 * (::/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16, the 32 bits after the prefix) and Teredo (2001::/32: the server in
 * bits 32–63, the client in the last 32 bits, inverted).
 */
export function embeddedIPv4(address: string): string[] {
  const w = ipv6Words(address);
  if (!w) return [];
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zero = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  const found: string[] = [];
  if (zero(0, 5) && (w[5] === 0xffff || w[5] === 0)) found.push(v4(w[6], w[7])); // mapped, compatible
  if (zero(0, 4) && w[4] === 0xffff && w[5] === 0) found.push(v4(w[6], w[7])); // SIIT
  if (w[0] === 0x64 && w[1] === 0xff9b && zero(2, 6)) found.push(v4(w[6], w[7])); // NAT64
  if (w[0] === 0x2002) found.push(v4(w[1], w[2])); // 6to4
  if (w[0] === 0x2001 && w[1] === 0) found.push(v4(w[2], w[3]), v4(w[6] ^ 0xffff, w[7] ^ 0xffff)); // Teredo
  return found;
}

/** The eight 16-bit words of an IPv6 address (with `::` and a trailing dotted IPv4 expanded), or null. */
function ipv6Words(address: string): number[] | null {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail, extra] = text.split("::");
  if (extra !== undefined) return null;
  const part = (p: string | undefined) => (p ? p.split(":").map((x) => Number.parseInt(x, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const words = [...left, ...Array<number>(tail === undefined ? 0 : missing).fill(0), ...right];
  return words.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? words : null;
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
