// The dashboard syncs the agent's protocol catalogue at every start. Baseline: one upsert per
// protocol (the sync before 2026-12-07); now: one read, new entries in one createMany, only
// changed ones rewritten. Same catalogue (75 entries, the project's own protocols' shape),
// same SQLite database kind, both sides alternated in one run; prints the CPU ratio.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { createDb, type Db } from "../src/index.ts";

const N = 75;
const catalogue = Array.from({ length: N }, (_, i) => ({
  name: `proto${i}`,
  mark: i + 3,
  priority: i % 3,
  title: `Protocol ${i}`,
  quality: "good",
  speed: "fast",
  groups: ["web", `g${i % 7}`],
  aliases: [`alias${i}`],
  transports: ["tcp", "udp"],
  overmatch: false,
  undermatch: false,
  wiki: `http://example.invalid/wiki/${i}`,
  notes: ["a note"],
  pattern: `^proto${i} [0-9a-f]{8}`.repeat(4),
}));

/** The sync as it was: one upsert per protocol. */
async function upsertEach(db: Db): Promise<void> {
  const prisma = db.prisma;
  await prisma.$transaction(async (tx) => {
    await tx.protocol.deleteMany({ where: { name: { notIn: catalogue.map((p) => p.name) } } });
    for (const { name, ...p } of catalogue) {
      const data = { ...p, search: [name, ...p.aliases, p.title, ...p.groups].join(" ").toLowerCase() };
      await tx.protocol.upsert({ where: { name }, create: { name, ...data }, update: data });
    }
  });
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function timeOne(kind: "baseline" | "now", fresh: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-sync-bench-"));
  const db = await createDb({ dataDir: dir });
  try {
    if (!fresh) await db.protocols.sync(catalogue); // a database that has the catalogue already
    const t0 = cpu();
    if (kind === "baseline") await upsertEach(db);
    else await db.protocols.sync(catalogue);
    return cpu() - t0;
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Each measurement in a new process: at a dashboard's start every query shape is new to
// Prisma's query compiler, and that first compile is most of the cost.
if (process.argv[2]) {
  const [kind, fresh] = process.argv.slice(2) as ["baseline" | "now", string];
  process.stdout.write(String(await timeOne(kind, fresh === "fresh")));
} else {
  const ROUNDS = Number(process.env.ROUNDS ?? 5);
  const run = (kind: string, fresh: boolean) =>
    Number(
      execFileSync(process.execPath, [import.meta.filename, kind, fresh ? "fresh" : "again"], {
        encoding: "utf8",
      }),
    );
  const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
  for (const fresh of [true, false]) {
    const t = { baseline: [] as number[], now: [] as number[] };
    for (let i = 0; i < ROUNDS; i++)
      for (const k of i % 2 ? (["now", "baseline"] as const) : (["baseline", "now"] as const))
        t[k].push(run(k, fresh));
    const b = median(t.baseline);
    const n = median(t.now);
    console.log(
      `protocol catalogue sync, ${N} entries, ${fresh ? "empty database (first boot)" : "catalogue already there (later boots)"}, ` +
        `first in its process (median of ${ROUNDS}): upsert each ${b.toFixed(0)} ms CPU, sync ${n.toFixed(0)} ms CPU: ${(b / n).toFixed(1)}x less`,
    );
  }
}
