// apply: validate → render → diff against the box → install (tc batch, then iptables-restore
// per family) → read back and verify → record as the last good policy. Any failure after
// the box was touched restores the last good state (or a clean box if there is none) and
// reports the step, the command and its stderr. `try` applies with an automatic revert
// unless confirmed in time (RouterOS Safe Mode).

import {
  hostIssues,
  shiftOf,
  validatePolicy,
  type PolicyInput,
  type PolicyIssue,
  type Policy,
} from "@sluice/policy";
import type { Executor } from "../kernel/executor.ts";
import { CommandError, must } from "../kernel/executor.ts";
import { hostFeatures, type Capabilities } from "../kernel/capabilities.ts";
import type { HostInputs } from "../render/hosts-model.ts";
import { readInstalled, rootQdisc, type InstalledState } from "../kernel/installed.ts";
import { renderPolicy, scriptText, type RenderedPolicy } from "../render/scripts.ts";
import { hooksOf, renderIptables, renderIptablesTeardown, ruleLine } from "../render/iptables.ts";
import { renderNftTeardown } from "../render/nft.ts";
import { verifyInstalled } from "./verify.ts";
import { IFB_DEVICE, type AppIndex } from "../render/model.ts";
import type { HistoryEntry, HistoryStore } from "./store.ts";
import { diffLines, diffPolicy, type PolicyDiff } from "./diff.ts";

export type ApplyStep =
  "validate" | "render" | "record" | "tc" | "iptables" | "ip6tables" | "nft" | "verify" | "restore";

export class ApplyError extends Error {
  readonly step: ApplyStep;
  readonly issues: PolicyIssue[];
  readonly command: string[] | undefined;
  readonly stderr: string | undefined;
  /** After a failure that touched the box: did restoring the last good state succeed? */
  restored: boolean | null = null;
  entry: HistoryEntry | null = null;
  constructor(
    step: ApplyStep,
    message: string,
    extra: { issues?: PolicyIssue[]; command?: string[]; stderr?: string } = {},
  ) {
    super(message);
    this.name = "ApplyError";
    this.step = step;
    this.issues = extra.issues ?? [];
    this.command = extra.command;
    this.stderr = extra.stderr;
  }
}

export interface ProtocolCatalogue {
  /** Pattern name → l7 mark (3+). */
  marks: ReadonlyMap<string, number>;
  /** Names and aliases accepted in rules. */
  names: ReadonlySet<string>;
}

/** What the applier needs of the application catalogue. */
export interface AppCatalogueView extends AppIndex {
  categories: readonly { name: string }[];
}

export interface ApplierDeps {
  exec: Executor;
  store: HistoryStore;
  caps: Capabilities;
  protocols: () => ProtocolCatalogue;
  /** The application catalogue, when one is loaded (app and category rules need it). */
  apps?: () => AppCatalogueView | null;
  log?: (msg: string, data?: Record<string, unknown>) => void;
  /** Stable ids for hostname rules (apply/host-ids.ts); default: their positions. */
  hostIds?: (globs: string[], max: number) => ReadonlyMap<string, number>;
  /** Called after a try was reverted on its own (the box changed without a caller). */
  reverted?: () => void;
  /** The networks of a LAN interface's addresses (device rules must lie inside them). */
  lanNetworks?: (device: string) => string[];
  /** What device rules given by MAC match (the DHCP leases), read at each render. */
  hostInputs?: () => HostInputs;
  /**
   * What is in force now: the policy with its schedule windows applied (their names are
   * recorded in the entry), and each quota's period and the bytes it used in it so far.
   * Default: the policy as it is, quotas from zero.
   */
  inForce?: (policy: Policy) => InForce;
}

export interface InForce {
  policy: Policy;
  windows: string[];
  quotaPeriods: Record<string, string>;
  quotaUsed: (name: string) => number;
}

export interface DryRun {
  policy: Policy;
  rendered: RenderedPolicy;
  scripts: { tc: string; iptables: string; ip6tables: string };
  diff: { policy: PolicyDiff; tc: string[]; iptables: string[] };
}

export interface ApplyOptions {
  user?: string;
  trySeconds?: number;
  /** Why the agent applies on its own (schedule boundary, quota period), kept in the entry. */
  note?: string;
}

export class Applier {
  private readonly d: ApplierDeps;
  private queue: Promise<unknown> = Promise.resolve();
  private tryTimer: NodeJS.Timeout | null = null;
  private trying: { entryId: number; previousGood: number | null; until: number } | null = null;

  constructor(deps: ApplierDeps) {
    this.d = deps;
  }

