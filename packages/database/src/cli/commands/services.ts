import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { EXIT } from '../../errors/exit-codes.ts';
import { VendhubError } from '../../errors/vendhub-error.ts';
import { PACKAGE_ROOT } from '../../paths.ts';
import { checkTree, type CheckOptions, type CheckReport } from '../../services-check/check-tree.ts';
import { applyEdits, fixEdits } from '../../services-check/fix-source.ts';
import { formatJson, formatSarif, formatTable, REPORT_FORMATS, summarize, type ReportFormat } from '../../services-check/format-report.ts';
import type { CommandContext } from '../context.ts';

export interface ServicesCliOptions {
  format?: string;
  map?: string[];
  exclude?: string[];
  includeGenerated?: boolean;
  clientName?: string[];
  prismaDir?: string;
  write?: boolean;
}

function runCheck(dir: string, o: ServicesCliOptions): CheckReport {
  const opts: CheckOptions = {
    dir,
    ...(o.map ? { map: o.map } : {}),
    ...(o.exclude ? { exclude: o.exclude } : {}),
    ...(o.clientName ? { clientNames: o.clientName } : {}),
    ...(o.prismaDir ? { prismaDir: o.prismaDir } : {}),
    includeGenerated: Boolean(o.includeGenerated),
  };
  try {
    return checkTree(opts);
  } catch (e) {
    throw new VendhubError('USAGE', `services: ${(e as Error).message}`, { cause: e, hint: 'See `vendhub-db services check --help` for --map and the folder argument.' });
  }
}

/** Exit code of a check: unparsable files first (the analysis is incomplete), then findings. */
export function checkExitCode(report: CheckReport): number {
  if (report.files.some((f) => f.state === 'unparsable')) return EXIT.SERVICES_UNANALYSED;
  return report.findings.length > 0 ? EXIT.SERVICES_FINDINGS : EXIT.OK;
}

/** `vendhub-db services check [dir]`: exit 0 clean, 20 findings, 21 a file did not parse. */
export async function servicesCheckCommand(dir: string, o: ServicesCliOptions, ctx: CommandContext): Promise<number> {
  const format = (ctx.json ? 'json' : (o.format ?? 'table')) as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new VendhubError('USAGE', `--format ${o.format}: use one of ${REPORT_FORMATS.join(', ')}`);
  const report = runCheck(dir, o);
  if (format === 'json') ctx.output.out(formatJson(report));
  else if (format === 'sarif') ctx.output.out(formatSarif(report, packageVersion()));
  else ctx.output.out(formatTable(report));
  return checkExitCode(report);
}

/**
 * `vendhub-db services fix [dir]`: the mechanical findings (a model another service owns → that
 * service's client) as a unified diff, or written with `--write`. Exit 0 either way; the findings
 * it cannot fix are counted on stderr (run `services check` for them).
 */
export async function servicesFixCommand(dir: string, o: ServicesCliOptions, ctx: CommandContext): Promise<number> {
  const report = runCheck(dir, o);
  let files = 0;
  let edits = 0;
  for (const [file, { fixes, module }] of report.fixes) {
    const abs = join(report.root, file);
    const before = readFileSync(abs, 'utf8');
    const changes = fixEdits(before, file, fixes, module);
    const after = applyEdits(before, changes);
    if (after === before) continue;
    files += 1;
    edits += fixes.length;
    if (o.write) writeFileSync(abs, after);
    else ctx.output.out(createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, undefined, undefined, { context: 3 }).replace(/^=+\n/m, '').trimEnd());
  }
  const s = summarize(report);
  const left = s.findings - edits;
  ctx.output.err(`${edits} fix${edits === 1 ? '' : 'es'} in ${files} file${files === 1 ? '' : 's'}${o.write ? ' written' : ' (shown as a diff; --write applies them)'}; ${left} finding${left === 1 ? '' : 's'} need a person (\`vendhub-db services check\`)`);
  return s.unparsable > 0 ? EXIT.SERVICES_UNANALYSED : EXIT.OK;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
