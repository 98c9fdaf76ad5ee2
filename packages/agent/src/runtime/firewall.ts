import { spawn } from "node:child_process";

/**
 * The host firewall that keeps tenants apart on a node. Every tenant's containers sit on a bridge network of their own
 * (one per tenant, made by the runtime); these iptables rules, in chains of gpuplane's own, make the bridges walls:
 *
 *   FORWARD → GPUPLANE-ISOLATE   per tenant bridge B: `-i B -o B` RETURN (a tenant's containers reach each other),
 *                                then `-i B` → GPUPLANE-TENANTS, which DROPs anything going out on any tenant bridge.
 *                                Traffic to the internet (out on the uplink) and from outside to a published SSH port
 *                                (in on the uplink, DNATed to the container) match neither and go on as before.
 *   INPUT   → GPUPLANE-HOST      replies (ESTABLISHED, RELATED) RETURN; a new connection from a tenant bridge to the
 *                                host itself (its agent, a server on it, its sshd, any port on any of its addresses)
 *                                is DROPped. DNS (port 53) to the bridge's gateway stays open.
 *
 * Both jumps are kept first in their chains (podman's netavark and Docker insert their own ACCEPT rules at the top
 * when they make a network), and in DOCKER-USER where Docker has one. Every change is idempotent: a rule is checked
 * (`-C`) before it is added, so agents restarting, or several agents on one host, leave one copy of each.
 */
export const CHAIN = { forward: "GPUPLANE-ISOLATE", tenants: "GPUPLANE-TENANTS", host: "GPUPLANE-HOST" } as const;

export class Firewall {
  private readonly binary: string;
  constructor(binary = "iptables") {
    this.binary = binary;
  }

  /** The chains and their jumps; throws (with iptables' words) where the firewall cannot be changed. */
  async setup(): Promise<void> {
    for (const chain of Object.values(CHAIN)) await this.run(["-N", chain]).catch(() => undefined);
    await this.ensure(CHAIN.host, ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "RETURN"], 1);
    await this.jumpsFirst();
  }

  /** Puts the jumps back at the top of FORWARD, INPUT (and DOCKER-USER): call after the runtime made a network. */
  async jumpsFirst(): Promise<void> {
    await this.first("FORWARD", CHAIN.forward);
    await this.first("INPUT", CHAIN.host);
    if (
      await this.run(["-S", "DOCKER-USER"]).then(
        () => true,
        () => false,
      )
    )
      await this.first("DOCKER-USER", CHAIN.forward);
  }

  /** The walls around one tenant bridge (by interface name). */
  async wall(bridge: string): Promise<void> {
    await this.ensure(CHAIN.forward, ["-i", bridge, "-o", bridge, "-j", "RETURN"], 1);
    await this.ensure(CHAIN.forward, ["-i", bridge, "-j", CHAIN.tenants]);
    await this.ensure(CHAIN.tenants, ["-o", bridge, "-j", "DROP"]);
    // DNS to the bridge's own gateway (podman's aardvark-dns), then nothing else to the host.
    await this.ensure(CHAIN.host, ["-i", bridge, "-p", "udp", "--dport", "53", "-j", "RETURN"]);
    await this.ensure(CHAIN.host, ["-i", bridge, "-p", "tcp", "--dport", "53", "-j", "RETURN"]);
    await this.ensure(CHAIN.host, ["-i", bridge, "-j", "DROP"]);
    await this.jumpsFirst();
  }

  /** Takes the bridge's rules away (its network was removed). */
  async unwall(bridge: string): Promise<void> {
    const rules: [string, string[]][] = [
      [CHAIN.forward, ["-i", bridge, "-o", bridge, "-j", "RETURN"]],
      [CHAIN.forward, ["-i", bridge, "-j", CHAIN.tenants]],
      [CHAIN.tenants, ["-o", bridge, "-j", "DROP"]],
      [CHAIN.host, ["-i", bridge, "-p", "udp", "--dport", "53", "-j", "RETURN"]],
      [CHAIN.host, ["-i", bridge, "-p", "tcp", "--dport", "53", "-j", "RETURN"]],
      [CHAIN.host, ["-i", bridge, "-j", "DROP"]],
    ];
    for (const [chain, rule] of rules) {
      while (await this.has(chain, rule)) await this.run(["-D", chain, ...rule]);
    }
  }

  private has(chain: string, rule: string[]): Promise<boolean> {
    return this.run(["-C", chain, ...rule]).then(
      () => true,
      () => false,
    );
  }

  private async ensure(chain: string, rule: string[], at?: number): Promise<void> {
    if (await this.has(chain, rule)) return;
    await this.run(at ? ["-I", chain, String(at), ...rule] : ["-A", chain, ...rule]);
  }

  /** `-j target` as the first rule of chain, once. */
  private async first(chain: string, target: string): Promise<void> {
    const rules = (await this.run(["-S", chain])).split("\n").filter((l) => l.startsWith("-A "));
    const jump = `-A ${chain} -j ${target}`;
    if (rules[0] === jump && !rules.slice(1).includes(jump)) return;
    while (await this.has(chain, ["-j", target])) await this.run(["-D", chain, "-j", target]);
    await this.run(["-I", chain, "1", "-j", target]);
  }

  private run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      // -w: wait for the xtables lock rather than fail while podman or docker change their own rules.
      const child = spawn(this.binary, ["-w", "10", ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.stderr.on("data", (d) => {
        err += d;
      });
      child.on("error", (error) => reject(new Error(`${this.binary}: ${error.message}`)));
      child.on("close", (code) =>
        code === 0 ? resolve(out) : reject(new Error(`${this.binary} ${args.join(" ")}: ${err.trim() || code}`)),
      );
    });
  }
}
