-- CreateEnum
CREATE TYPE "AlertState" AS ENUM ('draft', 'issued', 'cancelled');

-- CreateEnum
CREATE TYPE "AlertStatus" AS ENUM ('Actual', 'Exercise', 'Test');

-- CreateTable
CREATE TABLE "Alert" (
    "id" UUID NOT NULL,
    "identifier" TEXT NOT NULL,
    "status" "AlertStatus" NOT NULL,
    "hazard" TEXT NOT NULL,
    "riskLevel" INTEGER NOT NULL,
    "state" "AlertState" NOT NULL DEFAULT 'draft',
    "headline" JSONB NOT NULL,
    "instruction" JSONB NOT NULL DEFAULT '{}',
    "audio" JSONB NOT NULL DEFAULT '{}',
    "areaCodes" TEXT[],
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "repeatEveryS" INTEGER,
    "windowStart" TEXT,
    "windowEnd" TEXT,
    "maxVolume" INTEGER,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "createdById" UUID,
    "approvedById" UUID,
    "approvedAt" TIMESTAMPTZ(3),
    "issuedById" UUID,
    "issuedAt" TIMESTAMPTZ(3),
    "cancelledById" UUID,
    "cancelledAt" TIMESTAMPTZ(3),
    "cancelReason" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Alert_identifier_key" ON "Alert"("identifier");

-- CreateIndex
CREATE INDEX "Alert_state_expiresAt_idx" ON "Alert"("state", "expiresAt");

