-- AlterTable
ALTER TABLE "Alert" ADD COLUMN     "audioAnnouncesStatus" BOOLEAN NOT NULL DEFAULT false;
