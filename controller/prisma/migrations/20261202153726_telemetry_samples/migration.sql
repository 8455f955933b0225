-- CreateTable
CREATE TABLE "TelemetrySample" (
    "id" BIGSERIAL NOT NULL,
    "receiverId" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "values" JSONB NOT NULL,

    CONSTRAINT "TelemetrySample_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TelemetrySample_receiverId_at_idx" ON "TelemetrySample"("receiverId", "at");

-- CreateIndex
CREATE INDEX "TelemetrySample_at_idx" ON "TelemetrySample"("at");

-- AddForeignKey
ALTER TABLE "TelemetrySample" ADD CONSTRAINT "TelemetrySample_receiverId_fkey" FOREIGN KEY ("receiverId") REFERENCES "Receiver"("id") ON DELETE CASCADE ON UPDATE CASCADE;
