export { isUniqueViolation } from "../../lib/errors.js";

/** The constraint a database error names, when it names one. */
export function violatedConstraint(error: unknown): string | undefined {
  const e = error as { constraint?: string; cause?: { constraint?: string } } | undefined;
  return e?.constraint ?? e?.cause?.constraint;
}
