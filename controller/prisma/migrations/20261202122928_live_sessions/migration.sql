-- CreateEnum
CREATE TYPE "LiveKind" AS ENUM ('speech', 'relay');

-- CreateEnum
CREATE TYPE "LiveState" AS ENUM ('opening', 'on_air', 'ended', 'failed');

-- AlterTable
ALTER TABLE "Schedule" ADD COLUMN     "deadAirS" INTEGER,
ADD COLUMN     "relayUrl" TEXT;

-- CreateTable
CREATE TABLE "LiveSession" (
    "id" UUID NOT NULL,
    "kind" "LiveKind" NOT NULL,
    "title" TEXT NOT NULL,
    "priority" "Priority" NOT NULL,
    "language" TEXT,
    "volume" INTEGER NOT NULL,
    "latencyMs" INTEGER NOT NULL,
    "prelude" "Prelude" NOT NULL DEFAULT 'chime',
    "state" "LiveState" NOT NULL DEFAULT 'opening',
    "areaIds" UUID[],
    "receiverIds" TEXT[],
    "issuedTargets" JSONB NOT NULL DEFAULT '[]',
    "occurrenceId" UUID,
    "relayUrl" TEXT,
    "createdById" UUID,
    "openedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "onAirAt" TIMESTAMPTZ(3),
    "endedAt" TIMESTAMPTZ(3),
    "endReason" TEXT,
    "framesSent" INTEGER NOT NULL DEFAULT 0,
    "packetsSent" INTEGER NOT NULL DEFAULT 0,
    "fallbacks" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "LiveSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiveDelivery" (
    "id" UUID NOT NULL,
    "sessionId" UUID NOT NULL,
    "receiverId" TEXT NOT NULL,
    "state" "DeliveryState" NOT NULL DEFAULT 'planned',
    "reason" TEXT,
    "acknowledgedAt" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "LiveDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "LiveSession_occurrenceId_key" ON "LiveSession"("occurrenceId");

-- CreateIndex
CREATE INDEX "LiveSession_state_idx" ON "LiveSession"("state");

-- CreateIndex
CREATE INDEX "LiveDelivery_receiverId_idx" ON "LiveDelivery"("receiverId");

-- CreateIndex
CREATE UNIQUE INDEX "LiveDelivery_sessionId_receiverId_key" ON "LiveDelivery"("sessionId", "receiverId");

-- AddForeignKey
ALTER TABLE "LiveDelivery" ADD CONSTRAINT "LiveDelivery_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "LiveSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveDelivery" ADD CONSTRAINT "LiveDelivery_receiverId_fkey" FOREIGN KEY ("receiverId") REFERENCES "Receiver"("id") ON DELETE CASCADE ON UPDATE CASCADE;
