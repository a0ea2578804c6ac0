/**
 * @module grants/patterns
 * Service and tool names in grants are exact names or `prefix*` patterns. A child grant's pattern
 * must be covered by one of its parent's, so delegation can only narrow.
 */

export const PATTERN = /^[A-Za-z0-9_.:/ -]{1,200}\*?$|^\*$/;

export function matchesPattern(pattern: string, value: string): boolean {
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : pattern === value;
}

export function matchesAny(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => matchesPattern(p, value));
}

/** Whether every name `child` matches is also matched by `parent`. */
export function patternCovers(parent: string, child: string): boolean {
  if (!parent.endsWith('*')) return parent === child;
  const prefix = parent.slice(0, -1);
  return child.startsWith(prefix);
}