  /** Serializes every operation that touches the box. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  get pendingTry(): { entryId: number; until: string } | null {
    return this.trying
      ? { entryId: this.trying.entryId, until: new Date(this.trying.until).toISOString() }
      : null;
  }

  validate(input: unknown): Policy {
    const apps = this.d.apps?.() ?? null;
    const lanDevice = (input as { interfaces?: { lan?: { device?: unknown } } } | null)?.interfaces?.lan
      ?.device;
    const lanNetworks = typeof lanDevice === "string" ? this.d.lanNetworks?.(lanDevice) : undefined;
    const r = validatePolicy(input, {
      ...(lanNetworks?.length ? { lanNetworks } : {}),
      protocols: this.d.protocols().names,
      ...(apps
        ? {
            apps: new Set(apps.apps.map((a) => a.name)),
            categories: new Set(apps.categories.map((c) => c.name)),
            maxAppId: Math.max(0, ...apps.apps.map((a) => a.id)),
          }
        : {}),
    });
    if (!r.ok)
      throw new ApplyError(
        "validate",
        `policy is invalid: ${r.issues.map((i) => `${i.path || "(policy)"}: ${i.message}`).join("; ")}`,
        { issues: r.issues },
      );
    // Host fairness and device rules this kernel cannot do are refused, field by field.
    const hostProblems = hostIssues(r.policy, hostFeatures(this.d.caps));
    if (hostProblems.length)
      throw new ApplyError(
        "validate",
        `policy is invalid: ${hostProblems.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
        { issues: hostProblems },
      );
    if (r.policy.quotas.length && !this.d.caps.nftables)
      throw new ApplyError("validate", "quotas need nftables (quota objects), missing on this box", {
        issues: [
          { path: "quotas", message: "this box has no nftables: quotas cannot be counted or enforced" },
        ],
      });
    if (
      r.policy.download === "ifb" &&
      !(this.d.caps.actions.connmark && this.d.caps.actions.mirred && this.d.caps.links.ifb)
    ) {
      throw new ApplyError(
        "validate",
        "download via IFB needs act_connmark, act_mirred and ifb, missing in this kernel",
        {
          issues: [
            {
              path: "download",
              message: "IFB shaping is not available in this kernel; shape download on the LAN interface",
            },
          ],
        },
      );
    }
    return r.policy;
  }

  /** What the box runs for `policy` now (its schedule windows applied, quotas carried on). */
  inForce(policy: Policy): InForce {
    return this.d.inForce?.(policy) ?? { policy, windows: [], quotaPeriods: {}, quotaUsed: () => 0 };
  }

  render(base: Policy): RenderedPolicy {
    const now = this.inForce(base);
    const policy = now.policy;
    const globs = policy.rules.flatMap((r) => ("hostname" in r ? [r.hostname] : []));
    const max = policy.marks.hostMask >>> shiftOf(policy.marks.hostMask);
    const ids = this.d.hostIds && globs.length ? this.d.hostIds(globs, max) : null;
    return renderPolicy(
      policy,
      this.d.protocols().marks,
      this.d.caps,
      this.d.apps?.() ?? null,
      ids,
      this.d.hostInputs?.() ?? {},
      now.quotaUsed,
    );
  }

  /** Validate, render and diff without touching the box. */
  async dryRun(input: unknown): Promise<DryRun> {
    const policy = this.validate(input);
    const rendered = this.render(policy);
    const good = this.d.store.lastGood();
    const goodRendered = good ? this.tryRender(good.policy) : null;
    const before = await readInstalled(
      this.d.exec,
      this.devicesOf(rendered, goodRendered),
      this.d.caps.iptables.NFQUEUE && rendered.model.variant.ipv6,
    );
    return {
      policy,
      rendered,
      scripts: scriptText(rendered),
      diff: this.diff(policy, rendered, good?.policy ?? null, goodRendered, before),
    };
  }

  apply(input: PolicyInput, opts: ApplyOptions = {}): Promise<{ entry: HistoryEntry; diff: DryRun["diff"] }> {
    return this.exclusive(() => this.applyNow(input, opts));
  }

  confirm(): Promise<HistoryEntry> {
    return this.exclusive(async () => {
      if (!this.trying) throw new ApplyError("validate", "no policy is being tried");
      const id = this.trying.entryId;
      // recorded first: if the history cannot be written, the try goes on (and reverts)
      try {
        this.d.store.update(id, { status: "confirmed" }, { lastGood: true });
      } catch (e) {
        throw new ApplyError("record", `${(e as Error).message}; the try was not confirmed`);
      }
      this.clearTry();
      this.d.log?.("try confirmed", { id });
      return this.d.store.get(id)!;
    });
  }

