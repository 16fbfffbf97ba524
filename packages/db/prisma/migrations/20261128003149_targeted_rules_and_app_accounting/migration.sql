-- CreateTable
CREATE TABLE "acct_app_minute" (
    "minute" DATETIME NOT NULL,
    "app" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "connections" INTEGER NOT NULL,

    PRIMARY KEY ("minute", "app")
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_rules" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "position" INTEGER NOT NULL,
    "protocol" TEXT,
    "className" TEXT NOT NULL,
    "comment" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "app" TEXT,
    "category" TEXT,
    "hostname" TEXT
);
INSERT INTO "new_rules" ("className", "comment", "enabled", "id", "position", "protocol") SELECT "className", "comment", "enabled", "id", "position", "protocol" FROM "rules";
DROP TABLE "rules";
ALTER TABLE "new_rules" RENAME TO "rules";
CREATE INDEX "rules_position_idx" ON "rules"("position");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "acct_app_minute_app_minute_idx" ON "acct_app_minute"("app", "minute");

-- CreateIndex
CREATE INDEX "acct_app_minute_category_minute_idx" ON "acct_app_minute"("category", "minute");
