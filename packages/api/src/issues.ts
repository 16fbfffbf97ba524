// Field-level problems and the error that carries them. A leaf module (only tRPC's error
// class), so the agent service can raise them without importing the procedure builders.

import { TRPCError } from "@trpc/server";

/** A field-level problem, e.g. { path: "classes.upload[2].ceil", message: "…" }. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** The cause of a BAD_REQUEST that carries field issues. */
export class IssuesError extends Error {
  readonly issues: FieldIssue[];
  constructor(message: string, issues: FieldIssue[]) {
    super(message);
    this.name = "IssuesError";
    this.issues = issues;
  }
}

export function badRequest(message: string, issues: FieldIssue[] = []): TRPCError {
  return new TRPCError({ code: "BAD_REQUEST", message, cause: new IssuesError(message, issues) });
}
