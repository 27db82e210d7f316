-- CreateTable
CREATE TABLE "titles" (
    "id" TEXT NOT NULL,
    "name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "titles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "assets" (
    "hash" CHAR(64) NOT NULL,
    "title_id" TEXT,
    "object_uri" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "original_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "assets_pkey" PRIMARY KEY ("hash")
);

-- CreateTable
CREATE TABLE "feature_definitions" (
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "code_hash" TEXT NOT NULL,
    "params_hash" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "task_queue" TEXT NOT NULL,
    "output_kind" TEXT NOT NULL,
    "output_schema" JSONB NOT NULL,
    "dependencies" JSONB NOT NULL,
    "sinks" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feature_definitions_pkey" PRIMARY KEY ("name","version")
);

-- CreateTable
CREATE TABLE "feature_values" (
    "id" BIGSERIAL NOT NULL,
    "feature_name" TEXT NOT NULL,
    "feature_version" INTEGER NOT NULL,
    "entity_key" TEXT NOT NULL,
    "params_hash" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "title_id" TEXT,
    "value" JSONB,
    "object_uri" TEXT,
    "object_hash" TEXT,
    "size_bytes" BIGINT,
    "code_hash" TEXT NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "worker" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL,
    "compute_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feature_values_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "feature_value_inputs" (
    "value_id" BIGINT NOT NULL,
    "input_value_id" BIGINT NOT NULL,

    CONSTRAINT "feature_value_inputs_pkey" PRIMARY KEY ("value_id","input_value_id")
);

-- CreateTable
CREATE TABLE "trigger_events" (
    "id" BIGSERIAL NOT NULL,
    "source" TEXT NOT NULL,
    "title_id" TEXT,
    "entity_key" TEXT,
    "features" JSONB NOT NULL,
    "detail" JSONB,
    "workflow_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trigger_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "id" BIGSERIAL NOT NULL,
    "value_id" BIGINT NOT NULL,
    "sink" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "assets_title_id_idx" ON "assets"("title_id");

-- CreateIndex
CREATE INDEX "feature_values_entity_key_idx" ON "feature_values"("entity_key");

-- CreateIndex
CREATE INDEX "feature_values_title_id_idx" ON "feature_values"("title_id");

-- CreateIndex
CREATE UNIQUE INDEX "feature_values_memo_key" ON "feature_values"("feature_name", "feature_version", "entity_key", "params_hash", "attempt");

-- CreateIndex
CREATE INDEX "feature_value_inputs_input_value_id_idx" ON "feature_value_inputs"("input_value_id");

-- CreateIndex
CREATE INDEX "trigger_events_entity_key_idx" ON "trigger_events"("entity_key");

-- CreateIndex
CREATE INDEX "trigger_events_created_at_idx" ON "trigger_events"("created_at");

-- CreateIndex
CREATE INDEX "outbox_events_sink_delivered_at_idx" ON "outbox_events"("sink", "delivered_at");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_events_value_id_sink_key" ON "outbox_events"("value_id", "sink");

-- AddForeignKey
ALTER TABLE "assets" ADD CONSTRAINT "assets_title_id_fkey" FOREIGN KEY ("title_id") REFERENCES "titles"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "feature_value_inputs" ADD CONSTRAINT "feature_value_inputs_value_id_fkey" FOREIGN KEY ("value_id") REFERENCES "feature_values"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "feature_value_inputs" ADD CONSTRAINT "feature_value_inputs_input_value_id_fkey" FOREIGN KEY ("input_value_id") REFERENCES "feature_values"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbox_events" ADD CONSTRAINT "outbox_events_value_id_fkey" FOREIGN KEY ("value_id") REFERENCES "feature_values"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Immutability guard (hand-written; Prisma does not model triggers or functions and leaves them
-- out of its diffs). feature_values and feature_value_inputs are insert-only: UPDATE and DELETE
-- (row-level) and TRUNCATE (statement-level) are refused with SQLSTATE P0001.
CREATE FUNCTION "refuse_feature_value_mutation"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is insert-only: % refused (%)', TG_TABLE_NAME, TG_OP, TG_ARGV[0]
        USING ERRCODE = 'P0001';
END;
$$;

CREATE TRIGGER "feature_values_insert_only"
    BEFORE UPDATE OR DELETE ON "feature_values"
    FOR EACH ROW EXECUTE FUNCTION "refuse_feature_value_mutation"('values are immutable; a recompute inserts a new attempt');

CREATE TRIGGER "feature_values_no_truncate"
    BEFORE TRUNCATE ON "feature_values"
    FOR EACH STATEMENT EXECUTE FUNCTION "refuse_feature_value_mutation"('values are immutable; a recompute inserts a new attempt');

CREATE TRIGGER "feature_value_inputs_insert_only"
    BEFORE UPDATE OR DELETE ON "feature_value_inputs"
    FOR EACH ROW EXECUTE FUNCTION "refuse_feature_value_mutation"('lineage is immutable like the values it links');

CREATE TRIGGER "feature_value_inputs_no_truncate"
    BEFORE TRUNCATE ON "feature_value_inputs"
    FOR EACH STATEMENT EXECUTE FUNCTION "refuse_feature_value_mutation"('lineage is immutable like the values it links');
