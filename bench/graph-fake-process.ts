import { readFileSync } from 'node:fs';
import { startGraphServer, type FakeTenant } from '../test/fakes/graph-server.js';
import { startOktaServer } from '../test/fakes/okta-server.js';
import { generateDirectory, generateOktaOrg } from './directory.js';
import type { LoggedRequest } from './provider-requests.js';

/**
 * The Graph and Okta fakes in their own process, so their memory and CPU are not counted as the sync's. Driven
 * by IPC from bench/run.ts: add a generated tenant or org, change some users (for the delta scenario), set the
 * round trip every directory request takes, hand over the requests logged since the last time, close.
 */
type Command =
  | { id: number; type: 'add-tenant'; tenantId: string; clientId: string; clientSecret: string; users: number; groups: number; tag: number }
  | { id: number; type: 'add-okta-org'; token: string; users: number; groups: number; tag: number }
  | { id: number; type: 'change-users'; tenantId: string; count: number; stamp: string }
  | { id: number; type: 'set-latency'; ms: number }
  | { id: number; type: 'take-requests'; fake: 'graph' | 'okta' }
  | { id: number; type: 'close' };

const certFile = process.argv[2];
const keyFile = process.argv[3];
if (!certFile || !keyFile || !process.send) throw new Error('usage: graph-fake-process CERT KEY (with an IPC channel)');
const server = await startGraphServer({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') });
const okta = await startOktaServer();
// The bench measures latency, not Okta's per-minute budget: a 100,000-user org would otherwise wait out the
// groups bucket (500 a minute) whatever the latency.
okta.rateLimits.users = okta.rateLimits.groups = 1_000_000;
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
      case 'add-okta-org': {
        const started = performance.now();
        const org = generateOktaOrg(message.users, message.groups, message.tag);
        okta.addToken(message.token);
        for (const user of org.users) okta.addUser(user);
        for (const group of org.groups) okta.addGroup(group);
        send({ id: message.id, ok: true, everyoneGroupId: org.everyoneGroupId, ms: Math.round(performance.now() - started) });
        return;
      }
      case 'set-latency':
        server.setLatency(message.ms);
        okta.setLatency(message.ms);
        send({ id: message.id, ok: true });
        return;
      case 'take-requests': {
        // Graph logs the path with its query, Okta the decoded query apart.
        const taken =
          message.fake === 'graph'
            ? server.requests.splice(0)
            : okta.requests.splice(0).map((request) => ({ ...request, path: `${request.path}?${new URLSearchParams(request.query).toString()}` }));
        const requests: LoggedRequest[] = taken.map((request) => {
          const { method, path, startedAt, endedAt } = request;
          const subRequests = 'subRequests' in request ? request.subRequests : undefined;
          return { method, path, startedAt, ...(endedAt === undefined ? {} : { endedAt }), ...(subRequests ? { subRequests } : {}) };
        });
        send({ id: message.id, ok: true, requests });
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
        void Promise.all([server.close(), okta.close()]).then(() => {
          send({ id: message.id, ok: true });
          process.disconnect();
        });
        return;
    }
  } catch (error) {
    send({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
send({ ready: true, url: server.url, oktaUrl: okta.url });
