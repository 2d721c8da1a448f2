-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "inventory_service";

-- CreateEnum
CREATE TYPE "inventory_service"."stock_movement_type" AS ENUM ('IN', 'OUT', 'ADJUSTMENT', 'TRANSFER');

-- CreateEnum
CREATE TYPE "inventory_service"."inventory_unit" AS ENUM ('KG', 'L', 'PCS', 'PACK');

-- CreateTable
CREATE TABLE "inventory_service"."inventory_items" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "unit" "inventory_service"."inventory_unit" NOT NULL,
    "category" TEXT NOT NULL,
    "description" TEXT,
    "quantity" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "min_quantity" DOUBLE PRECISION,
    "max_quantity" DOUBLE PRECISION,
    "price" DOUBLE PRECISION,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "last_updated" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "inventory_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inventory_service"."stock_movements" (
    "id" TEXT NOT NULL,
    "item_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "type" "inventory_service"."stock_movement_type" NOT NULL,
    "quantity" DOUBLE PRECISION NOT NULL,
    "quantity_before" DOUBLE PRECISION NOT NULL,
    "quantity_after" DOUBLE PRECISION NOT NULL,
    "reason" TEXT NOT NULL,
    "reference" TEXT,
    "from_location" TEXT,
    "to_location" TEXT,
    "machine_id" TEXT,
    "metadata" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stock_movements_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inventory_service"."machine_inventory" (
    "id" TEXT NOT NULL,
    "machine_id" TEXT NOT NULL,
    "item_id" TEXT NOT NULL,
    "quantity" DOUBLE PRECISION NOT NULL,
    "min_quantity" DOUBLE PRECISION,
    "max_quantity" DOUBLE PRECISION,
    "last_refill" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "machine_inventory_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "inventory_items_sku_key" ON "inventory_service"."inventory_items"("sku");

-- CreateIndex
CREATE INDEX "stock_movements_item_id_idx" ON "inventory_service"."stock_movements"("item_id");

-- CreateIndex
CREATE INDEX "stock_movements_user_id_idx" ON "inventory_service"."stock_movements"("user_id");

-- CreateIndex
CREATE INDEX "stock_movements_machine_id_idx" ON "inventory_service"."stock_movements"("machine_id");

-- CreateIndex
CREATE INDEX "machine_inventory_item_id_idx" ON "inventory_service"."machine_inventory"("item_id");

-- CreateIndex
CREATE UNIQUE INDEX "machine_inventory_machine_id_item_id_key" ON "inventory_service"."machine_inventory"("machine_id", "item_id");

-- AddForeignKey
ALTER TABLE "inventory_service"."stock_movements" ADD CONSTRAINT "stock_movements_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "inventory_service"."inventory_items"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inventory_service"."machine_inventory" ADD CONSTRAINT "machine_inventory_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "inventory_service"."inventory_items"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
