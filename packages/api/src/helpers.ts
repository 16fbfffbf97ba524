// Small things most procedures use: who is acting, writing the audit log, the editable
// policy (seeded on first use), and the protocol, app and category names rules are checked against.

import { PolicyValidationError, seed, type EditablePolicy } from "@sluice/db";
import { kernelFeaturesOf, kernelIssues, type KernelFeatures, type PolicyInput } from "@sluice/policy";
import type { Context, AuthInfo } from "./context.ts";
import type { ApiDeps } from "./deps.ts";
import { badRequest } from "./trpc.ts";

export type AuthedContext = Context & { auth: AuthInfo };

export const actorOf = (ctx: AuthedContext) => ({ id: ctx.auth.user.id, username: ctx.auth.user.username });

export async function audit(
  ctx: Context,
  action: string,
  target?: string | null,
  details?: unknown,
  user?: { id: number; username: string } | string,
): Promise<void> {
  await ctx.deps.db.audit.write({
    user: user ?? (ctx.auth ? { id: ctx.auth.user.id, username: ctx.auth.user.username } : null),
    action,
    target: target ?? null,
    details,
    ip: ctx.req.ip,
  });
}

/**
 * The policy being edited. On first use the database has none: it starts from what the
 * agent has installed (its last good policy) or, with no agent, the default policy.
 */
export async function editablePolicy(deps: ApiDeps): Promise<EditablePolicy> {
  const p = await deps.db.policy.readEditable();
  if (p) return p;
  let installed: PolicyInput | undefined;
  try {
    const status = await deps.agent.status();
    if (status.policy) installed = (await deps.agent.historyEntry(status.policy.id)).policy;
  } catch {
    /* agent down or no history: the default policy */
  }
  try {
    await seed(deps.db, installed ? { policy: installed } : {});
  } catch {
    await seed(deps.db);
  }
  const seeded = await deps.db.policy.readEditable();
  if (!seeded) throw new Error("could not seed the policy");
  return seeded;
}

/** Names and aliases the rules may use: the cached catalogue, filled from the agent if empty. */
export async function protocolNames(deps: ApiDeps): Promise<Set<string> | undefined> {
  let names = await deps.db.protocols.names();
  if (names.size === 0) {
    try {
      await deps.db.protocols.sync(await deps.agent.protocols());
      names = await deps.db.protocols.names();
    } catch {
      return undefined;
    }
  }
  return names.size ? names : undefined;
}

/**
 * What rules are checked against when saving: protocol names, and the catalogue's app and
 * category names (from the agent, or its last answer); a list not known is left unchecked.
 */
export async function ruleNames(deps: ApiDeps): Promise<{
  protocols?: Set<string>;
  apps?: Set<string>;
  categories?: Set<string>;
}> {
  const [protocols, { catalogue }] = await Promise.all([protocolNames(deps), deps.agent.apps()]);
  return {
    ...(protocols ? { protocols } : {}),
    // an agent without a catalogue answers empty lists: leave app rules to its own check
    ...(catalogue?.apps.length
      ? {
          apps: new Set(catalogue.apps.map((a) => a.name)),
          maxAppId: Math.max(0, ...catalogue.apps.map((a) => a.id)),
          categories: new Set(catalogue.categories.map((c) => c.name)),
        }
      : {}),
  };
}

/** Rethrows a policy validation error as BAD_REQUEST with its field issues. */
export function policyError(e: unknown): never {
  if (e instanceof PolicyValidationError) throw badRequest(e.message, e.issues);
  throw e;
}

const installedCache = new Map<number, PolicyInput>();

/** The policy the box runs (the agent's last good entry), cached by entry id; null if unknown. */
export async function installedPolicy(deps: ApiDeps): Promise<PolicyInput | null> {
  // a fresh status: a cached one still names the entry before the last apply or rollback
  const id = (await deps.agent.checkHealth()).status?.policy?.id;
  if (id === undefined) return null;
  const hit = installedCache.get(id);
  if (hit) return hit;
  try {
    const p = (await deps.agent.historyEntry(id)).policy;
    installedCache.set(id, p);
    return p;
  } catch {
    return null;
  }
}

/** The probed kernel's features (null until the agent has answered once). */
export function kernelFeatures(deps: ApiDeps): KernelFeatures | null {
  const c = deps.agent.lastHealth().status?.capabilities;
  return c ? kernelFeaturesOf(c) : null;
}

/** Refuses a policy the box's kernel cannot run as written (a leaf it lacks, download on an IFB without one). */
export function checkKernelFit(deps: ApiDeps, policy: unknown): void {
  const k = kernelFeatures(deps);
  if (!k) return;
  const issues = kernelIssues(policy as Parameters<typeof kernelIssues>[0], k);
  if (issues.length) throw badRequest(issues.map((i) => i.message).join("; "), issues);
}
