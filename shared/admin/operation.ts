import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { AppConfig } from '../config/settings.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import type { FileStore } from '../sync/ports.js';

/**
 * What an admin operation is: declared once (see operations.ts), with everything each surface needs — the
 * role it takes, its input schema, its HTTP route — and run the same way from the CLI and the HTTP API.
 */

/** The app roles of the API's app registration: a Reader sees everything but secrets; an Admin also changes things. */
export const ADMIN: Role = 'UserSync.Admin';
export const READER: Role = 'UserSync.Reader';
export type Role = 'UserSync.Admin' | 'UserSync.Reader';
export const ROLES: readonly Role[] = [ADMIN, READER];

/** What an operation needs: a role, or nothing (`anyone`: saying who asks — a caller with no role learns that it has none). */
export const ANYONE = 'anyone';
export type Access = Role | typeof ANYONE;

/** What each role may do: an Admin may do everything a Reader may. */
const GRANTS: Record<Role, readonly Role[]> = { 'UserSync.Admin': [ADMIN, READER], 'UserSync.Reader': [READER] };

export function grants(roles: readonly Role[], needed: Access): boolean {
  return needed === ANYONE || roles.some((role) => GRANTS[role].includes(needed));
}

/** Who asks: `cli:<os user>`, `api`, `timer`… and the roles they hold. */
export interface Caller {
  actor: string;
  roles: readonly Role[];
}

/** A request nothing identified (no Easy Auth in front of the app): it holds no role, so it may do nothing. */
export const ANONYMOUS: Caller = { actor: 'anonymous', roles: [] };

/** What the operations act on: the sync's ports, the uploaded CSV files, and the settings they obey. */
export interface AdminServices {
  deps: SyncDependencies;
  csvFiles: FileStore;
  config: Pick<AppConfig, 'csvMaxBytes'>;
}

export interface AdminContext extends AdminServices {
  caller: Caller;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * An operation's route under /api, complete enough for a generic client: the path's `:field` segments, the
 * query's fields and the body's are each named, so a request can be made from an input and back.
 */
export interface HttpBinding<I, O> {
  method: HttpMethod;
  /** Segments under /api; `:name` carries the input field `name` (percent-encoded). */
  path: string;
  /** Input fields sent as query parameters (flags as `true`/`false`, numbers in digits). */
  query?: readonly (keyof I & string)[];
  /**
   * `fields`: a JSON object of the remaining input fields; `{ json: field }`: the whole JSON body is that
   * field; `{ stream: field, contentTypes }`: the body is that field, a file streamed as it arrives (a
   * Readable), sent as one of these media types (no Content-Type: taken as a file, octet-stream).
   */
  body?: 'fields' | { json: keyof I & string } | { stream: keyof I & string; contentTypes: readonly string[] };
  /**
   * Query parameters that pick this operation over another of the same method and path (`format=csv`):
   * a client sends them as they are; they are not input fields.
   */
  select?: Readonly<Record<string, string>>;
  /** The answer is a file (a FileAnswer): its content is the body, with its media type and a download name. */
  file?: true;
  /** 200 unless said; it may depend on the outcome (201 created, 200 replaced). */
  status?(output: O): number;
  /** The `Location` of what the request started (a run). */
  location?(output: O): string;
}

/** What an operation whose route says `file` answers: a document to save (an export), not JSON. */
export interface FileAnswer {
  filename: string;
  /** With its charset: `text/csv; charset=utf-8`. */
  contentType: string;
  /** Made as it is read: nothing is fetched until then, and a reader that stops early stops it. */
  content: Readable;
}

export interface Operation<S extends z.ZodObject = z.ZodObject, O = unknown> {
  /** The role the caller needs (checked in one place: dispatch.ts). */
  role: Access;
  /** Strict: an unknown field is refused, not ignored. */
  input: S;
  /** Its route: every operation has one, so everything is reachable in Azure. `O` is what `run` answers, not inferred here. */
  http: HttpBinding<z.input<S>, NoInfer<O>>;
  /** Answers plain JSON — what the HTTP API sends — so every surface formats the same object. */
  run(context: AdminContext, input: z.output<S>): Promise<O>;
}

/** Declares an operation, inferring its input and output types from the schema and `run`. */
export function defineOperation<S extends z.ZodObject, O>(operation: Operation<S, O>): Operation<S, O> {
  return operation;
}

/** The input fields a route's path carries: `connections/:name/sync` → `name`. */
export function pathFields(path: string): string[] {
  return path.split('/').flatMap((segment) => (segment.startsWith(':') ? [segment.slice(1)] : []));
}
