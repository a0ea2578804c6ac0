/**
 * @module validate
 * Parses input with a zod schema and turns the first problem into a 400 that names the field.
 */
import type { z } from 'zod';
import { invalid } from './errors.ts';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw invalid(field, issue?.message ?? 'is invalid', { issues: result.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message })) });
}
