/** PostgreSQL's unique_violation, as node-postgres and PGlite report it (directly or as a Drizzle error's cause). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code === "23505" || e?.cause?.code === "23505";
}

/** The constraint a database error names, when it names one. */
export function violatedConstraint(error: unknown): string | undefined {
  const e = error as { constraint?: string; cause?: { constraint?: string } } | undefined;
  return e?.constraint ?? e?.cause?.constraint;
}
