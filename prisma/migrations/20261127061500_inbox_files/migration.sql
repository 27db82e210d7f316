-- CreateTable
CREATE TABLE "inbox_files" (
    "path" TEXT NOT NULL,
    "title_id" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "mtime_ms" DOUBLE PRECISION NOT NULL,
    "asset_hash" CHAR(64) NOT NULL,
    "landed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_files_pkey" PRIMARY KEY ("path")
);
