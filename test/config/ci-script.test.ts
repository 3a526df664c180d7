import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `.ci/run` installs Debian's Chromium, which the console's end-to-end tests drive (test/support/console-browser.ts),
 * when it is missing — before `npm test`, with sudo only when not root. Its step runs here against a stand-in
 * browser path and stand-in commands that record how they were called.
 */
const script = readFileSync('.ci/run', 'utf8');
const CHROMIUM = '/usr/bin/chromium';

/** The script's Chromium step, run with `uid` as the user id, the browser at `browser`; the commands it ran. */
function chromiumStep(uid: number, browser: string): string[] {
  const step = /^if \[ ! -x \/usr\/bin\/chromium \]; then\n[\s\S]*?\nfi$/m.exec(script)?.[0];
  if (!step) throw new Error('.ci/run has no Chromium step');
  const bin = mkdtempSync(join(tmpdir(), 'ci-step-'));
  const log = join(bin, 'calls.log');
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  fake('id', `echo ${uid}`);
  fake('apt-get', `echo "apt-get $*" >> "${log}"`);
  fake('sudo', `echo "sudo $*" >> "${log}"`);
  writeFileSync(log, '');
  execFileSync('bash', ['-euo', 'pipefail', '-c', step.replaceAll(CHROMIUM, browser)], { env: { PATH: `${bin}:/usr/bin:/bin` } });
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('.ci/run', () => {
  it('installs chromium when the browser is missing: apt-get as root, through sudo otherwise', () => {
    const missing = join(tmpdir(), 'no-chromium-here');
    expect(chromiumStep(0, missing)).toEqual(['apt-get update', 'apt-get install -y chromium']);
    expect(chromiumStep(1000, missing)).toEqual(['sudo apt-get update', 'sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium']);
  });

  it('installs nothing when the browser is there', () => {
    expect(chromiumStep(0, process.execPath)).toEqual([]);
  });

  it('does so before the tests, for the browser the tests launch', () => {
    expect(script.indexOf('apt-get install -y chromium')).toBeLessThan(script.search(/^npm test$/m));
    expect(readFileSync('test/support/console-browser.ts', 'utf8')).toContain(`const CHROMIUM = '${CHROMIUM}';`);
  });
});
