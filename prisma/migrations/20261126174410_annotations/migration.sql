-- CreateTable
CREATE TABLE "annotation_runs" (
    "id" BIGSERIAL NOT NULL,
    "producer" TEXT NOT NULL,
    "producer_version" INTEGER NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "title_id" TEXT,
    "value_id" BIGINT,
    "count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "annotation_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "current_runs" (
    "producer" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "run_id" BIGINT NOT NULL,
    "published_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "current_runs_pkey" PRIMARY KEY ("producer","entity_type","entity_id")
);

-- CreateTable
CREATE TABLE "annotations" (
    "id" BIGSERIAL NOT NULL,
    "run_id" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "schema_version" INTEGER NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "title_id" TEXT,
    "producer" TEXT NOT NULL,
    "value_id" BIGINT,
    "frame_start" INTEGER NOT NULL,
    "frame_end" INTEGER NOT NULL,
    "time_start" DOUBLE PRECISION NOT NULL,
    "time_end" DOUBLE PRECISION NOT NULL,
    "x" DOUBLE PRECISION,
    "y" DOUBLE PRECISION,
    "w" DOUBLE PRECISION,
    "h" DOUBLE PRECISION,
    "polygon" JSONB,
    "payload" JSONB NOT NULL,
    "vector" REAL[],

    CONSTRAINT "annotations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "annotation_runs_key" ON "annotation_runs"("producer", "entity_type", "entity_id", "producer_version", "attempt");

-- CreateIndex
CREATE UNIQUE INDEX "current_runs_run_id_key" ON "current_runs"("run_id");

-- CreateIndex
CREATE INDEX "annotations_type_entity_idx" ON "annotations"("type", "entity_id");

-- CreateIndex
CREATE INDEX "annotations_title_type_idx" ON "annotations"("title_id", "type");

-- AddForeignKey
ALTER TABLE "current_runs" ADD CONSTRAINT "current_runs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "annotation_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "annotations" ADD CONSTRAINT "annotations_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "annotation_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Hand-written (Prisma models neither expression indexes, GiST nor triggers, and leaves them out
-- of its diffs). See docs/search.md.

-- Temporal: one GiST box over (frames x seconds), box(point(frame_start, time_start), point(frame_end, time_end)).
-- A query range in frames is the slab [start, end] x (-inf, inf), in seconds (-inf, inf) x [start, end]; the
-- index prefilters (overlap / contains / within), the exact half-open test follows. Box GiST costs a third of
-- an int4range GiST on insert (measured, docs/search.md) and one index serves both units.
CREATE INDEX "annotations_temporal_gist" ON "annotations" USING gist (box(point("frame_start", "time_start"), point("frame_end", "time_end")));

-- Spatial: the bounding box as a GiST box (intersects / contains / within / IoU prefilter).
CREATE INDEX "annotations_box_gist" ON "annotations" USING gist (box(point("x", "y"), point("x" + "w", "y" + "h")));

-- Annotations are insert-only, like feature values.
CREATE FUNCTION "refuse_annotation_mutation"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is insert-only: % refused (%)', TG_TABLE_NAME, TG_OP, TG_ARGV[0]
        USING ERRCODE = 'P0001';
END;
$$;

CREATE TRIGGER "annotations_insert_only"
    BEFORE UPDATE OR DELETE ON "annotations"
    FOR EACH ROW EXECUTE FUNCTION "refuse_annotation_mutation"('annotations are immutable; a new run supersedes them');

CREATE TRIGGER "annotations_no_truncate"
    BEFORE TRUNCATE ON "annotations"
    FOR EACH STATEMENT EXECUTE FUNCTION "refuse_annotation_mutation"('annotations are immutable; a new run supersedes them');

-- Runs are insert-only too, except that publishing sets published_at once (NULL -> a time, nothing else changes).
CREATE FUNCTION "guard_annotation_run_update"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD."published_at" IS NULL AND NEW."published_at" IS NOT NULL
       AND (NEW."id", NEW."producer", NEW."producer_version", NEW."entity_type", NEW."entity_id", NEW."attempt",
            NEW."title_id", NEW."value_id", NEW."count", NEW."created_at")
           IS NOT DISTINCT FROM
           (OLD."id", OLD."producer", OLD."producer_version", OLD."entity_type", OLD."entity_id", OLD."attempt",
            OLD."title_id", OLD."value_id", OLD."count", OLD."created_at") THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'annotation_runs is insert-only: UPDATE refused (only publishing, published_at NULL -> a time, is allowed)'
        USING ERRCODE = 'P0001';
END;
$$;

CREATE TRIGGER "annotation_runs_publish_only"
    BEFORE UPDATE ON "annotation_runs"
    FOR EACH ROW EXECUTE FUNCTION "guard_annotation_run_update"();

CREATE TRIGGER "annotation_runs_insert_only"
    BEFORE DELETE ON "annotation_runs"
    FOR EACH ROW EXECUTE FUNCTION "refuse_annotation_mutation"('runs are kept; a new run supersedes them');

CREATE TRIGGER "annotation_runs_no_truncate"
    BEFORE TRUNCATE ON "annotation_runs"
    FOR EACH STATEMENT EXECUTE FUNCTION "refuse_annotation_mutation"('runs are kept; a new run supersedes them');
