-- CreateEnum
CREATE TYPE "AssetOrigin" AS ENUM ('upload', 'recording', 'speech', 'tone');

-- AlterTable
ALTER TABLE "Asset" ADD COLUMN     "origin" "AssetOrigin" NOT NULL DEFAULT 'upload',
ADD COLUMN     "processing" TEXT,
ADD COLUMN     "sourceDurationMs" INTEGER,
ADD COLUMN     "sourceFormat" TEXT,
ADD COLUMN     "sourceLoudnessLufs" DOUBLE PRECISION,
ADD COLUMN     "sourceSha256" TEXT,
ADD COLUMN     "sourceTruePeakDbtp" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "SpeechCache" (
    "key" TEXT NOT NULL,
    "engine" TEXT NOT NULL,
    "voice" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "assetSha256" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SpeechCache_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "Tone" (
    "name" TEXT NOT NULL,
    "assetSha256" TEXT NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Tone_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "Asset_sourceSha256_processing_idx" ON "Asset"("sourceSha256", "processing");

-- AddForeignKey
ALTER TABLE "SpeechCache" ADD CONSTRAINT "SpeechCache_assetSha256_fkey" FOREIGN KEY ("assetSha256") REFERENCES "Asset"("sha256") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Tone" ADD CONSTRAINT "Tone_assetSha256_fkey" FOREIGN KEY ("assetSha256") REFERENCES "Asset"("sha256") ON DELETE RESTRICT ON UPDATE CASCADE;

