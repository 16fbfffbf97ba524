-- AlterTable
ALTER TABLE "rules" ADD COLUMN     "app" TEXT,
ADD COLUMN     "category" TEXT,
ADD COLUMN     "hostname" TEXT,
ALTER COLUMN "protocol" DROP NOT NULL;

-- CreateTable
CREATE TABLE "acct_app_minute" (
    "minute" TIMESTAMP(3) NOT NULL,
    "app" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "connections" INTEGER NOT NULL,

    CONSTRAINT "acct_app_minute_pkey" PRIMARY KEY ("minute","app")
);

-- CreateIndex
CREATE INDEX "acct_app_minute_app_minute_idx" ON "acct_app_minute"("app", "minute");

-- CreateIndex
CREATE INDEX "acct_app_minute_category_minute_idx" ON "acct_app_minute"("category", "minute");
