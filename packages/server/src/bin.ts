#!/usr/bin/env -S node --import tsx
/**
 * @module bin
 * The `tollgate` command. Each subcommand lives in `cli/commands/<name>.ts`.
 */
import { runMain } from 'citty';
import { main } from './cli/index.ts';

await runMain(main);
