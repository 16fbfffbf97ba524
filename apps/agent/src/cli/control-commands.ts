// `sluice status|render|apply|confirm|rollback|history|stats|flows`: the CLI over the
// agent's control API, and `sluice agent`, the daemon itself.

import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import {
  AgentClient,
  AgentApiError,
  socketFromEnv,
  type ApplyErrorBody,
  type ResponseOf,
  type StatsSample,
} from "@sluice/agent-contract";
import { formatTable, humanBytes } from "./format-table.ts";
import { DEFAULT_PROTOCOLS_DIR } from "./paths.ts";

const rate = (bps: number) =>
  bps >= 1e6
    ? `${(bps / 1e6).toFixed(2)} Mbit/s`
    : bps >= 1e3
      ? `${(bps / 1e3).toFixed(1)} kbit/s`
      : `${Math.round(bps)} bit/s`;

function client(cmd: Command): AgentClient {
  const o = cmd.optsWithGlobals<{ socket?: string }>();
  return new AgentClient(o.socket ?? socketFromEnv());
}

function readPolicy(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read policy ${file}: ${(e as Error).message}`);
  }
}

/** Prints an API refusal the way an admin wants to read it, and sets exit code 1. */
function report(e: unknown): void {
  if (e instanceof AgentApiError) {
    const b = e.body as Partial<ApplyErrorBody>;
    process.stderr.write(`sluice: ${b.step ? `${b.step} failed: ` : ""}${e.message}\n`);
    for (const i of b.issues ?? []) process.stderr.write(`  ${i.path || "(policy)"}: ${i.message}\n`);
    if (b.command) process.stderr.write(`  command: ${b.command}\n`);
    if (b.stderr) process.stderr.write(`  stderr: ${b.stderr}\n`);
    if (b.restored === true)
      process.stderr.write("  the last good policy was restored; the box is as it was\n");
    if (b.restored === false)
      process.stderr.write("  WARNING: restoring the last good policy failed too; check `sluice status`\n");
  } else process.stderr.write(`sluice: ${(e as Error).message}\n`);
  process.exitCode = 1;
}

const seconds = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 5 || n > 3600) throw new InvalidArgumentError("seconds between 5 and 3600");
  return n;
};

/** "metrics: off" / "metrics: http://10.0.0.1:9712/metrics (bearer token)" / "metrics: NOT served: why". */
function metricsLine(m: ResponseOf<"status">["metrics"]): string {
  if (!m) return "metrics: (not reported by this agent)";
  if (!m.enabled) return "metrics: off (policy.metrics)";
  const auth = m.auth === "bearer" ? "bearer token" : "no token";
  return m.listening
    ? `metrics: http://${m.listen}/metrics (${auth})`
    : `metrics: NOT served on ${m.listen}: ${m.error ?? "starting"}`;
}

/** The windows in force and the next change; each quota's use of its allowance. */
function scheduleLines(s: ResponseOf<"status">): string[] {
  const out: string[] = [];
  if (s.schedule) {
    const n = s.schedule.next;
    out.push(
      `schedule (${s.schedule.timeZone}): ${s.schedule.active.length ? s.schedule.active.join(", ") : "no window"} in force` +
        (n
          ? `; next ${[...n.starts.map((w) => `${w} starts`), ...n.ends.map((w) => `${w} ends`)].join(", ")} at ${n.at}`
          : ""),
    );
  }
  for (const q of s.quotas ?? [])
    out.push(
      `quota ${q.name} (${q.target}): ${humanBytes(q.used)} of ${humanBytes(q.allowance)} this ${q.period}${q.demoted ? `, DEMOTED to ${q.demoteTo}` : ""}; resets ${q.periodEnds}`,
    );
  return out;
}

