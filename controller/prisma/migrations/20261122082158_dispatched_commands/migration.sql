-- CreateTable
CREATE TABLE "DispatchedCommand" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "targetKey" TEXT NOT NULL,
    "occurrenceIds" TEXT[],
    "issuedAt" TIMESTAMPTZ(3) NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "DispatchedCommand_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "DispatchedCommand_targetKey_issuedAt_idx" ON "DispatchedCommand"("targetKey", "issuedAt");
