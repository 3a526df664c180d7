import type { HttpFunction } from '../app/registry.js';
import { AppError } from '../errors/app-error.js';

type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'rest'; name: string };

export interface CompiledRoute {
  def: HttpFunction;
  segments: Segment[];
}

export interface RouteMatch {
  route: CompiledRoute;
  params: Record<string, string>;
}

/** A function's route template as segments; throws for a template the local host cannot route. */
export function compileRoute(def: HttpFunction): CompiledRoute {
  const parts = splitPath(def.trigger.route);
  const segments = parts.map((part, index): Segment => {
    const rest = /^\{\*([A-Za-z_]\w*)\}$/.exec(part)?.[1];
    if (rest !== undefined && index === parts.length - 1) return { kind: 'rest', name: rest };
    const param = /^\{([A-Za-z_]\w*)\}$/.exec(part)?.[1];
    if (param !== undefined) return { kind: 'param', name: param };
    if (/[{}]/.test(part)) {
      throw new Error(
        `LocalHost: route "${def.trigger.route}" of "${def.name}" is not supported locally: ` +
          `use literal segments, {name} parameters and an optional trailing {*rest}`,
      );
    }
    return { kind: 'literal', text: part.toLowerCase() };
  });
  return { def, segments };
}

function splitPath(p: string): string[] {
  const trimmed = p.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/**
 * Routes matching the path under `routePrefix` (host.json's, `""` for the root), most specific first (literal
 * before {param} before {*rest}, as ASP.NET ranks them: `api/{*path}` wins over `{*path}` for `/api/…`).
 */
export function matchRoutes(routes: CompiledRoute[], pathname: string, routePrefix: string): RouteMatch[] {
  const prefix = splitPath(routePrefix.toLowerCase());
  let parts: string[];
  try {
    parts = splitPath(pathname).map(decodeURIComponent);
  } catch {
    throw new AppError('path-invalid', `The path ${pathname} is not valid percent-encoding: write a literal % as %25.`);
  }
  if (!prefix.every((segment, i) => parts[i]?.toLowerCase() === segment)) return [];
  parts = parts.slice(prefix.length);
  const matches: RouteMatch[] = [];
  for (const route of routes) {
    const params = matchSegments(route.segments, parts);
    if (params) matches.push({ route, params });
  }
  const rank = (s: Segment): number => (s.kind === 'literal' ? 0 : s.kind === 'param' ? 1 : 2);
  return matches.sort((a, b) => {
    const n = Math.max(a.route.segments.length, b.route.segments.length);
    for (let i = 0; i < n; i++) {
      const ra = a.route.segments[i];
      const rb = b.route.segments[i];
      const diff = (ra ? rank(ra) : 3) - (rb ? rank(rb) : 3);
      if (diff !== 0) return diff;
    }
    return 0;
  });
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    if (segment.kind === 'rest') {
      params[segment.name] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (segment.kind === 'literal' && part.toLowerCase() !== segment.text) return undefined;
    if (segment.kind === 'param') params[segment.name] = part;
  }
  return parts.length === segments.length ? params : undefined;
}
