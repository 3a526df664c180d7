import { readFileSync } from 'node:fs';
import { startGraphServer, type FakeTenant } from '../test/fakes/graph-server.js';
import { generateDirectory } from './directory.js';

/**
 * The Graph fake in its own process, so its memory and CPU are not counted as the sync's. Driven by
 * IPC from bench/run.ts: add a generated tenant, change some users (for the delta scenario), close.
 */
type Command =
  | { id: number; type: 'add-tenant'; tenantId: string; clientId: string; clientSecret: string; users: number; groups: number; tag: number }
  | { id: number; type: 'change-users'; tenantId: string; count: number; stamp: string }
  | { id: number; type: 'close' };

const certFile = process.argv[2];
const keyFile = process.argv[3];
if (!certFile || !keyFile || !process.send) throw new Error('usage: graph-fake-process CERT KEY (with an IPC channel)');
const server = await startGraphServer({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') });
const send = (message: unknown): void => void process.send?.(message);

process.on('message', (message: Command) => {
  try {
    switch (message.type) {
      case 'add-tenant': {
        const started = performance.now();
        const tenant: FakeTenant = server.addTenant(message.tenantId, { clientId: message.clientId, clientSecret: message.clientSecret });
        const directory = generateDirectory(message.users, message.groups, message.tag);
        for (const user of directory.users) tenant.addUser(user);
        for (const group of directory.groups) tenant.addGroup(group);
        send({ id: message.id, ok: true, rootGroupId: directory.rootGroupId, ms: Math.round(performance.now() - started) });
        return;
      }
      case 'change-users': {
        // Spread over the directory (every k-th user), as real edits are: a new job title.
        const tenant = server.tenant(message.tenantId);
        const ids = [...tenant.users.keys()];
        const step = Math.max(1, Math.floor(ids.length / message.count));
        let changed = 0;
        for (let i = 0; i < ids.length && changed < message.count; i += step, changed++) tenant.updateUser(ids[i]!, { jobTitle: `Changed ${message.stamp}` });
        send({ id: message.id, ok: true, changed });
        return;
      }
      case 'close':
        void server.close().then(() => {
          send({ id: message.id, ok: true });
          process.disconnect();
        });
        return;
    }
  } catch (error) {
    send({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
send({ ready: true, url: server.url });
