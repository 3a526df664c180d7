import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_DEQUEUE_COUNT } from '../../shared/config/settings.js';

interface HostJson {
  version?: string;
  extensions?: { queues?: { maxDequeueCount?: unknown } };
}

describe('host.json', () => {
  const host = JSON.parse(readFileSync(new URL('../../host.json', import.meta.url), 'utf8')) as HostJson;

  it('is a Functions 2.0+ host file', () => {
    expect(host.version).toBe('2.0');
  });

  it('sets extensions.queues.maxDequeueCount to MAX_DEQUEUE_COUNT', () => {
    expect(host.extensions?.queues?.maxDequeueCount).toBe(MAX_DEQUEUE_COUNT);
  });
});
