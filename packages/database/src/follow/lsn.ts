/** PostgreSQL log sequence numbers ("16/B374D848") as bigints, for comparing and subtracting. */
export function lsnToBigInt(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  if (hi === undefined || lo === undefined) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

export function bigIntToLsn(n: bigint): string {
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** `a >= b` for LSN strings. */
export function lsnAtLeast(a: string, b: string): boolean {
  return lsnToBigInt(a) >= lsnToBigInt(b);
}

export function maxLsn(a: string, b: string): string {
  return lsnAtLeast(a, b) ? a : b;
}
