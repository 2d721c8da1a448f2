import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';

describe('the README main job: vendhub-db demo with nothing configured', () => {
  it('starts an embedded PostgreSQL, splits a generated monolith into a database per service, verifies and reports', async () => {
    const r = await runCli(['demo', '--scale', '0.3', '--topology', 'per-service']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('starting an embedded PostgreSQL 15');
    expect(r.stdout).toMatch(/migrate auth: applied \d+_init/);
    expect(r.stdout).toContain('public."MachineTelemetry"');
    expect(r.stdout).toMatch(/\| public\.MachineTelemetry \| machines \| machines_service\.machine_telemetry \| [\d,]+ \| [\d,]+ \| [\d.]+ \| [\d,]+ \| equal \|/);
    expect(r.stdout).toMatch(/\| Transaction\.machineId → Machine\.id \| 3 \|/);
    expect(r.stdout).toContain('source and targets are equal');
    // The embedded server's password is generated; it must not leak into the output.
    expect(r.stdout + r.stderr).not.toMatch(/postgres:[0-9a-f]{24}/);
  });

  it('rejects a bad option with exit 2', async () => {
    const r = await runCli(['demo', '--topology', 'sideways']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--topology must be shared, per-service or mixed');
  });
});
