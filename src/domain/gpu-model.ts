/**
 * The one way a requested GPU model matches a GPU's full name: as a word, case-insensitively ("H100" matches
 * "NVIDIA H100 80GB HBM3", not "H1000"); alternatives are '|'-separated ("T4|P100", the form of the openb trace's
 * gpu_spec), any of them matching is enough; null or empty matches any model. `modelMatches` for code,
 * `modelPattern` for SQL (`upper(model) ~ pattern`), the same rule.
 */

function alternatives(gpuType: string): string[] {
  return gpuType
    .split("|")
    .map((t) => t.trim().toUpperCase())
    .filter((t) => t !== "");
}

export function modelMatches(gpuType: string | null | undefined, model: string): boolean {
  if (!gpuType) return true;
  const hay = model.toUpperCase();
  return alternatives(gpuType).some((needle) => {
    for (let from = 0; ; ) {
      const at = hay.indexOf(needle, from);
      if (at < 0) return false;
      const before = at === 0 ? "" : hay[at - 1];
      const after = hay[at + needle.length] ?? "";
      if (!/[A-Z0-9]/.test(before) && !/[A-Z0-9]/.test(after)) return true;
      from = at + 1;
    }
  });
}

/** A POSIX regular expression for `upper(model) ~ …` that matches what `modelMatches` matches (gpuType non-empty). */
export function modelPattern(gpuType: string): string {
  const words = alternatives(gpuType).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return `(^|[^A-Z0-9])(${words.join("|")})([^A-Z0-9]|$)`;
}
