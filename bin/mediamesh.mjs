#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so there is no build step between a checkout and a working command.
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/main.ts');
