import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startAzurite } from '../../shared/host/azurite.js';
import { createTestCertificate } from '../fakes/tls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    storageConnectionString: string;
    /** PEM of the self-signed certificate for 127.0.0.1/localhost that every test worker trusts. */
    tlsCert: string;
    /** Its private key (PKCS#8 PEM), for HTTPS fakes such as test/fakes/graph-server.ts. */
    tlsKey: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // No extent sweep during the suite: it would freeze Azurite for a minute or more (shared/host/azurite.ts).
  const azurite = await startAzurite({ extentSweepIntervalMs: 24 * 3_600_000 });
  project.provide('storageConnectionString', azurite.connectionString);

  // Node reads NODE_EXTRA_CA_CERTS once, at process start. Vitest 4 builds each fork's environment from
  // process.env after the global setup has run, so the workers start trusting the certificate.
  const { cert, key } = await createTestCertificate();
  const directory = await mkdtemp(join(tmpdir(), 'usersync-tls-'));
  const certFile = join(directory, 'test-ca.pem');
  await writeFile(certFile, cert);
  process.env.NODE_EXTRA_CA_CERTS = certFile;
  project.provide('tlsCert', cert);
  project.provide('tlsKey', key);

  return async () => {
    await azurite.stop();
    await rm(directory, { recursive: true, force: true });
  };
}
