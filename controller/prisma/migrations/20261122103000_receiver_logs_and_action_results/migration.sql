-- AlterTable
ALTER TABLE "DispatchedCommand" ADD COLUMN     "result" TEXT,
ADD COLUMN     "resultAt" TIMESTAMPTZ(3),
ADD COLUMN     "resultDetail" TEXT;

-- CreateTable
CREATE TABLE "ReceiverLog" (
    "id" UUID NOT NULL,
    "receiverId" TEXT NOT NULL,
    "commandId" TEXT NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lines" TEXT[],

    CONSTRAINT "ReceiverLog_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ReceiverLog_receiverId_receivedAt_idx" ON "ReceiverLog"("receiverId", "receivedAt");

-- AddForeignKey
ALTER TABLE "ReceiverLog" ADD CONSTRAINT "ReceiverLog_receiverId_fkey" FOREIGN KEY ("receiverId") REFERENCES "Receiver"("id") ON DELETE CASCADE ON UPDATE CASCADE;
