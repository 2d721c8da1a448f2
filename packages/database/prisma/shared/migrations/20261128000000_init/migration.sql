-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "shared";

-- CreateTable
CREATE TABLE "shared"."transactions" (
    "id" TEXT NOT NULL,
    "machine_id" TEXT NOT NULL,
    "amount" DOUBLE PRECISION NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'RUB',
    "payment_type" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reference" TEXT,
    "metadata" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "transactions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "transactions_reference_key" ON "shared"."transactions"("reference");

-- CreateIndex
CREATE INDEX "transactions_machine_id_idx" ON "shared"."transactions"("machine_id");

-- CreateIndex
CREATE INDEX "transactions_created_at_idx" ON "shared"."transactions"("created_at");