  /** Re-applies a recorded policy (default: the good one before the current last good). */
  rollback(id?: number, user = "system"): Promise<HistoryEntry> {
    return this.exclusive(async () => {
      const target = id !== undefined ? this.d.store.get(id) : this.previousGood();
      if (!target)
        throw new ApplyError(
          "validate",
          id !== undefined ? `no history entry ${id}` : "no earlier good policy to roll back to",
        );
      if (target.status === "failed")
        throw new ApplyError("validate", `entry ${target.id} failed when applied; pick a good one`);
      const { entry } = await this.applyNow(target.policy, { user: `${user} (rollback to #${target.id})` });
      return entry;
    });
  }

  /** On boot: install the last good policy again. */
  restoreLastGood(): Promise<HistoryEntry | null> {
    return this.exclusive(async () => {
      try {
        const open = this.d.store.closeInterrupted();
        if (open.length) this.d.log?.("applies interrupted by a stop, recorded as failed", { ids: open });
      } catch (e) {
        this.d.log?.("could not record interrupted applies", { error: (e as Error).message });
      }
      const good = this.d.store.lastGood();
      if (!good) return null;
      const rendered = this.render(this.validate(good.policy));
      const before = await readInstalled(
        this.d.exec,
        this.devicesOf(rendered, null),
        rendered.model.variant.ipv6,
      );
      if (verifyInstalled(rendered, before).length === 0) return good; // already in place (agent restart)
      await this.install(rendered, before);
      const problems = verifyInstalled(
        rendered,
        await readInstalled(this.d.exec, this.devicesOf(rendered, null), rendered.model.variant.ipv6),
      );
      if (problems.length)
        throw new ApplyError("verify", `last good policy did not verify after boot: ${problems.join("; ")}`);
      return good;
    });
  }

  /** Removes every Sluice rule and qdisc (the box forwards unshaped). */
  teardown(devices: string[]): Promise<void> {
    return this.exclusive(async () => {
      const s = await readInstalled(this.d.exec, devices, true);
      await this.clear(s);
    });
  }

  private async applyNow(
    input: PolicyInput,
    opts: ApplyOptions,
  ): Promise<{ entry: HistoryEntry; diff: DryRun["diff"] }> {
    const policy = this.validate(input);
    const now = this.inForce(policy);
    let rendered: RenderedPolicy;
    try {
      rendered = this.render(policy);
    } catch (e) {
      throw new ApplyError("render", `rendering failed: ${(e as Error).message}`);
    }
    const scripts = scriptText(rendered);
    const user = opts.user ?? "cli";
    // Recorded before the box is touched: a history that cannot be written (disk full,
    // read-only) refuses the apply with the box unchanged.
    let pending: HistoryEntry;
    try {
      pending = this.d.store.add({
        at: new Date().toISOString(),
        user,
        policy: input,
        status: "applying",
        scripts,
        lastGood: false,
        ...(opts.note ? { note: opts.note } : {}),
        ...(policy.schedules.length ? { windows: now.windows } : {}),
        ...(policy.quotas.length ? { quotaPeriods: now.quotaPeriods } : {}),
      });
      if (this.trying && opts.trySeconds === undefined) {
        // A normal apply during a try supersedes it; the try's entry stays unconfirmed.
        this.d.store.update(this.trying.entryId, { status: "superseded" });
        this.clearTry();
      }
    } catch (e) {
      throw new ApplyError("record", `${(e as Error).message}; nothing was changed`);
    }
    const good = this.d.store.lastGood();
    const goodRendered = good ? this.tryRender(good.policy) : null;
    const devices = this.devicesOf(rendered, goodRendered);
    const ipv6 = rendered.model.variant.ipv6 || this.d.caps.ip6tables.mark;
    const before = await readInstalled(this.d.exec, devices, ipv6);
    const diff = this.diff(policy, rendered, good?.policy ?? null, goodRendered, before);
    try {
      await this.install(rendered, before);
      const after = await readInstalled(this.d.exec, devices, ipv6);
      const problems = verifyInstalled(rendered, after);
      if (problems.length)
        throw new ApplyError("verify", `the kernel does not hold what was rendered: ${problems.join("; ")}`);
    } catch (e) {
      const err = e instanceof ApplyError ? e : toApplyError(e);
      err.restored = await this.restore(goodRendered, before, devices, ipv6);
      this.recordFailure(pending.id, err);
      err.entry = this.d.store.get(pending.id) ?? null;
      this.d.log?.("apply failed, restored last good", {
        step: err.step,
        restored: err.restored,
        error: err.message,
      });
      throw err;
    }
    const until = Date.now() + (opts.trySeconds ?? 0) * 1000;
    try {
      if (opts.trySeconds !== undefined)
        this.d.store.update(pending.id, { status: "trying", tryUntil: new Date(until).toISOString() });
      else this.d.store.update(pending.id, { status: "applied" }, { lastGood: true });
    } catch (e) {
      // Installed but not recorded: the box goes back to what the history says is good.
      const err = new ApplyError("record", `${(e as Error).message}; the last good policy was put back`);
      err.restored = await this.restore(goodRendered, before, devices, ipv6);
      this.recordFailure(pending.id, err);
      err.entry = this.d.store.get(pending.id) ?? null;
      throw err;
    }
    const entry = this.d.store.get(pending.id)!;
    if (opts.trySeconds !== undefined) {
      this.trying = { entryId: entry.id, previousGood: good?.id ?? null, until };
      this.tryTimer = setTimeout(() => void this.revertTry(entry.id), opts.trySeconds * 1000);
      this.tryTimer.unref?.();
    }
    return { entry, diff };
  }

