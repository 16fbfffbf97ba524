// db:seed: opens the database the environment points at ($DATABASE_URL, else sluice.db under
// $SLUICE_DATA or /var/lib/sluice), applies pending migrations, and writes the default policy
// and settings where they are missing.

import { createDb, seed } from "../src/index.ts";

const db = await createDb();
try {
  const r = await seed(db);
  console.log(
    `db:seed (${db.provider}, ${db.location}): ` +
      (r.policy ? "wrote the default policy" : "a policy exists already") +
      (r.settings.length ? `; wrote settings ${r.settings.join(", ")}` : "; settings complete"),
  );
} finally {
  await db.close();
}
