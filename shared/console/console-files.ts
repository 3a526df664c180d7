import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mime from 'mime-types';
import { AppError } from '../errors/app-error.js';
import { problemOf } from '../http/problem.js';
import { CONSOLE_HEADERS } from '../http/security-headers.js';

/** What the console's HTTP function answers (a Functions HttpResponseInit). */
export interface ConsoleResponse {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string;
}

/** Vite names these files by their content's hash: a new build is new names, so a browser may keep them for good. */
const HASHED = 'assets';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The page names the current hashed files: always asked again, so a deployment reaches every admin at once. */
const PAGE = 'index.html';

/**
 * The built console (`dist/console` of the package: `npm run build`), wherever the code runs from — the sources
 * (tsx) or their build (dist/) — found as the folder of the nearest package.json above this file.
 */
export function defaultConsoleFolder(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('the package root (package.json) was not found above shared/console');
    dir = parent;
  }
  return path.join(dir, 'dist', 'console');
}

/**
 * The console's answer to a GET or HEAD of `rawPath` (the URL's path as sent, still percent-encoded): a file
 * of `folder`, or — for any other path, a client-side route such as `/runs/123` — the page, which routes it.
 * A path that tries to leave the folder (`..`, `%2e%2e`, `..%2f`, `..%5c`, a backslash, NUL) is 404, as is a
 * missing hashed file (an old page's asset after a deployment: not HTML in place of a script); a folder
 * without the page is 503, saying to build it.
 */
export async function consoleAnswer(folder: string, method: string, rawPath: string): Promise<ConsoleResponse> {
  const answer = await answerOf(folder, rawPath);
  return { ...answer, headers: { ...CONSOLE_HEADERS, ...answer.headers }, ...(method.toUpperCase() === 'HEAD' ? { body: undefined } : {}) };
}

async function answerOf(folder: string, rawPath: string): Promise<ConsoleResponse> {
  const segments = safeSegments(rawPath);
  if (!segments) return problem(new AppError('not-found', 'There is no console file at this address.'));
  const file = segments.every(isFileName) ? await fileIn(folder, segments) : undefined;
  if (file) return fileAnswer(file, segments[0] === HASHED && segments.length > 1 ? IMMUTABLE : segments.join('/') === PAGE ? 'no-store' : 'no-cache');
  if (segments[0] === HASHED) return problem(new AppError('not-found', `There is no console file /${segments.join('/')}: reload the page for the current console.`));
  const page = await fileIn(folder, [PAGE]);
  if (!page) return notBuilt();
  return fileAnswer(page, 'no-store');
}

/**
 * The path's segments, each percent-decoded once; undefined when one of them, split again at `/` and `\`
 * (a decoded `%2f` or `%5c`, a Windows separator), is `.` or `..`, or holds NUL, or when the path holds a
 * backslash as sent (browsers send `/`: only a crafted request has one). Empty segments (`//`) are dropped.
 */
function safeSegments(rawPath: string): string[] | undefined {
  if (rawPath.includes('\\')) return undefined;
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment.includes('\0') || segment.split(/[/\\]/).some((part) => part === '.' || part === '..')) return undefined;
    segments.push(segment);
  }
  return segments;
}

/** A segment that can name a file of the folder: no separator of any platform (`a%2Fb` is a client route's, not a file's). */
function isFileName(segment: string): boolean {
  return !/[/\\:]/.test(segment);
}

/** The regular file at `segments` under `folder`, if there is one — checked again to be inside the folder. */
async function fileIn(folder: string, segments: string[]): Promise<string | undefined> {
  const root = path.resolve(folder);
  const file = path.resolve(root, ...segments);
  if (!file.startsWith(root + path.sep)) return undefined;
  try {
    return (await stat(file)).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

async function fileAnswer(file: string, cacheControl: string): Promise<ConsoleResponse> {
  return {
    status: 200,
    headers: { 'content-type': mime.contentType(path.extname(file)) || 'application/octet-stream', 'cache-control': cacheControl },
    body: await readFile(file),
  };
}

function problem(error: AppError): ConsoleResponse {
  const { status, headers, jsonBody } = problemOf(error);
  return { status, headers: { ...headers, 'cache-control': 'no-store' }, body: JSON.stringify(jsonBody) };
}

/** A page, not JSON: whoever opens the app's address in a browser reads what to do. */
function notBuilt(): ConsoleResponse {
  const detail = `The web console is not built: the app's package has no dist/console/${PAGE}. Run \`npm run build\` (or \`npm run console:build\`), then reload this page.`;
  return {
    status: 503,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Console not built</title></head><body><h1>Console not built</h1><p>${escapeHtml(detail)}</p></body></html>\n`,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
