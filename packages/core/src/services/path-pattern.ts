/**
 * @module services/path-pattern
 * Route patterns of price rules: `*` matches inside one path segment, `**` matches the rest of the
 * path (zero or more segments). Compiled once to a RegExp; everything else is literal.
 */

const cache = new Map<string, RegExp>();
/** Distinct patterns kept compiled; prices are few, so this only guards against abuse. */
const CACHE_SIZE_MAX = 10_000;

export function compilePathPattern(pattern: string): RegExp {
  let regex = cache.get(pattern);
  if (regex) return regex;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      // `/**` also matches the bare prefix: `/v1/**` covers `/v1` and `/v1/x/y`.
      if (source.endsWith('/')) source = `${source.slice(0, -1)}(?:/.*)?`;
      else source += '.*';
      i++;
    } else if (char === '*') {
      source += '[^/]*';
    } else {
      source += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  regex = new RegExp(`^${source}$`);
  if (cache.size < CACHE_SIZE_MAX) cache.set(pattern, regex);
  return regex;
}

export function pathMatches(pattern: string, path: string): boolean {
  return compilePathPattern(pattern).test(path);
}
