// The first-run content: the default policy from @sluice/policy (interactive/VoIP, web, bulk,
// P2P and default classes, with their rules) and the default settings. Only fills what is
// missing, so running it again changes nothing; it never creates users (the dashboard's
// first-run page creates the admin).

import { defaultPolicy, type PolicyInput } from "@sluice/policy";
import type { Repositories } from "./repositories.ts";
import type { KnownSettings } from "./repos/settings.ts";
import { DEFAULT_RETENTION } from "./retention.ts";

export const DEFAULT_AGENT_SOCKET = "/run/sluice/agent.sock";

export function defaultSettings(): Pick<KnownSettings, "agent.socket" | "retention"> {
  return { "agent.socket": process.env.SLUICE_SOCKET ?? DEFAULT_AGENT_SOCKET, retention: DEFAULT_RETENTION };
}

export interface SeedResult {
  /** Whether the default policy was written (there was none). */
  policy: boolean;
  /** The default settings that were missing and were written. */
  settings: string[];
}

export async function seed(
  repos: Pick<Repositories, "policy" | "settings">,
  opts: { policy?: PolicyInput } = {},
): Promise<SeedResult> {
  const out: SeedResult = { policy: false, settings: [] };
  if (!(await repos.policy.exists())) {
    await repos.policy.save(opts.policy ?? defaultPolicy());
    out.policy = true;
  }
  for (const [key, value] of Object.entries(defaultSettings())) {
    if ((await repos.settings.get(key)) === undefined) {
      await repos.settings.set(key, value);
      out.settings.push(key);
    }
  }
  return out;
}
