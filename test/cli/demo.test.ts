import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The README's first command, as a newcomer runs it: it must exit 0 and tell the story it claims. */
describe('npm run demo', () => {
  it('exits 0, showing the held run, the confirmation, then Katherine disabled', async () => {
    const child = spawn('npm', ['run', '--silent', 'demo'], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (data) => (out += String(data)));
    child.stderr.on('data', (data) => (out += String(data)));
    const code = await new Promise((exited) => child.once('exit', exited));
    expect(out).not.toContain('did not go as told');
    expect(code).toBe(0);
    // The dry run says what a real run would do; it cannot be confirmed, so it does not ask to.
    expect(out).toContain('warning: A real run would be held for confirmation: it would disable 1 of 6 enabled users');
    const held = /Run (\S+) needs-confirmation: 3 created, 1 updated, 4 unchanged, 0 disabled/.exec(out)?.[1];
    expect(held).toBeDefined();
    expect(out).toContain('held: 1 user(s) to disable: katherine.johnson');
    const afterConfirm = out.slice(out.indexOf(`$ usersync confirm ${held}`));
    expect(afterConfirm).toMatch(new RegExp(`Run ${held} succeeded: 3 created, 1 updated, 4 unchanged, 1 disabled`));
    expect(afterConfirm).toMatch(/\nkatherine\.johnson\s+katherine\.johnson@example\.org\s+Katherine\s+Johnson\s+disabled\s/);
    expect(afterConfirm).not.toMatch(/no one was disabled/);
  }, 300_000);
});
