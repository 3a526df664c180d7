/**
 * Table keys may not contain / \ # ? or control characters. Encode those (and %) as %XX so any
 * source identifier can be a RowKey and the encoding stays reversible and order-stable.
 */
export function encodeKey(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what Table keys forbid
  return value.replace(/[%/\\#?\u0000-\u001f\u007f-\u009f]/g, (char) => {
    const code = char.charCodeAt(0);
    return `%${code.toString(16).padStart(2, '0').toUpperCase()}`;
  });
}

export function decodeKey(value: string): string {
  return value.replace(/%([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Drops what the service adds to a row it returns (etag, timestamp, odata.*), leaving our columns. */
export function withoutServiceColumns<T extends object>(row: T): T {
  return Object.fromEntries(
    Object.entries(row).filter(([name]) => name !== 'etag' && name !== 'timestamp' && !name.startsWith('odata.')),
  ) as T;
}

/** An OData string literal: single quotes doubled. */
export function odata(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Status code of an Azure SDK RestError, if it is one. */
export function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error
    ? (error as { statusCode?: number }).statusCode
    : undefined;
}

/**
 * Optimistic concurrency: read, change, write with the ETag; on a conflicting write (412) or a
 * racing insert (409), read again and retry.
 */
export async function withEtagRetry<T>(attempt: () => Promise<T>, tries = 25): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      const status = statusOf(error);
      if ((status !== 412 && status !== 409) || i >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * i));
    }
  }
}
