-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "machines_service";

-- CreateEnum
CREATE TYPE "machines_service"."machine_status" AS ENUM ('ONLINE', 'OFFLINE', 'MAINTENANCE', 'ERROR');

-- CreateTable
CREATE TABLE "machines_service"."locations" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "latitude" DOUBLE PRECISION,
    "longitude" DOUBLE PRECISION,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "locations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "machines_service"."machines" (
    "id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "serial_number" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" "machines_service"."machine_status" NOT NULL DEFAULT 'OFFLINE',
    "location_id" TEXT,
    "last_ping" TIMESTAMP(3),
    "metadata" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "machines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "machines_service"."machine_telemetry" (
    "id" TEXT NOT NULL,
    "machine_id" TEXT NOT NULL,
    "temperature" DOUBLE PRECISION,
    "humidity" DOUBLE PRECISION,
    "sales" INTEGER,
    "errors" TEXT[],
    "raw_data" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "machine_telemetry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "machines_service"."service_history" (
    "id" TEXT NOT NULL,
    "machine_id" TEXT NOT NULL,
    "service_type" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "performed_by_id" TEXT NOT NULL,
    "performed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "next_service_date" TIMESTAMP(3),
    "photos" TEXT[],
    "location" TEXT,
    "metadata" JSONB,

    CONSTRAINT "service_history_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "machines_code_key" ON "machines_service"."machines"("code");

-- CreateIndex
CREATE UNIQUE INDEX "machines_serial_number_key" ON "machines_service"."machines"("serial_number");

-- CreateIndex
CREATE INDEX "machines_location_id_idx" ON "machines_service"."machines"("location_id");

-- CreateIndex
CREATE INDEX "machine_telemetry_machine_id_created_at_idx" ON "machines_service"."machine_telemetry"("machine_id", "created_at");

-- CreateIndex
CREATE INDEX "service_history_machine_id_idx" ON "machines_service"."service_history"("machine_id");

-- CreateIndex
CREATE INDEX "service_history_performed_by_id_idx" ON "machines_service"."service_history"("performed_by_id");

-- AddForeignKey
ALTER TABLE "machines_service"."machines" ADD CONSTRAINT "machines_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "machines_service"."locations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "machines_service"."machine_telemetry" ADD CONSTRAINT "machine_telemetry_machine_id_fkey" FOREIGN KEY ("machine_id") REFERENCES "machines_service"."machines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "machines_service"."service_history" ADD CONSTRAINT "service_history_machine_id_fkey" FOREIGN KEY ("machine_id") REFERENCES "machines_service"."machines"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
