-- CreateTable
CREATE TABLE "title_assets" (
    "title_id" TEXT NOT NULL,
    "asset_hash" CHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "title_assets_pkey" PRIMARY KEY ("title_id","asset_hash")
);

-- CreateIndex
CREATE INDEX "title_assets_asset_hash_idx" ON "title_assets"("asset_hash");

-- AddForeignKey
ALTER TABLE "title_assets" ADD CONSTRAINT "title_assets_title_id_fkey" FOREIGN KEY ("title_id") REFERENCES "titles"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "title_assets" ADD CONSTRAINT "title_assets_asset_hash_fkey" FOREIGN KEY ("asset_hash") REFERENCES "assets"("hash") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Backfill: every asset in the title that owns it, and in every other title a landing signalled it into.
INSERT INTO "title_assets" ("title_id", "asset_hash", "created_at")
SELECT "title_id", "hash", "created_at" FROM "assets" WHERE "title_id" IS NOT NULL
ON CONFLICT DO NOTHING;

INSERT INTO "title_assets" ("title_id", "asset_hash", "created_at")
SELECT t."title_id", t."entity_key", MIN(t."created_at")
FROM "trigger_events" t
JOIN "assets" a ON a."hash" = t."entity_key"
JOIN "titles" ti ON ti."id" = t."title_id"
WHERE t."title_id" IS NOT NULL
GROUP BY t."title_id", t."entity_key"
ON CONFLICT DO NOTHING;
