import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export interface HostProcess {
  child: ChildProcess;
  /** The API's base URL, once the host says it is listening. */
  apiUrl: Promise<string>;
  /** SIGTERM (the host stops and flushes telemetry) and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * The real `npm start` entry point (bin/local-host.ts) as its own process, so a test can kill it or see
 * what it sends on shutdown. It sees only the environment given here (plus PATH and the test CA).
 */
export function startHostProcess(env: Record<string, string>): HostProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve('bin/local-host.ts')], {
    cwd: resolve('.'),
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
      USERSYNC_LOCAL_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (data) => process.stderr.write(`[local host] ${data}`));
  const apiUrl = new Promise<string>((resolveUrl, reject) => {
    let output = '';
    child.stdout?.on('data', (data) => {
      output += String(data);
      const url = /listening at (\S+)/.exec(output)?.[1];
      if (url) resolveUrl(url);
    });
    child.once('exit', (code) => reject(new Error(`the local host exited (${code}) before listening`)));
  });
  apiUrl.catch(() => undefined);
  return {
    child,
    apiUrl,
    stop: () =>
      new Promise<void>((resolveExit) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveExit();
        child.once('exit', () => resolveExit());
        child.kill('SIGTERM');
      }),
  };
}
