-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "auth_service";

-- CreateEnum
CREATE TYPE "auth_service"."user_role" AS ENUM ('ADMIN', 'MANAGER', 'WAREHOUSE', 'OPERATOR', 'TECHNICIAN', 'DRIVER');

-- CreateTable
CREATE TABLE "auth_service"."users" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "roles" "auth_service"."user_role"[],
    "phone_number" TEXT,
    "telegram_id" TEXT,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "last_login" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "auth_service"."audit_logs" (
    "id" TEXT NOT NULL,
    "user_id" TEXT,
    "action" TEXT NOT NULL,
    "entity" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "changes" JSONB,
    "ip_address" TEXT,
    "user_agent" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_logs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "auth_service"."users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "users_telegram_id_key" ON "auth_service"."users"("telegram_id");

-- CreateIndex
CREATE INDEX "audit_logs_user_id_idx" ON "auth_service"."audit_logs"("user_id");

-- CreateIndex
CREATE INDEX "audit_logs_entity_entity_id_idx" ON "auth_service"."audit_logs"("entity", "entity_id");

-- AddForeignKey
ALTER TABLE "auth_service"."audit_logs" ADD CONSTRAINT "audit_logs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "auth_service"."users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