  /** Marks a pending entry failed; if even that cannot be written, the next boot will. */
  private recordFailure(id: number, err: ApplyError): void {
    try {
      this.d.store.update(id, {
        status: "failed",
        error: {
          step: err.step,
          message: err.message,
          ...(err.command ? { command: err.command.join(" ") } : {}),
          ...(err.stderr ? { stderr: err.stderr } : {}),
        },
      });
    } catch (e) {
      this.d.log?.("could not record the failure", { id, error: (e as Error).message });
    }
  }

  private async revertTry(entryId: number): Promise<void> {
    await this.exclusive(async () => {
      if (!this.trying || this.trying.entryId !== entryId) return;
      const prev = this.trying.previousGood !== null ? this.d.store.get(this.trying.previousGood) : undefined;
      this.clearTry();
      const prevRendered = prev ? this.tryRender(prev.policy) : null;
      const tried = this.d.store.get(entryId);
      const triedRendered = tried ? this.tryRender(tried.policy) : null;
      const devices = this.devicesOf(triedRendered ?? prevRendered!, prevRendered);
      const now = await readInstalled(this.d.exec, devices, true);
      const ok = await this.restore(prevRendered, null, devices, true, now);
      try {
        this.d.store.update(entryId, { status: "reverted" });
      } catch (e) {
        this.d.log?.("could not record the revert", { entryId, error: (e as Error).message });
      }
      this.d.log?.("try not confirmed in time: reverted", { entryId, restored: ok });
    });
    this.d.reverted?.();
  }

  private clearTry(): void {
    if (this.tryTimer) clearTimeout(this.tryTimer);
    this.tryTimer = null;
    this.trying = null;
  }

  private previousGood(): HistoryEntry | undefined {
    const current = this.d.store.lastGood();
    return this.d.store
      .list()
      .find(
        (e) =>
          (e.status === "applied" || e.status === "confirmed") &&
          !e.lastGood &&
          (!current || e.id < current.id),
      );
  }

  private tryRender(input: PolicyInput): RenderedPolicy | null {
    try {
      return this.render(this.validate(input));
    } catch {
      return null;
    }
  }

  private devicesOf(a: RenderedPolicy, b: RenderedPolicy | null): string[] {
    const all = [...a.model.devices.map((d) => d.device), ...(b?.model.devices.map((d) => d.device) ?? [])];
    return [...new Set(all)];
  }

  private diff(
    policy: Policy,
    rendered: RenderedPolicy,
    goodPolicy: PolicyInput | null,
    goodRendered: RenderedPolicy | null,
    before: InstalledState,
  ): DryRun["diff"] {
    const installedTc = Object.entries(before.tc).flatMap(([dev, s]) =>
      [...s.qdiscs, ...s.classes, ...s.filters].map((l) => `${dev}: ${l}`),
    );
    const wantTc = goodRendered ? goodRendered.tc.lines : [];
    return {
      policy: diffPolicy(goodPolicy, policy),
      tc: diffLines(wantTc, rendered.tc.lines, installedTc.length === 0 && wantTc.length > 0),
      iptables: diffLines(
        before.v4.rules,
        renderIptables(rendered.model, 4, { addHooks: false })
          .split("\n")
          .filter((l) => l.startsWith("-A ")),
        false,
      ),
    };
  }

