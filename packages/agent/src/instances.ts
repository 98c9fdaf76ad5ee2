import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import type { StateDir } from "./state.js";
import type { InstanceAssignment } from "./wire.js";

export interface InstanceRecord {
  id: string;
  sshUser: string;
  authorizedKeys: string;
  managedUser: boolean;
  reportedReady?: boolean;
}

/**
 * Gives a tenant SSH access to an instance placed on this node: a per-instance user whose authorized_keys holds the
 * tenant's public keys. Without root (or without --manage-users) the keys are written under the state dir only, which
 * is what tests and a dry host use; with both, the user is created with useradd and removed with userdel.
 */
export class InstanceHost {
  private readonly state: StateDir;
  private readonly manageUsers: boolean;

  constructor(state: StateDir, manageUsers: boolean) {
    this.state = state;
    this.manageUsers = manageUsers && process.getuid?.() === 0;
  }

  installed(): InstanceRecord[] {
    return this.state
      .list("instances")
      .map((dir) => this.state.readJson<InstanceRecord>("instances", dir, "instance.json"))
      .filter((r): r is InstanceRecord => Boolean(r));
  }

  install(instance: InstanceAssignment): InstanceRecord {
    const sshUser = userFor(instance.id);
    const keys = `${instance.ssh_public_keys.map((k) => k.trim()).join("\n")}\n`;
    let authorizedKeys = this.state.path("instances", instance.id, "authorized_keys");
    mkdirSync(this.state.path("instances", instance.id), { recursive: true, mode: 0o700 });
    writeFileSync(authorizedKeys, keys, { mode: 0o600 });
    if (this.manageUsers) {
      try {
        execFileSync("id", [sshUser], { stdio: "ignore" });
      } catch {
        execFileSync("useradd", ["--create-home", "--shell", "/bin/bash", sshUser], { stdio: "ignore" });
      }
      const home = execFileSync("getent", ["passwd", sshUser], { encoding: "utf8" }).split(":")[5];
      const uid = Number(execFileSync("id", ["-u", sshUser], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", sshUser], { encoding: "utf8" }).trim());
      mkdirSync(`${home}/.ssh`, { recursive: true, mode: 0o700 });
      authorizedKeys = `${home}/.ssh/authorized_keys`;
      writeFileSync(authorizedKeys, keys, { mode: 0o600 });
      chownSync(`${home}/.ssh`, uid, gid);
      chownSync(authorizedKeys, uid, gid);
      chmodSync(authorizedKeys, 0o600);
    }
    const record: InstanceRecord = { id: instance.id, sshUser, authorizedKeys, managedUser: this.manageUsers };
    this.save(record);
    return record;
  }

  markReady(record: InstanceRecord): void {
    record.reportedReady = true;
    this.save(record);
  }

  remove(record: InstanceRecord): void {
    if (record.managedUser) {
      try {
        execFileSync("userdel", ["--remove", record.sshUser], { stdio: "ignore" });
      } catch {
        // already gone
      }
    }
    this.state.remove("instances", record.id);
  }

  private save(record: InstanceRecord): void {
    this.state.writeJson(record, "instances", record.id, "instance.json");
  }
}

/** A valid Linux user name per instance: "gp" and the id's last characters ("gp-3fa9c1d2e4"). */
export function userFor(instanceId: string): string {
  return `gp-${instanceId
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()
    .slice(-10)}`;
}
