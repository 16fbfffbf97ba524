// `sluice-lab up|traffic|down|status|ns`.

import { Command, InvalidArgumentError } from "commander";
import { LAB } from "./constants.ts";
import { formatLabStatus, labDown, labStatus, labTraffic, labUp } from "./lab.ts";

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number (Mbit/s)");
  return n;
}

interface UpOptions {
  traffic: boolean;
  rate?: number;
  greedy?: boolean;
}

export function labCommand(): Command {
  const lab = new Command("sluice-lab").description(
    `the test lab: ${LAB.ns.lan} (clients) <-> ${LAB.ns.box} (the appliance) <-> ${LAB.ns.wan} (servers)`,
  );
  lab
    .command("up")
    .description("build the lab (rebuilding it if it exists), start its servers and traffic generators")
    .option("--no-traffic", "start the servers only, no traffic generators")
    .option(
      "--rate <mbit>",
      `cap the WAN link (WAN -> box) with a tbf on ${LAB.ns.wan}'s eth0`,
      positiveNumber,
    )
    .option("--greedy", "don't pace the bulk flows (BitTorrent, downloads, backups): TCP and shaping decide")
    .action(async (opts: UpOptions) => {
      const state = await labUp({
        traffic: opts.traffic,
        ...(opts.rate ? { rateMbit: opts.rate } : {}),
        greedy: Boolean(opts.greedy),
        onProgress: (m) => process.stderr.write(`lab up: ${m}\n`),
      });
      process.stdout.write(formatLabStatus(labStatus()));
      process.stderr.write(`lab up: ready in ${(state.upMs / 1000).toFixed(1)} s\n`);
    });
  lab
    .command("traffic")
    .description("start the traffic generators on a lab that is up without them (lab up --no-traffic)")
    .action(async () => {
      await labTraffic();
      process.stdout.write(formatLabStatus(labStatus()));
    });
  lab
    .command("down")
    .description("stop the lab's processes and remove its namespaces (safe to repeat)")
    .action(async () => {
      const r = await labDown();
      process.stdout.write(
        r.namespacesRemoved.length || r.stopped.length
          ? `lab down: stopped ${r.stopped.length} processes, removed ${r.namespacesRemoved.join(", ") || "no namespaces"}\n`
          : "lab down: nothing to remove\n",
      );
      if (r.errors.length) throw new Error(`lab down: ${r.errors.join("; ")}`);
    });
  lab
    .command("status")
    .description("namespaces, addresses, servers and generators")
    .option("--json", "print the status as JSON")
    .action((opts: { json?: boolean }) => {
      const s = labStatus();
      process.stdout.write(opts.json ? JSON.stringify(s, null, 2) + "\n" : formatLabStatus(s));
    });
  lab
    .command("ns")
    .description("the name of a lab namespace (SLUICE_LAB_PREFIX renames them), for scripts")
    .argument("<which>", "lan, box or wan", (v: string) => {
      if (v !== "lan" && v !== "box" && v !== "wan") throw new InvalidArgumentError("lan, box or wan");
      return v;
    })
    .action((which: "lan" | "box" | "wan") => {
      process.stdout.write(`${LAB.ns[which]}\n`);
    });
  for (const c of [lab, ...lab.commands]) c.exitOverride();
  return lab;
}