  /** Puts the rendered policy on the box. Throws ApplyError at the first failing command. */
  private async install(r: RenderedPolicy, before: InstalledState): Promise<void> {
    const step = async (name: ApplyStep, argv: string[], input?: string) => {
      try {
        await must(this.d.exec, argv, input === undefined ? {} : { input });
      } catch (e) {
        if (e instanceof CommandError) {
          throw new ApplyError(name, `${name} failed: ${e.message}`, {
            command: argv,
            stderr: e.result.stderr.trim(),
          });
        }
        throw e;
      }
    };
    if (r.model.ifbFrom) {
      // Download via IFB: the device must exist and be up; WAN ingress is rebuilt below.
      await this.d.exec.run(["ip", "link", "add", IFB_DEVICE, "type", "ifb"]);
      await step("tc", ["ip", "link", "set", IFB_DEVICE, "up"]);
      await this.d.exec.run(["tc", "qdisc", "del", "dev", r.model.ifbFrom, "ingress"]);
    }
    for (const dev of r.tc.devices) {
      const cur = before.tc[dev];
      if (cur && rootQdisc(cur)) await step("tc", ["tc", "qdisc", "del", "dev", dev, "root"]);
    }
    await step("tc", ["tc", "-batch", "-"], r.tc.lines.join("\n") + "\n");
    const families: [ApplyStep, string, typeof before.v4 | null, 4 | 6][] = [
      ["iptables", "iptables-restore", before.v4, 4],
      ["ip6tables", "ip6tables-restore", before.v6, 6],
    ];
    for (const [name, bin, installed, family] of families) {
      if (!installed) continue;
      // The model's jumps from built-in chains, unless exactly those are installed: any
      // other (an earlier layout's, a duplicate) is deleted and the model's inserted at the
      // top, in the same restore.
      const want = hooksOf(r.model).map((h) => ruleLine(h));
      const have = installed.hookLines;
      const same = have.length === want.length && want.every((l) => have.includes(l));
      await step(
        name,
        [bin, "-w", "--noflush"],
        renderIptables(r.model, family, {
          addHooks: !same,
          removeChains: installed.chains,
          removeHooks: same ? [] : have,
        }),
      );
    }
    // The nftables table (counters, class maps) is replaced in one transaction.
    if (r.nft) await step("nft", ["nft", "-f", "-"], r.nft.script);
    else if (before.nft) await step("nft", ["nft", "-f", "-"], renderNftTeardown());
  }

  /** Removes Sluice's qdiscs, chains and nftables table found in `s`. */
  private async clear(s: InstalledState): Promise<void> {
    if (s.nft) await must(this.d.exec, ["nft", "-f", "-"], { input: renderNftTeardown() });
    for (const [dev, st] of Object.entries(s.tc)) {
      // An ingress qdisc that redirects to Sluice's IFB is ours too.
      if (st.filters.some((f) => f.includes(`dev ${IFB_DEVICE}`)))
        await this.d.exec.run(["tc", "qdisc", "del", "dev", dev, "ingress"]);
      const root = rootQdisc(st);
      if (root && root.kind === "htb" && root.handle === "1:")
        await this.d.exec.run(["tc", "qdisc", "del", "dev", dev, "root"]);
    }
    for (const [bin, t] of [
      ["iptables-restore", s.v4],
      ["ip6tables-restore", s.v6],
    ] as const) {
      if (!t) continue;
      const text = renderIptablesTeardown({
        hooksPresent: t.hookLines,
        chainsPresent: t.chains,
      });
      if (text) await must(this.d.exec, [bin, "-w", "--noflush"], { input: text });
    }
  }

  /**
   * Returns the box to `target` (the last good policy) or to a clean state; when `before`
   * is given, checks the result is identical to it. Returns whether it all worked.
   */
  private async restore(
    target: RenderedPolicy | null,
    before: InstalledState | null,
    devices: string[],
    ipv6: boolean,
    current?: InstalledState,
  ): Promise<boolean> {
    try {
      const now = current ?? (await readInstalled(this.d.exec, devices, ipv6));
      await this.clear(now);
      if (target) {
        const clean = await readInstalled(this.d.exec, devices, ipv6);
        await this.install(target, clean);
      }
      if (!before) return true;
      const after = await readInstalled(this.d.exec, devices, ipv6);
      const same = JSON.stringify(after) === JSON.stringify(before);
      if (!same) this.d.log?.("restore: state differs from before the apply", { before, after });
      return same;
    } catch (e) {
      this.d.log?.("restore failed", { error: (e as Error).message });
      return false;
    }
  }
}

function toApplyError(e: unknown): ApplyError {
  if (e instanceof CommandError)
    return new ApplyError("tc", e.message, { command: e.result.argv, stderr: e.result.stderr });
  return new ApplyError("verify", (e as Error).message);
}
