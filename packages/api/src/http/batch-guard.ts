// tRPC batching lets one HTTP request carry many calls. Calls that check a password (sign-in,
// first-run setup, changing your own password) must come one per request: a batch that holds
// one of them among others is refused whole, before any call runs. (The password gate counts
// every attempt anyway; this keeps a batch from being a way to try many at once.)

import { TRPCError } from "@trpc/server";
import type { TRPCRequestInfo } from "@trpc/server/http";

/** Mutations that must not be batched: every auth.* one and changing your own password. */
export function isCredentialCall(path: string): boolean {
  return path.startsWith("auth.") || path === "users.changePassword";
}

/** Throws BAD_REQUEST for a batch of more than one call that holds a credential mutation. */
export function refuseCredentialBatch(info: Pick<TRPCRequestInfo, "calls" | "type"> | undefined): void {
  if (!info || info.calls.length < 2 || info.type === "query") return;
  const found = info.calls.find((c) => isCredentialCall(c.path));
  if (found)
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `${found.path} cannot be batched with other calls: send it alone`,
    });
}
