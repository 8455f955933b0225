-- CreateEnum
CREATE TYPE "AlertDeliveryState" AS ENUM ('pending', 'unreachable', 'delivered', 'started', 'interrupted', 'finished', 'stopped', 'failed');

-- AlterEnum
ALTER TYPE "AlertState" ADD VALUE 'updated';

-- AlterTable
ALTER TABLE "DispatchedCommand" ADD COLUMN     "alertId" UUID;

-- AlterTable
ALTER TABLE "Alert" ADD COLUMN     "capIdentifier" TEXT,
ADD COLUMN     "capSender" TEXT,
ADD COLUMN     "capSent" TEXT,
ADD COLUMN     "circles" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "issuedTargets" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "reachLevels" "AreaLevel"[],
ADD COLUMN     "escalateAfterS" INTEGER,
ADD COLUMN     "escalatedAt" TIMESTAMPTZ(3),
ADD COLUMN     "origin" TEXT NOT NULL DEFAULT 'api',
ADD COLUMN     "polygons" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "referencesId" UUID,
ADD COLUMN     "wireId" TEXT;

-- Alerts drafted before updates existed are their own wire id.
UPDATE "Alert" SET "wireId" = "identifier" WHERE "wireId" IS NULL;
ALTER TABLE "Alert" ALTER COLUMN "wireId" SET NOT NULL;

-- CreateTable
CREATE TABLE "AlertDelivery" (
    "id" UUID NOT NULL,
    "alertId" UUID NOT NULL,
    "receiverId" TEXT NOT NULL,
    "state" "AlertDeliveryState" NOT NULL DEFAULT 'pending',
    "reason" TEXT,
    "deliveredAt" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "endedAt" TIMESTAMPTZ(3),
    "escalatedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "AlertDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AlertDelivery_receiverId_idx" ON "AlertDelivery"("receiverId");

-- CreateIndex
CREATE UNIQUE INDEX "AlertDelivery_alertId_receiverId_key" ON "AlertDelivery"("alertId", "receiverId");

-- CreateIndex
CREATE INDEX "Alert_wireId_revision_idx" ON "Alert"("wireId", "revision");

-- CreateIndex
CREATE INDEX "Alert_capSender_capIdentifier_idx" ON "Alert"("capSender", "capIdentifier");

-- AddForeignKey
ALTER TABLE "AlertDelivery" ADD CONSTRAINT "AlertDelivery_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AlertDelivery" ADD CONSTRAINT "AlertDelivery_receiverId_fkey" FOREIGN KEY ("receiverId") REFERENCES "Receiver"("id") ON DELETE CASCADE ON UPDATE CASCADE;

