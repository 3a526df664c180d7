#!/usr/bin/env node
// The admin CLI runs straight from the TypeScript sources (tsx), so a fresh `npm ci` is all it needs.
import { register } from 'tsx/esm/api';

register();
await import('./usersync-main.ts');
