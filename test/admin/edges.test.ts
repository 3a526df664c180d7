import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The edges are thin (ARCHITECTURE.md, "Admin core"): the HTTP API and the CLI reach the app only through
 * shared/admin/ — never a store port, an adapter, a job or a pipeline file. Besides that, each may use its
 * own folder (formatting, argument parsing, problem+json), shared/errors/, node built-ins and zod.
 */
const EDGES = ['shared/http/api.ts', ...readdirSync('shared/cli', { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts')).map((file) => join('shared/cli', file))];

/** Every module a file imports or re-exports, statically or dynamically, types included. */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((imported) => imported.fileName);
}

function allowed(file: string, specifier: string): boolean {
  if (specifier.startsWith('node:') || specifier === 'zod') return true;
  if (!specifier.startsWith('.')) return false;
  const target = relative('.', resolve(dirname(file), specifier));
  return [dirname(file), 'shared/admin', 'shared/errors'].some((folder) => target.startsWith(`${folder}/`));
}

describe('the edges import only the admin core', () => {
  it('covers the HTTP API and every CLI file, and sees their imports', () => {
    expect(EDGES).toEqual(expect.arrayContaining(['shared/http/api.ts', 'shared/cli/cli.ts', 'shared/cli/run-commands.ts', 'shared/cli/directory-commands.ts']));
    expect(importsOf('shared/cli/cli.ts')).toEqual(expect.arrayContaining(['node:fs', 'zod', '../admin/client.js', './output.js']));
  });

  it.each(EDGES)('%s', (file) => {
    expect(importsOf(file).filter((specifier) => !allowed(file, specifier))).toEqual([]);
  });
});