export function controlCommands(): Command[] {
  const status = new Command("status")
    .description("agent health, kernel capabilities and fallbacks, current policy")
    .action(async (_o, cmd: Command) => {
      try {
        const s = await client(cmd).status();
        const dp = s.dataPlane as {
          running: boolean;
          error?: string;
          starting?: boolean;
          packets?: number;
          decided?: number;
          activeFlows?: number;
          workerHeapUsed?: number;
          memory?: { rss: number; mainHeapUsed: number };
          rtspMedia?: { added: number; refused: number; failed: number; live: number };
          health?: {
            degraded: boolean;
            reasons: string[];
            windowSeconds: number;
            queueDropped: number;
            userDropped: number;
            unseen: number;
            lateKernel: number;
            lateSeen: number;
            uninspected?: number;
          };
        };
        const h = dp.health;
        const healthLines = h
          ? [
              h.degraded
                ? `classification: DEGRADED in the last ${h.windowSeconds}s (traffic still forwarded): ${h.reasons.join("; ")}`
                : "classification: healthy (no queue overflow, no lost windows in the last minute)",
              `  overload counters: queue full ${h.queueDropped}, socket full ${h.userDropped}, passed uninspected ${h.unseen}, left without a verdict ${h.uninspected ?? 0}, windows lost ${h.lateKernel} (${h.lateSeen} recorded as unknown by the data plane)`,
            ]
          : [];
        process.stdout.write(
          [
            `sluice agent ${s.version}, up ${s.uptimeSeconds}s`,
            ...s.summary.map((l) => `  ${l}`),
            `policy: ${s.policy ? `#${s.policy.id} "${s.policy.name}" applied ${s.policy.at} by ${s.policy.user}` : "none"}`,
            ...(s.trying
              ? [
                  `TRYING #${s.trying.entryId}: reverts at ${s.trying.until} unless confirmed (sluice confirm)`,
                ]
              : []),
            `patterns: ${s.patterns.loaded} loaded, ${s.patterns.skipped.length} skipped`,
            s.catalogue
              ? `applications: ${s.catalogue.apps} in ${s.catalogue.categories} categories`
              : "applications: no catalogue (app and category rules do nothing)",
            `data plane: ${dp.running ? `running, ${dp.packets ?? 0} packets inspected, ${dp.decided ?? 0} flows decided, ${dp.activeFlows ?? 0} in table` : dp.starting ? `${dp.error}; traffic passes unclassified until it runs` : `DOWN (${dp.error}); traffic passes unclassified`}`,
            ...healthLines,
            ...(dp.rtspMedia
              ? [
                  `RTSP media expectations: ${dp.rtspMedia.live} live, ${dp.rtspMedia.added} added, ${dp.rtspMedia.refused} refused, ${dp.rtspMedia.failed} failed`,
                ]
              : []),
            ...(dp.memory
              ? [
                  `memory: ${mib(dp.memory.rss)} MiB resident (heaps: main ${mib(dp.memory.mainHeapUsed)} MiB, data-plane workers ${mib(dp.workerHeapUsed ?? 0)} MiB)`,
                ]
              : []),
            metricsLine(s.metrics),
            ...scheduleLines(s),
          ].join("\n") + "\n",
        );
      } catch (e) {
        report(e);
      }
    });

  const render = new Command("render")
    .description("validate and render a policy (dry run): scripts and diff, nothing installed")
    .argument("<policy.json>")
    .action(async (file: string, _o, cmd: Command) => {
      try {
        const r = await client(cmd).render(readPolicy(file));
        if (!r.ok) {
          process.stderr.write("sluice: the policy is invalid\n");
          for (const i of r.issues) process.stderr.write(`  ${i.path || "(policy)"}: ${i.message}\n`);
          process.exitCode = 1;
          return;
        }
        const s = r.scripts;
        process.stdout.write(`${s.tc}\n${s.iptables}\n${s.ip6tables}\n${s.nft ? `${s.nft}\n` : ""}`);
        process.stdout.write(
          `# policy changes against the last good policy:\n${r.diff.policy.changes.map((c) => `#   ${c}`).join("\n")}\n`,
        );
      } catch (e) {
        report(e);
      }
    });

  const apply = new Command("apply")
    .description("apply a policy atomically (rolls back to the last good policy on any failure)")
    .argument("<policy.json>")
    .option("--try <seconds>", "revert automatically unless `sluice confirm` runs within this time", seconds)
    .action(async (file: string, o: { try?: number }, cmd: Command) => {
      try {
        const r = await client(cmd).apply({
          policy: readPolicy(file),
          user: `cli:${process.env.SUDO_USER ?? process.env.USER ?? "root"}`,
          ...(o.try ? { trySeconds: o.try } : {}),
        });
        process.stdout.write(
          `applied as #${r.entry.id} (${r.entry.status})\n${r.diff.policy.changes.map((c) => `  ${c}`).join("\n")}\n`,
        );
        if (r.entry.tryUntil)
          process.stdout.write(`reverts at ${r.entry.tryUntil} unless you run: sluice confirm\n`);
      } catch (e) {
        report(e);
      }
    });

  const confirm = new Command("confirm")
    .description("keep the policy being tried")
    .action(async (_o, cmd: Command) => {
      try {
        const e = await client(cmd).confirm();
        process.stdout.write(`#${e.id} confirmed: it is now the last good policy\n`);
      } catch (e) {
        report(e);
      }
    });

  const rollback = new Command("rollback")
    .description("re-apply a policy from the history (default: the good one before the current)")
    .argument("[id]", "history entry", (v) => Number(v))
    .action(async (id: number | undefined, _o, cmd: Command) => {
      try {
        const e = await client(cmd).rollback({
          ...(id ? { id } : {}),
          user: `cli:${process.env.USER ?? "root"}`,
        });
        process.stdout.write(`rolled back: applied as #${e.id}\n`);
      } catch (e) {
        report(e);
      }
    });

  const history = new Command("history")
    .description("applied policies, newest first")
    .action(async (_o, cmd: Command) => {
      try {
        const list = await client(cmd).history();
        process.stdout.write(
          formatTable(
            ["id", "at", "status", "by", "policy", "note"],
            list.map((e) => [
              `#${e.id}${e.lastGood ? "*" : ""}`,
              e.at,
              e.status,
              e.user,
              e.name ?? "",
              e.error ? `${e.error.step}: ${e.error.message.slice(0, 60)}` : (e.note ?? ""),
            ]),
          ) + "\n(* = last good)\n",
        );
      } catch (e) {
        report(e);
      }
    });

  const stats = new Command("stats")
    .description("live per-class and per-protocol rates")
    .option("--watch", "keep printing every second")
    .action(async (o: { watch?: boolean }, cmd: Command) => {
      const print = (s: StatsSample | null) => {
        if (!s) {
          process.stdout.write("no sample yet\n");
          return;
        }
        const cls = s.classes.filter((c) => c.classid !== "1:1");
        process.stdout.write(
          `${new Date(s.t).toISOString()}  upload ${rate(s.totals.uploadBps)}  download ${rate(s.totals.downloadBps)}\n` +
            formatTable(
              ["direction", "class", "id", "rate", "ceil", "sent", "drops", "backlog"],
              cls.map((c) => [
                c.direction,
                c.name,
                c.classid,
                rate(c.rateBps),
                rate(c.ceil),
                humanBytes(c.bytes),
                c.drops,
                `${c.backlogPackets}p`,
              ]),
              ["left", "left", "left", "right", "right", "right", "right", "right"],
            ) +
            "\n\n" +
            formatTable(
              ["protocol", "rate", "bytes", "connections"],
              s.protocols.map((p) => [p.protocol, rate(p.rateBps), humanBytes(p.bytes), p.connections]),
              ["left", "right", "right", "right"],
            ) +
            "\n" +
            (s.apps?.length
              ? "\n" +
                formatTable(
                  ["application", "category", "rate", "bytes", "connections"],
                  s.apps.map((a) => [a.app, a.category, rate(a.rateBps), humanBytes(a.bytes), a.connections]),
                  ["left", "left", "right", "right", "right"],
                ) +
                "\n"
              : ""),
        );
      };
      try {
        const c = client(cmd);
        if (!o.watch) {
          // The latest sample alone: the history (up to 600 samples) is for the graphs.
          print(await c.statsLatest());
          return;
        }
        await new Promise<void>((resolve) => {
          c.streamStats(
            (s) => {
              process.stdout.write("\x1b[2J\x1b[H");
              print(s);
            },
            (e) => {
              report(e);
              resolve();
            },
          );
        });
      } catch (e) {
        report(e);
      }
    });

  const flows = new Command("flows")
    .description("live connections with protocol, application, host name and rate (conntrack)")
    .option("--limit <n>", "rows", (v) => Number(v), 40)
    .action(async (o: { limit: number }, cmd: Command) => {
      try {
        const r = await client(cmd).flows();
        process.stdout.write(
          formatTable(
            ["l4", "client", "server", "protocol", "app", "hostname", "rate", "bytes", "state"],
            r.connections
              .slice(0, o.limit)
              .map((c) => [
                c.l4,
                c.client,
                c.server,
                c.protocol,
                c.app ?? "",
                c.hostname ?? "",
                rate(c.rateBps),
                humanBytes(c.bytes),
                c.state ?? "",
              ]),
            ["left", "left", "left", "left", "left", "left", "right", "right", "left"],
          ) + `\n${r.connections.length} connections\n`,
        );
      } catch (e) {
        report(e);
      }
    });

  const agent = new Command("agent")
    .description("run the root agent (data plane, apply engine, accounting, control API)")
    .option(
      "--data <dir>",
      "state directory (history, last good policy)",
      process.env.SLUICE_DATA ?? "/var/lib/sluice",
    )
    .option("--protocols <dir>", "pattern directory (repeatable)", (v: string, p: string[] | undefined) => [
      ...(p ?? []),
      v,
    ])
    .option("--initial-policy <file>", "policy to apply on first boot when none was ever applied")
    .option("--no-data-plane", "do not serve NFQUEUE (render/apply only)")
    .option(
      "--leases <file>",
      "dnsmasq lease file: device names, device rules by MAC (default $SLUICE_LEASES or /var/lib/misc/dnsmasq.leases)",
    )
    .option("--reverse-dns <server>", "ask this DNS server for device names by address (PTR); default: none")
    .action(
      async (
        o: {
          data: string;
          protocols?: string[];
          initialPolicy?: string;
          dataPlane: boolean;
          leases?: string;
          reverseDns?: string;
        },
        cmd: Command,
      ) => {
        const { Agent } = await import("../daemon/agent.ts");
        const socket = cmd.optsWithGlobals<{ socket?: string }>().socket ?? socketFromEnv();
        const agent = await Agent.start({
          socket,
          dataDir: o.data,
          protocolDirs: o.protocols?.length ? o.protocols : [DEFAULT_PROTOCOLS_DIR],
          ...(o.initialPolicy ? { initialPolicy: o.initialPolicy } : {}),
          noDataPlane: !o.dataPlane,
          ...((o.leases ?? process.env.SLUICE_LEASES)
            ? { leasesFile: o.leases ?? process.env.SLUICE_LEASES! }
            : {}),
          ...(o.reverseDns ? { reverseDns: o.reverseDns } : {}),
        });
        let stopping = false;
        const stop = async (sig: string) => {
          if (stopping) return;
          stopping = true;
          agent.log.info({ sig }, "stopping");
          await agent.stop();
          process.exit(0);
        };
        process.on("SIGTERM", () => void stop("SIGTERM"));
        process.on("SIGINT", () => void stop("SIGINT"));
        await new Promise(() => {});
      },
    );

  return [agent, status, render, apply, confirm, rollback, history, stats, flows];
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(0);
