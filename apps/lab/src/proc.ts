// Entry point of one lab process (a server in sluice-wan or a generator in sluice-lan):
//   node proc.ts server|generator KIND CONFIG_JSON
// `lab up` starts it with `ip netns exec NS`, its output going to STATE_DIR/ROLE-KIND.log.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GENERATORS, startGeneratorStats, type GeneratorKind } from "./generators.ts";
import type { ProcConfig } from "./proc-config.ts";
import { SERVERS, type ServerKind } from "./servers.ts";
import { errText, log, logRare } from "./util.ts";

const [role, kind, json] = process.argv.slice(2);
if ((role !== "server" && role !== "generator") || !kind || !json) {
  process.stderr.write("usage: proc.ts server|generator KIND CONFIG_JSON\n");
  process.exit(2);
}
const cfg = JSON.parse(json) as ProcConfig;
const name = `${role}-${kind}`;
process.title = `sluice-lab ${name}`;

// A lab process must outlive any single bad connection: log, never die.
process.on("uncaughtException", (e) => logRare("uncaught", `uncaught: ${e.stack ?? errText(e)}`));
process.on("unhandledRejection", (e) => logRare("unhandled", `unhandled rejection: ${errText(e)}`));
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    log(`${name}: ${sig}, exiting`);
    process.exit(0);
  });
}
process.on("SIGHUP", () => {});

const start =
  role === "server"
    ? SERVERS[kind as ServerKind]
    : (GENERATORS[kind as GeneratorKind] as (c: ProcConfig) => Promise<void>);
if (!start) {
  log(`${name}: unknown kind`);
  process.exit(2);
}

log(`${name}: starting (pid ${process.pid})`);
await start(cfg);
if (role === "generator") startGeneratorStats(kind);
writeFileSync(join(cfg.stateDir, `${name}.ready`), `${process.pid}\n`);
log(`${name}: ready`);

// If the lab is gone (pid file removed or taken over) without this process having been
// stopped, stop anyway: a lab process never outlives its lab.
const pidFile = join(cfg.stateDir, `${name}.pid`);
setInterval(() => {
  let owner = "";
  try {
    owner = existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim() : "";
  } catch {
    owner = "";
  }
  if (owner !== String(process.pid)) {
    log(`${name}: ${pidFile} no longer names this process; exiting`);
    process.exit(0);
  }
}, 10_000);
