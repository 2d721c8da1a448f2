-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "tasks_service";

-- CreateEnum
CREATE TYPE "tasks_service"."task_status" AS ENUM ('CREATED', 'ASSIGNED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "tasks_service"."task_priority" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'URGENT');

-- CreateTable
CREATE TABLE "tasks_service"."tasks" (
    "id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "status" "tasks_service"."task_status" NOT NULL DEFAULT 'CREATED',
    "priority" "tasks_service"."task_priority" NOT NULL DEFAULT 'MEDIUM',
    "due_date" TIMESTAMP(3),
    "completed_at" TIMESTAMP(3),
    "machine_id" TEXT,
    "assigned_to_id" TEXT,
    "created_by_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "tasks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tasks_service"."task_actions" (
    "id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "comment" TEXT NOT NULL,
    "location" TEXT,
    "photo_urls" TEXT[],
    "metadata" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "task_actions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "tasks_status_assigned_to_id_idx" ON "tasks_service"."tasks"("status", "assigned_to_id");

-- CreateIndex
CREATE INDEX "tasks_machine_id_idx" ON "tasks_service"."tasks"("machine_id");

-- CreateIndex
CREATE INDEX "tasks_assigned_to_id_idx" ON "tasks_service"."tasks"("assigned_to_id");

-- CreateIndex
CREATE INDEX "tasks_created_by_id_idx" ON "tasks_service"."tasks"("created_by_id");

-- CreateIndex
CREATE INDEX "task_actions_task_id_idx" ON "tasks_service"."task_actions"("task_id");

-- CreateIndex
CREATE INDEX "task_actions_user_id_idx" ON "tasks_service"."task_actions"("user_id");

-- AddForeignKey
ALTER TABLE "tasks_service"."task_actions" ADD CONSTRAINT "task_actions_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks_service"."tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
