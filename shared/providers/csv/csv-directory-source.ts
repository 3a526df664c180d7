import { Readable } from 'node:stream';
import { z } from 'zod';
import type { SecretResolver } from '../../config/secrets.js';
import type { ConnectionProfile, CsvProfile } from '../../connections/profile.js';
import { AppError } from '../../errors/app-error.js';
import type { FileStore } from '../../sync/ports.js';
import type { DirectorySource, SourcePage } from '../../sync/directory-source.js';
import type { SourceEntry } from '../../sync/model.js';
import type { Run } from '../../sync/run-model.js';
import { paths } from '../../sync/pipeline/staging.js';
import { archiveCopy } from './archive.js';
import { detectDelimiter, detectEncoding, firstLine, transcodeToUtf8 } from './format.js';
import { mapErrorRecord, mapRow, planColumns } from './map-row.js';
import { readCsvRecords } from './records.js';
import { openRemoteCsv } from './remote-csv.js';

/** Where the next page starts in the run's (UTF-8) copy of the file. */
const cursorSchema = z.object({
  path: z.string().min(1),
  offset: z.number().int().min(0),
  line: z.number().int().min(1),
  delimiter: z.enum([',', ';', '\t', '|']),
  header: z.array(z.string()),
});
type CsvCursor = z.infer<typeof cursorSchema>;

const PREFIX_BYTES = 64 * 1024;

export interface CsvSourceOptions {
  /** The runs container: each run's input (a working copy, and the archive kept for roll-back). */
  runFiles: FileStore;
  /** The CSV container (files uploaded with `usersync csv upload`). */
  csvFiles: FileStore;
  secrets: SecretResolver;
  pageSize: number;
  allowInsecureHttp: boolean;
  allowPrivateSources: boolean | string[];
}

/**
 * A CSV export as a directory. The first page copies the file's exact bytes for the run, detects
 * encoding and delimiter, reads the header and archives the file without its passwords (the roll-back
 * point); every page then streams from a byte offset in the run's copy, so no page reads the whole file
 * and re-reading a page gives the same rows. The copy is removed when the run ends; the archive expires.
 */
export class CsvDirectorySource implements DirectorySource {
  readonly requiresPassword = true;
  readonly listsUsersRepeatedly = false;
  readonly supportsIncremental = false;

  constructor(private readonly options: CsvSourceOptions) {}

  async readPage(request: { run: Run; page: number; cursor: unknown }): Promise<SourcePage> {
    const profile = csvProfileOf(request.run);
    const cursor = request.cursor === null || request.cursor === undefined ? await this.open(request.run, profile) : cursorSchema.parse(request.cursor);
    const columns = planColumns(cursor.header, profile);
    const input = await this.options.runFiles.read(cursor.path, cursor.offset);
    if (!input) throw new AppError('source-not-found', `The input of run ${request.run.runId} is missing.`);

    const entries: SourceEntry[] = [];
    let next: CsvCursor | null = null;
    let position = { offset: cursor.offset, line: cursor.line };
    try {
      for await (const record of readCsvRecords(input, { delimiter: cursor.delimiter, startOffset: cursor.offset, startLine: cursor.line })) {
        if (entries.length >= this.options.pageSize) {
          // There is at least one more record: the next page starts where the last one taken ended.
          next = { ...cursor, ...position };
          break;
        }
        entries.push(record.kind === 'record' ? mapRow(columns, record) : mapErrorRecord(record));
        position = { offset: record.endOffset, line: record.nextLine };
      }
    } finally {
      input.destroy();
    }
    if (request.page === 0 && entries.length === 0) {
      throw new AppError('csv-empty', 'The CSV file has a header but no rows; nothing was changed and no one was disabled.');
    }
    return { entries, next };
  }

  /** Opens the file (without archiving it) and checks its header against the profile. */
  async testConnection(profileInput: ConnectionProfile): Promise<{ detail: string; warnings: string[] }> {
    if (profileInput.type !== 'csv') throw new AppError('profile-invalid', `"${profileInput.name}" is not a CSV profile.`);
    const prefix = await firstBytes(await this.openSource(profileInput));
    if (!prefix.length) throw new AppError('csv-empty', 'The CSV file is empty.');
    const { encoding, bomLength } = detectEncoding(prefix);
    const utf8: Buffer[] = [];
    for await (const chunk of transcodeToUtf8(Readable.from([prefix]), profileInput.encoding ?? encoding, bomLength)) utf8.push(chunk);
    const headerLine = firstLine(Buffer.concat(utf8).toString('utf8'));
    const delimiter = profileInput.delimiter ?? detectDelimiter(headerLine);
    for await (const record of readCsvRecords(Readable.from([Buffer.from(`${headerLine}\n`)]), { delimiter, startOffset: 0, startLine: 1 })) {
      if (record.kind === 'error') throw new AppError('csv-header-invalid', `The header line cannot be read: ${record.message}`);
      const header = record.fields.map((field) => field.trim());
      const { columns } = planColumns(header, profileInput);
      return {
        detail: `Read the CSV file: ${header.length} columns (${header.join(', ')}), ${encoding}, "${delimiter === '\t' ? 'tab' : delimiter}"-separated; the required columns are there.`,
        warnings: columns.some((column) => column.kind === 'password') || profileInput.defaultPasswordSecret ? [] : [noPasswordWarning(profileInput)],
      };
    }
    throw new AppError('csv-empty', 'The CSV file has no header line.');
  }

