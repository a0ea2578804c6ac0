#!/usr/bin/env node
// The installed `tollgate` command. Tollgate ships TypeScript sources; tsx is registered from here,
// where it resolves as this package's own dependency. (`node --import tsx` in a shebang resolves
// tsx from the caller's working directory instead, which fails under `npx` in any other folder.)
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
