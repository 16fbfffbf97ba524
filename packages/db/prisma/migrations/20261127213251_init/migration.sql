-- CreateTable
CREATE TABLE "users" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "username" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'viewer',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastLoginAt" DATETIME
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME NOT NULL,
    "lastSeenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ip" TEXT,
    "userAgent" TEXT,
    "csrfToken" TEXT NOT NULL,
    CONSTRAINT "sessions_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "login_attempts" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "ip" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ok" BOOLEAN NOT NULL
);

-- CreateTable
CREATE TABLE "settings" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" JSONB NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "classes" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "direction" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "parentName" TEXT,
    "rate" BIGINT NOT NULL,
    "ceil" BIGINT,
    "priority" INTEGER NOT NULL DEFAULT 3,
    "quantum" INTEGER,
    "burst" INTEGER,
    "cburst" INTEGER,
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "leaf" TEXT NOT NULL DEFAULT 'auto',
    "description" TEXT,
    "position" INTEGER NOT NULL,
    CONSTRAINT "classes_direction_parentName_fkey" FOREIGN KEY ("direction", "parentName") REFERENCES "classes" ("direction", "name") ON DELETE NO ACTION ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "rules" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "position" INTEGER NOT NULL,
    "protocol" TEXT NOT NULL,
    "className" TEXT NOT NULL,
    "comment" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true
);

-- CreateTable
CREATE TABLE "protocols" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "mark" INTEGER NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "title" TEXT,
    "quality" TEXT,
    "speed" TEXT,
    "groups" JSONB NOT NULL,
    "aliases" JSONB NOT NULL,
    "transports" JSONB NOT NULL,
    "overmatch" BOOLEAN NOT NULL DEFAULT false,
    "undermatch" BOOLEAN NOT NULL DEFAULT false,
    "wiki" TEXT,
    "notes" JSONB NOT NULL,
    "pattern" TEXT NOT NULL,
    "search" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "policy_versions" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "policy" JSONB NOT NULL,
    "scripts" JSONB,
    "appliedById" INTEGER,
    "appliedByName" TEXT NOT NULL,
    "appliedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "result" TEXT NOT NULL,
    "error" JSONB,
    "agentEntryId" INTEGER,
    "isLastGood" BOOLEAN NOT NULL DEFAULT false,
    "tryUntil" DATETIME,
    CONSTRAINT "policy_versions_appliedById_fkey" FOREIGN KEY ("appliedById") REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "userId" INTEGER,
    "username" TEXT,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "details" JSONB,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ip" TEXT,
    CONSTRAINT "audit_log_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "acct_class_minute" (
    "minute" DATETIME NOT NULL,
    "direction" TEXT NOT NULL,
    "className" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "packets" BIGINT NOT NULL,
    "drops" BIGINT NOT NULL,
    "maxRateBps" REAL NOT NULL,
    "avgRateBps" REAL NOT NULL,

    PRIMARY KEY ("minute", "direction", "className")
);

-- CreateTable
CREATE TABLE "acct_protocol_minute" (
    "minute" DATETIME NOT NULL,
    "protocol" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "connections" INTEGER NOT NULL,

    PRIMARY KEY ("minute", "protocol")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

-- CreateIndex
CREATE INDEX "sessions_userId_idx" ON "sessions"("userId");

-- CreateIndex
CREATE INDEX "sessions_expiresAt_idx" ON "sessions"("expiresAt");

-- CreateIndex
CREATE INDEX "login_attempts_ip_at_idx" ON "login_attempts"("ip", "at");

-- CreateIndex
CREATE INDEX "login_attempts_username_at_idx" ON "login_attempts"("username", "at");

-- CreateIndex
CREATE INDEX "login_attempts_at_idx" ON "login_attempts"("at");

-- CreateIndex
CREATE INDEX "classes_direction_position_idx" ON "classes"("direction", "position");

-- CreateIndex
CREATE UNIQUE INDEX "classes_direction_name_key" ON "classes"("direction", "name");

-- CreateIndex
CREATE INDEX "rules_position_idx" ON "rules"("position");

-- CreateIndex
CREATE UNIQUE INDEX "protocols_name_key" ON "protocols"("name");

-- CreateIndex
CREATE INDEX "policy_versions_appliedAt_idx" ON "policy_versions"("appliedAt");

-- CreateIndex
CREATE INDEX "policy_versions_agentEntryId_idx" ON "policy_versions"("agentEntryId");

-- CreateIndex
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at");

-- CreateIndex
CREATE INDEX "audit_log_userId_at_idx" ON "audit_log"("userId", "at");

-- CreateIndex
CREATE INDEX "audit_log_action_at_idx" ON "audit_log"("action", "at");

-- CreateIndex
CREATE INDEX "acct_class_minute_direction_className_minute_idx" ON "acct_class_minute"("direction", "className", "minute");

-- CreateIndex
CREATE INDEX "acct_protocol_minute_protocol_minute_idx" ON "acct_protocol_minute"("protocol", "minute");
