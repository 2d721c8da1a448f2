import { redactText } from '../config/redact.ts';
import { VendhubError } from './vendhub-error.ts';

interface PgLikeError {
  code?: string;
  message?: string;
  errno?: number;
  syscall?: string;
  table?: string;
  column?: string;
  constraint?: string;
  detail?: string;
  schema?: string;
}

const TLS_CODES = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'CERT_SIGNATURE_FAILURE']);
const NETWORK_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', 'ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'ENETUNREACH']);

/**
 * Turns a node-postgres or network error into a VendhubError whose message says where it happened
 * (`where`, e.g. "auth service database 127.0.0.1:5432/vendhub") and what to do, keeping the
 * original as `cause` (with its SQLSTATE `code`). Passwords are redacted from the text.
 */
export function wrapPgError(err: unknown, where: string, secrets: string[] = []): VendhubError {
  if (err instanceof VendhubError) return err;
  const e = (err ?? {}) as PgLikeError;
  const raw = redactText(String(e.message ?? err), secrets);
  const details: Record<string, unknown> = { where };
  for (const k of ['code', 'table', 'column', 'constraint', 'schema'] as const) if (e[k]) details[k] = e[k];
  if (e.detail) details.detail = redactText(e.detail, secrets);
  const code = e.code ?? '';
  if (code === '28P01' || code === '28000') {
    return new VendhubError('AUTH_FAILED', `${where}: authentication failed: ${raw}`, {
      cause: err, details, hint: 'Check the user and password in the URL (they are not printed).',
    });
  }
  if (/SASL|password must be a string|password authentication/i.test(raw)) {
    return new VendhubError('AUTH_FAILED', `${where}: authentication failed: ${raw}`, {
      cause: err, details, hint: 'Check the user and password in the URL (they are not printed); special characters in a password must be URL-encoded (@ as %40, % as %25).',
    });
  }
  if (TLS_CODES.has(code) || /certificate|self[- ]signed|does not support SSL|altnames/i.test(raw)) {
    return new VendhubError('CONNECTION_FAILED', `${where}: TLS refused: ${raw}`, {
      cause: err, details,
      hint: 'sslmode=verify-full checks the server certificate against sslrootcert (the CA file) and the host name in the URL; use the CA that signed the server certificate and the name it was issued for. sslmode=require encrypts without checking.',
    });
  }
  if (NETWORK_CODES.has(code) || /timeout|terminated|Connection terminated/i.test(raw) && !code) {
    return new VendhubError('CONNECTION_FAILED', `${where}: cannot connect: ${raw}`, {
      cause: err, details, hint: 'Check host, port and that the server is running and reachable.',
    });
  }
  if (code === '3D000') {
    return new VendhubError('CONNECTION_FAILED', `${where}: ${raw}`, { cause: err, details, hint: 'Create the database first, or fix the database name in the URL.' });
  }
  if (code === '42501') {
    return new VendhubError('PRIVILEGE_MISSING', `${where}: permission denied: ${raw}`, { cause: err, details });
  }
  if (code === 'POOL_TIMEOUT' || /timeout exceeded when trying to connect/i.test(raw)) {
    return new VendhubError('POOL_TIMEOUT', `${where}: ${raw}`, { cause: err, details, hint: 'Raise connection_limit or pool_timeout, or lower concurrency.' });
  }
  return new VendhubError('INTERNAL', `${where}: ${raw}`, { cause: err, details });
}
