/**
 * A SCIM attribute path without filters (RFC 7644 §3.10): `title`, `name.middleName`, or with its schema's URN
 * in front (`urn:…:enterprise:2.0:User:department`), which names the extension object the attribute is in.
 */
function partsOf(path: string): string[] {
  if (!path.toLowerCase().startsWith('urn:')) return path.split('.');
  const colon = path.lastIndexOf(':');
  return [path.slice(0, colon), ...path.slice(colon + 1).split('.')];
}

export function valueAt(resource: Record<string, unknown>, path: string): unknown {
  let value: unknown = resource;
  for (const part of partsOf(path)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A copy of `resource` with the value at `path` set (the objects on the way made as needed). */
export function withValueAt(resource: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = partsOf(path);
  if (rest.length === 0) return { ...resource, [head!]: value };
  const inner = resource[head!];
  const object = typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
  return { ...resource, [head!]: withValueAt(object, rest.join('.'), value) };
}

/** Whether `key` of a PATCH value without `path` is itself a path (Entra sends `name.givenName`, URN-prefixed names). */
export function isPathKey(key: string): boolean {
  return key.includes('.') || key.toLowerCase().startsWith('urn:');
}
