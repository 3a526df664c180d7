/** Where the CLI writes: one line per call. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** How a long wait is going, replacing the last such line where it can (a terminal); absent: not shown. */
  progress?: (line: string) => void;
}

// Terminal controls (C0 with ESC, DEL, C1 with CSI) and the bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A stored value printed raw could drive the admin's terminal (an ESC sequence) or reorder what the line
 * seems to say (U+202E): each such character is shown as its `\uXXXX` escape. That is also JSON's escape,
 * so a `--json` line stays valid JSON and still parses to the stored value.
 */
export function visible(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The CLI's one output path: every line escaped, whatever it prints. */
export function escapingIo(io: CliIo): CliIo {
  const { progress } = io;
  return { out: (line) => io.out(visible(line)), err: (line) => io.err(visible(line)), ...(progress ? { progress: (line: string) => progress(visible(line)) } : {}) };
}

interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * The process's streams. Progress goes to stderr, so stdout holds only results (`--json` pipes cleanly):
 * on a terminal one line rewritten in place (cut to its width, cleared before anything else is
 * printed); elsewhere (a log, CI) a plain line each time it changes.
 */
export function processIo(stdout: OutputStream, stderr: OutputStream): CliIo {
  let shown = '';
  const endProgress = () => {
    if (stderr.isTTY && shown) stderr.write('\r\x1b[2K');
    shown = '';
  };
  return {
    out: (line) => {
      endProgress();
      stdout.write(`${line}\n`);
    },
    err: (line) => {
      endProgress();
      stderr.write(`${line}\n`);
    },
    progress: (line) => {
      if (line === shown) return;
      shown = line;
      if (!stderr.isTTY) stderr.write(`${line}\n`);
      else stderr.write(`\r\x1b[2K${stderr.columns ? line.slice(0, stderr.columns - 1) : line}`);
    },
  };
}

/** Our own multi-line text (usage), a line per call: the escaping would show its line breaks as `\u000a`. */
export function printLines(write: (line: string) => void, text: string): void {
  for (const line of text.split('\n')) write(line);
}

/**
 * A document (an export) as it streams in, a line per call: what the lines are joined with is the
 * output's own line end (a CRLF becomes the terminal's). Each line is escaped like any other.
 */
export async function printDocument(io: CliIo, content: AsyncIterable<unknown>): Promise<void> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of content) {
    const lines = (rest + (typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true }))).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) io.out(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
  rest += decoder.decode();
  if (rest) io.out(rest);
}

export function printTable(io: CliIo, header: string[], rows: string[][]): void {
  if (!rows.length) return;
  // Escaped before measuring, so columns line up with what is printed.
  const cells = rows.map((row) => row.map(visible));
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => (row[column] ?? '').length)));
  const format = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  io.out(format(header));
  for (const row of cells) io.out(format(row));
}
