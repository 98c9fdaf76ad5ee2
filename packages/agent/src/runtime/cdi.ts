import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Where podman (and docker with CDI enabled) read CDI specs; nowhere else. */
export const CDI_DIRS = ["/etc/cdi", "/var/run/cdi"];

/**
 * Device names per CDI kind found in the spec files (JSON, or the YAML `nvidia-ctk cdi generate` writes). The YAML is
 * read line by line for `kind:` and the devices' `name:` — enough to check names without a YAML parser in the agent.
 */
export function cdiDevices(dirs: string[] = CDI_DIRS): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const add = (kind: string, name: string) => {
    if (!found.has(kind)) found.set(kind, new Set());
    found.get(kind)!.add(name);
  };
  for (const dir of dirs) {
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f));
    } catch {
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(join(dir, file), "utf8");
      } catch {
        continue;
      }
      if (file.endsWith(".json")) {
        try {
          const spec = JSON.parse(text) as { kind?: string; devices?: { name?: string }[] };
          for (const d of spec.kind ? (spec.devices ?? []) : []) if (d.name) add(spec.kind!, d.name);
        } catch {
          // not a spec we can read: podman will say so itself
        }
        continue;
      }
      const kind = /^kind:\s*"?([^"\s]+)"?/m.exec(text)?.[1];
      if (!kind) continue;
      // Only devices have a `name:` key (containerEdits hold hookName, path, …). nvidia-ctk writes keys sorted, so a
      // device reads "- containerEdits: …" then "  name: GPU-…"; written by hand it may be "- name: …" first.
      for (const m of text.matchAll(/^\s*(?:-\s+)?name:\s*"?([^"\s]+)"?\s*$/gm)) add(kind, m[1]);
    }
  }
  return found;
}

/** The GPUs (by UUID) that no CDI spec names under `kind`: the agent warns at start-up and says what to run. */
export function gpusMissingFromCdi(uuids: string[], kind: string, dirs: string[] = CDI_DIRS): string[] {
  const names = cdiDevices(dirs).get(kind) ?? new Set<string>();
  return uuids.filter((u) => !names.has(u));
}

export function cdiAdvice(missing: string[], kind: string): string {
  return (
    `no CDI spec under ${CDI_DIRS.join(" or ")} names ${kind}=${missing.join(", ")}: containers asking for these GPUs ` +
    "will fail. Install the NVIDIA Container Toolkit and run: nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml " +
    "(again after a driver upgrade or a GPU change)"
  );
}
