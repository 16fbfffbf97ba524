// The dashboard's view of the agent: the contract's client (@sluice/agent-contract), and
// what it last knew (status, flows) so pages can show cached data with a "the agent is down"
// banner instead of nothing. Every call updates the reachability it reports.

import { TRPCError } from "@trpc/server";
import {
  AgentApiError,
  AgentClient,
  AgentUnreachableError,
  type AgentStatus,
  type AppCatalogue,
  type ApplyErrorBody,
  type FlowsResponse,
  type DevicesResponse,
  type HistoryEntry,
  type TestPatternInput,
} from "@sluice/agent-contract";
import { IssuesError } from "../issues.ts";

export interface AgentHealth {
  reachable: boolean;
  socket: string;
  /** When reachability was last checked (ISO). */
  checkedAt: string | null;
  /** Why the last call failed, when it did. */
  error: string | null;
  /** The last status the agent gave (possibly old: see statusAt). */
  status: AgentStatus | null;
  statusAt: string | null;
  /** Since when the agent has been unreachable (ISO), when it is. */
  downSince: string | null;
}

/** A history entry with its policy and scripts (GET /v1/history/:id). */
export type HistoryEntryFull = HistoryEntry;

export class AgentService {
  readonly client: AgentClient;
  private health: AgentHealth;
  private flowsCache: { at: string; flows: FlowsResponse } | null = null;
  private appsCache: { at: string; catalogue: AppCatalogue } | null = null;

  constructor(socket: string, timeoutMs = 30_000) {
    this.client = new AgentClient(socket, timeoutMs);
    this.health = {
      reachable: false,
      socket,
      checkedAt: null,
      error: null,
      status: null,
      statusAt: null,
      downSince: null,
    };
  }

  /** Runs one client call and records whether the agent answered. */
  private async call<T>(request: (c: AgentClient) => Promise<T>): Promise<T> {
    try {
      const r = await request(this.client);
      this.mark(null);
      return r;
    } catch (e) {
      if (e instanceof AgentUnreachableError || !(e instanceof AgentApiError)) this.mark(e as Error);
      else this.mark(null);
      throw e;
    }
  }

  private mark(err: Error | null): void {
    const now = new Date().toISOString();
    this.health.checkedAt = now;
    if (err) {
      if (this.health.reachable || !this.health.downSince) this.health.downSince = now;
      this.health.reachable = false;
      this.health.error = err.message;
    } else {
      this.health.reachable = true;
      this.health.error = null;
      this.health.downSince = null;
    }
  }

  /** Asks the agent for its status; never throws (the answer says whether it is reachable). */
  async checkHealth(): Promise<AgentHealth> {
    try {
      const s = await this.call((c) => c.status());
      this.health.status = s;
      this.health.statusAt = new Date().toISOString();
    } catch {
      /* recorded in health */
    }
    return this.lastHealth();
  }

  lastHealth(): AgentHealth {
    return { ...this.health };
  }

  /** Marks the agent reachable or not from outside (the stats stream). */
  noteReachable(err: Error | null): void {
    this.mark(err);
  }

  status = () => this.call((c) => c.status());
  protocols = () => this.call((c) => c.protocols());
  render = (policy: unknown) => this.call((c) => c.render(policy));
  apply = (policy: unknown, opts: { user: string; trySeconds?: number }) =>
    this.call((c) => c.apply({ policy, ...opts }));
  confirm = () => this.call((c) => c.confirm());
  rollback = (id: number | undefined, user: string) =>
    this.call((c) => c.rollback({ ...(id !== undefined ? { id } : {}), user }));
  history = () => this.call((c) => c.history());
  historyEntry = (id: number) => this.call((c) => c.historyEntry(id));
  stats = () => this.call((c) => c.stats());
  testPattern = (b: TestPatternInput) => this.call((c) => c.testPattern(b));

  /**
   * The application catalogue (GET /v1/apps), or the last one seen when the agent is down
   * (null before the first answer, or from an agent without the route).
   */
  async apps(): Promise<{
    live: boolean;
    at: string | null;
    catalogue: AppCatalogue | null;
    error: string | null;
  }> {
    try {
      const catalogue = await this.call((c) => c.apps());
      this.appsCache = { at: new Date().toISOString(), catalogue };
      return { live: true, at: this.appsCache.at, catalogue, error: null };
    } catch (e) {
      const error =
        e instanceof AgentApiError && e.status === 404
          ? "this agent has no application catalogue (GET /v1/apps: 404)"
          : (e as Error).message;
      return {
        live: false,
        at: this.appsCache?.at ?? null,
        catalogue: this.appsCache?.catalogue ?? null,
        error,
      };
    }
  }

  /** The LAN devices the agent knows (its DHCP leases, names), or why not. */
  async devices(): Promise<{ live: boolean; devices: DevicesResponse | null; error: string | null }> {
    try {
      return { live: true, devices: await this.call((c) => c.devices()), error: null };
    } catch (e) {
      return { live: false, devices: null, error: (e as Error).message };
    }
  }

  /** Live flows, or the last ones seen (with their time) when the agent is down. */
  async flows(): Promise<{
    live: boolean;
    at: string | null;
    flows: FlowsResponse | null;
    error: string | null;
  }> {
    try {
      const flows = await this.call((c) => c.flows());
      this.flowsCache = { at: new Date().toISOString(), flows };
      return { live: true, at: this.flowsCache.at, flows, error: null };
    } catch (e) {
      return {
        live: false,
        at: this.flowsCache?.at ?? null,
        flows: this.flowsCache?.flows ?? null,
        error: (e as Error).message,
      };
    }
  }
}

/** The agent's error as a tRPC error: field issues for invalid policies, 503 when it is down. */
export function agentError(e: unknown): TRPCError {
  if (e instanceof TRPCError) return e;
  if (e instanceof AgentUnreachableError)
    return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: e.message, cause: e });
  if (e instanceof AgentApiError) {
    const body = e.body as unknown as ApplyErrorBody;
    const detail = [
      body.step ? `step ${body.step}` : null,
      body.command ? `command: ${body.command}` : null,
      body.stderr ? `stderr: ${body.stderr}` : null,
      body.restored === true ? "the last good policy was restored" : null,
      body.restored === false ? "restoring the last good policy FAILED" : null,
    ]
      .filter(Boolean)
      .join("; ");
    const message = detail ? `${e.message} (${detail})` : e.message;
    if (e.status === 422 || e.status === 400)
      return new TRPCError({
        code: "BAD_REQUEST",
        message,
        cause: new IssuesError(message, body.issues ?? []),
      });
    if (e.status === 404) return new TRPCError({ code: "NOT_FOUND", message, cause: e });
    return new TRPCError({ code: "BAD_GATEWAY", message, cause: e });
  }
  return new TRPCError({ code: "BAD_GATEWAY", message: `agent: ${(e as Error).message}`, cause: e });
}
