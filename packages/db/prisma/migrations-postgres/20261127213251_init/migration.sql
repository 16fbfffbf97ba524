-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('admin', 'viewer');

-- CreateEnum
CREATE TYPE "Direction" AS ENUM ('upload', 'download');

-- CreateEnum
CREATE TYPE "LeafKind" AS ENUM ('auto', 'sfq', 'fq_codel', 'cake', 'pfifo');

-- CreateEnum
CREATE TYPE "ApplyResult" AS ENUM ('applied', 'trying', 'confirmed', 'reverted', 'failed', 'superseded');

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "username" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'viewer',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastLoginAt" TIMESTAMP(3),

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ip" TEXT,
    "userAgent" TEXT,
    "csrfToken" TEXT NOT NULL,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "login_attempts" (
    "id" SERIAL NOT NULL,
    "ip" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ok" BOOLEAN NOT NULL,

    CONSTRAINT "login_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settings" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "settings_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "classes" (
    "id" SERIAL NOT NULL,
    "direction" "Direction" NOT NULL,
    "name" TEXT NOT NULL,
    "parentName" TEXT,
    "rate" BIGINT NOT NULL,
    "ceil" BIGINT,
    "priority" INTEGER NOT NULL DEFAULT 3,
    "quantum" INTEGER,
    "burst" INTEGER,
    "cburst" INTEGER,
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "leaf" "LeafKind" NOT NULL DEFAULT 'auto',
    "description" TEXT,
    "position" INTEGER NOT NULL,

    CONSTRAINT "classes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rules" (
    "id" SERIAL NOT NULL,
    "position" INTEGER NOT NULL,
    "protocol" TEXT NOT NULL,
    "className" TEXT NOT NULL,
    "comment" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,

    CONSTRAINT "rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "protocols" (
    "id" SERIAL NOT NULL,
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
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "protocols_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policy_versions" (
    "id" SERIAL NOT NULL,
    "policy" JSONB NOT NULL,
    "scripts" JSONB,
    "appliedById" INTEGER,
    "appliedByName" TEXT NOT NULL,
    "appliedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "result" "ApplyResult" NOT NULL,
    "error" JSONB,
    "agentEntryId" INTEGER,
    "isLastGood" BOOLEAN NOT NULL DEFAULT false,
    "tryUntil" TIMESTAMP(3),

    CONSTRAINT "policy_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" SERIAL NOT NULL,
    "userId" INTEGER,
    "username" TEXT,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "details" JSONB,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ip" TEXT,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "acct_class_minute" (
    "minute" TIMESTAMP(3) NOT NULL,
    "direction" "Direction" NOT NULL,
    "className" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "packets" BIGINT NOT NULL,
    "drops" BIGINT NOT NULL,
    "maxRateBps" DOUBLE PRECISION NOT NULL,
    "avgRateBps" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "acct_class_minute_pkey" PRIMARY KEY ("minute","direction","className")
);

-- CreateTable
CREATE TABLE "acct_protocol_minute" (
    "minute" TIMESTAMP(3) NOT NULL,
    "protocol" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "connections" INTEGER NOT NULL,

    CONSTRAINT "acct_protocol_minute_pkey" PRIMARY KEY ("minute","protocol")
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

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "classes" ADD CONSTRAINT "classes_direction_parentName_fkey" FOREIGN KEY ("direction", "parentName") REFERENCES "classes"("direction", "name") ON DELETE NO ACTION ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_versions" ADD CONSTRAINT "policy_versions_appliedById_fkey" FOREIGN KEY ("appliedById") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
