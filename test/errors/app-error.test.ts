import { describe, expect, it } from 'vitest';
import { AppError, describeError, type RunError } from '../../shared/errors/app-error.js';

describe('AppError', () => {
  it('takes its details and whether it is transient as named options', () => {
    const busy = new AppError('source-unavailable', 'The directory did not answer.', { transient: true });
    const active = new AppError('run-active', 'A run is active.', { details: { runId: 'r1' } });

    expect({ transient: busy.transient, details: busy.details }).toEqual({ transient: true, details: undefined });
    expect({ transient: active.transient, details: active.details }).toEqual({ transient: false, details: { runId: 'r1' } });
    expect(new AppError('not-found', 'Nothing here.').transient).toBe(false);
  });
});

describe('describeError', () => {
  it('gives a run error: the code and sentence of an AppError, internal-error for anything else, cut to fit a table column', () => {
    const described: RunError[] = [
      describeError(new AppError('csv-empty', 'The CSV file is empty.')),
      describeError(new TypeError('x is undefined')),
      describeError('a thrown string'),
    ];
    expect(described).toEqual([
      { code: 'csv-empty', message: 'The CSV file is empty.' },
      { code: 'internal-error', message: 'x is undefined' },
      { code: 'internal-error', message: 'a thrown string' },
    ]);
    expect(describeError(new Error('x'.repeat(5000))).message).toBe(`${'x'.repeat(1999)}…`);
  });
});
