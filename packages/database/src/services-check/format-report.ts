import type { CheckReport } from './check-tree.ts';
import { FINDING_KINDS, KIND_INFO, type Finding } from './finding.ts';

export type ReportFormat = 'table' | 'json' | 'sarif';
export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'json', 'sarif'];

/** Counts per file state and per kind, shared by every format. */
export function summarize(report: CheckReport) {
  const byKind: Record<string, number> = {};
  for (const f of report.findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const count = (s: string) => report.files.filter((f) => f.state === s).length;
  return {
    files: report.files.length,
    analysed: count('analysed'),
    unparsable: count('unparsable'),
    skipped: count('skipped'),
    withoutService: report.files.filter((f) => f.state === 'analysed' && !f.service).length,
    findings: report.findings.length,
    autofixable: report.findings.filter((f) => f.autofix).length,
    byKind,
  };
}

/** Readable output: one block per finding, then the summary (skipped files named). */
export function formatTable(report: CheckReport): string {
  const lines: string[] = [];
  for (const f of report.findings) {
    lines.push(`${f.file}:${f.line}:${f.column}  ${KIND_INFO[f.kind].level}  ${f.kind}  [${f.models.join(', ')}]${f.autofix ? '  (fixable)' : ''}`);
    lines.push(`    ${f.message}`);
    lines.push(`    fix: ${f.fix}`);
  }
  const s = summarize(report);
  if (lines.length > 0) lines.push('');
  lines.push(`${s.files} files: ${s.analysed} analysed, ${s.unparsable} unparsable, ${s.skipped} skipped; ${s.findings} findings (${s.autofixable} fixable by \`vendhub-db services fix\`)`);
  const kinds = FINDING_KINDS.filter((k) => s.byKind[k]).map((k) => `${k} ${s.byKind[k]}`);
  if (kinds.length > 0) lines.push(`by kind: ${kinds.join(', ')}`);
  for (const f of report.files.filter((x) => x.state === 'skipped')) lines.push(`skipped (${f.reason}): ${f.file}`);
  if (s.withoutService > 0) {
    const names = report.files.filter((f) => f.state === 'analysed' && !f.service).map((f) => f.file);
    lines.push(`no service by path (foreign-model not judged unless the client names one; see --map): ${names.slice(0, 10).join(', ')}${names.length > 10 ? `, … ${names.length - 10} more` : ''}`);
  }
  return lines.join('\n');
}

/** `--format json`: findings, every file's state, and the summary. */
export function formatJson(report: CheckReport): string {
  return JSON.stringify({ ok: report.findings.length === 0, summary: summarize(report), findings: report.findings, files: report.files }, null, 2);
}

const sarifResult = (f: Finding) => ({
  ruleId: f.kind,
  level: KIND_INFO[f.kind].level,
  message: { text: `${f.message}. Fix: ${f.fix}` },
  locations: [
    {
      physicalLocation: {
        artifactLocation: { uri: encodeURI(f.file), uriBaseId: '%SRCROOT%' },
        region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn },
      },
    },
  ],
  properties: { models: f.models, service: f.service ?? null, autofix: f.autofix },
});

/**
 * SARIF 2.1.0 for GitHub code scanning: one rule per kind, one result per finding with its region.
 * Paths are relative to the checked folder (`%SRCROOT%`): run the check from the repository root.
 */
export function formatSarif(report: CheckReport, version: string): string {
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'vendhub-db services check',
            version,
            rules: FINDING_KINDS.map((k) => ({
              id: k,
              name: k.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
              shortDescription: { text: KIND_INFO[k].title },
              defaultConfiguration: { level: KIND_INFO[k].level },
            })),
          },
        },
        results: report.findings.map(sarifResult),
        invocations: [{ executionSuccessful: true, toolExecutionNotifications: report.files.filter((f) => f.state === 'skipped').map((f) => ({ level: 'note', message: { text: `skipped (${f.reason}): ${f.file}` } })) }],
      },
    ],
  };
  return JSON.stringify(sarif, null, 2);
}
