#!/usr/bin/env node
// The `pgcp` command (package.json bin): runs the TypeScript CLI through tsx's loader, as the rest of the project runs.
import { register } from 'tsx/esm/api';

register();
await import('../cli.ts');
