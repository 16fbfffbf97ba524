// Skipped, with the reason, where PostgreSQL's server binaries are not installed.
import { it } from "node:test";
import assert from "node:assert/strict";
import { seed } from "../src/index.ts";
import { postgresBackend } from "./helpers.ts";
import { repositoryTests } from "./repositories.ts";

const backend = postgresBackend();
repositoryTests(backend, () => {
  it("a DATABASE_URL with ?schema= puts the tables in that schema", async () => {
    const db = await backend.open({ pgSchema: "sluice_app" });
    assert.equal(db.provider, "postgres");
    assert.deepEqual((await seed(db)).policy, true);
    assert.ok(await db.policy.read());
    await db.users.create({ username: "someone", password: "a password" });
    const where = (await db.prisma.$queryRawUnsafe(
      `SELECT table_schema FROM information_schema.tables WHERE table_name IN ('users', '_prisma_migrations') ORDER BY 1`,
    )) as { table_schema: string }[];
    assert.deepEqual(
      where.map((r) => r.table_schema),
      ["sluice_app", "sluice_app"],
    );
  });
});