  private async open(run: Run, profile: CsvProfile): Promise<CsvCursor> {
    const { runFiles } = this.options;
    const copy = paths.input(run.runId);
    // A redelivered first page reuses the copy (and the files made from it): every page of a run reads the same bytes.
    if (!(await runFiles.exists(copy))) await runFiles.putStream(copy, await this.openInput(run, profile));

    const prefix = await readPrefix(runFiles, copy);
    if (prefix.length === 0) throw new AppError('csv-empty', 'The CSV file is empty; nothing was changed and no one was disabled.');
    const detected = detectEncoding(prefix);
    // An archive (a roll-back's input) is UTF-8 with a byte order mark, whatever the profile says of its files.
    const encoding = run.fromRunId ? detected.encoding : (profile.encoding ?? detected.encoding);
    let path = copy;
    let offset = detected.bomLength;
    if (encoding !== 'utf-8') {
      path = paths.utf8Input(run.runId);
      if (!(await runFiles.exists(path))) {
        const original = await runFiles.read(copy);
        if (!original) throw new AppError('source-not-found', `The input of run ${run.runId} is missing.`);
        await runFiles.putStream(path, Readable.from(transcodeToUtf8(original, encoding, detected.bomLength)));
      }
      offset = 0;
    }
    const delimiter = profile.delimiter ?? detectDelimiter(firstLine((await readPrefix(runFiles, path, offset)).toString('utf8')));
    const input = await runFiles.read(path, offset);
    if (!input) throw new AppError('source-not-found', `The input of run ${run.runId} is missing.`);
    try {
      for await (const record of readCsvRecords(input, { delimiter, startOffset: offset, startLine: 1 })) {
        if (record.kind === 'error') {
          throw new AppError('csv-header-invalid', `The header line cannot be read: ${record.message}`);
        }
        const header = record.fields.map((field) => field.trim());
        const { columns } = planColumns(header, profile); // fail on a bad header before any page is staged
        const passwordColumns = columns.flatMap((column, index) => (column.kind === 'password' ? [index] : []));
        await this.archive(run, { path, offset, delimiter, passwordColumns });
        return { path, offset: record.endOffset, line: record.nextLine, delimiter, header };
      }
    } finally {
      input.destroy();
    }
    throw new AppError('csv-empty', 'The CSV file has no header line; nothing was changed and no one was disabled.');
  }

  /** Keeps the input for roll-back without its passwords (once: a redelivered first page finds it made). */
  private async archive(run: Run, from: { path: string; offset: number; delimiter: CsvCursor['delimiter']; passwordColumns: number[] }): Promise<void> {
    const { runFiles } = this.options;
    const archive = paths.archive(run.runId);
    if (await runFiles.exists(archive)) return;
    const input = await runFiles.read(from.path, from.offset);
    if (!input) throw new AppError('source-not-found', `The input of run ${run.runId} is missing.`);
    await runFiles.putStream(archive, Readable.from(archiveCopy(input, { delimiter: from.delimiter, startOffset: from.offset, passwordColumns: from.passwordColumns })));
  }

  private async openInput(run: Run, profile: CsvProfile): Promise<Readable> {
    if (run.fromRunId) {
      const earlier = await this.options.runFiles.read(paths.archive(run.fromRunId));
      if (!earlier) throw new AppError('run-not-found', `Run ${run.fromRunId} kept no archived input to re-sync from.`);
      return earlier;
    }
    return this.openSource(profile);
  }

  private async openSource(profile: CsvProfile): Promise<Readable> {
    const { source } = profile;
    if (source.kind === 'blob') {
      const file = await this.options.csvFiles.read(source.blobName);
      if (!file) {
        throw new AppError('source-not-found', `The CSV file "${source.blobName}" has not been uploaded (usersync csv upload "${profile.name}" FILE).`);
      }
      return file;
    }
    const { secrets, allowInsecureHttp, allowPrivateSources } = this.options;
    return openRemoteCsv(source, { secrets, allowInsecureHttp, allowPrivateSources });
  }
}

function noPasswordWarning(profile: CsvProfile): string {
  return (
    `New users cannot be created: the file has no "${profile.passwordColumn}" column and the profile names no defaultPasswordSecret, ` +
    'so every new row would be skipped as missing-password. Add the column, or set defaultPasswordSecret to an app setting holding an initial password.'
  );
}

function csvProfileOf(run: Run): CsvProfile {
  if (run.profile.type !== 'csv') throw new AppError('profile-invalid', `Run ${run.runId} is not a CSV run.`);
  return run.profile;
}

async function readPrefix(files: FileStore, path: string, offset = 0): Promise<Buffer> {
  const input = await files.read(path, offset);
  return input ? firstBytes(input) : Buffer.alloc(0);
}

/** The first 64 KiB of a stream (enough to detect encoding and delimiter and read the header); closes it. */
async function firstBytes(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= PREFIX_BYTES) break;
    }
  } finally {
    input.destroy();
  }
  return Buffer.concat(chunks).subarray(0, PREFIX_BYTES);
}
