-- CreateTable
CREATE TABLE "CapMessage" (
    "id" UUID NOT NULL,
    "sender" TEXT NOT NULL,
    "identifier" TEXT NOT NULL,
    "sent" TEXT NOT NULL,
    "msgType" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "detail" TEXT,
    "alertId" UUID,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CapMessage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CapFeedEntry" (
    "key" TEXT NOT NULL,
    "feedUrl" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "detail" TEXT,
    "fetchedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CapFeedEntry_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "CapMessage_sender_identifier_key" ON "CapMessage"("sender", "identifier");

