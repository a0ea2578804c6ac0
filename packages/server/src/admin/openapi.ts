/**
 * @module admin/openapi
 * The OpenAPI 3.1 document, generated from the route declarations and their zod schemas
 * (`z.toJSONSchema`), plus the proxy and the problem-details shape every refusal uses.
 */
import { z } from 'zod';
import { ERROR_STATUS } from '@tollgate/core';
import type { RouteDef } from './route.ts';

const PROBLEM = {
  type: 'object',
  description: 'RFC 9457 problem details with a stable `code`; the code\'s data (limit, remaining, approvalId, field, …) are extra members.',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', enum: Object.keys(ERROR_STATUS) },
    instance: { type: 'string' },
  },
  additionalProperties: true,
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function parametersOf(def: RouteDef): unknown[] {
  const params: unknown[] = [];
  for (const name of def.path.match(/:([A-Za-z]+)/g) ?? []) {
    params.push({ name: name.slice(1), in: 'path', required: true, schema: { type: 'string' } });
  }
  if (def.query) {
    const schema = jsonSchema(def.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      params.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: property });
    }
  }
  return params;
}

const errorResponses = {
  '400': { $ref: '#/components/responses/Problem' },
  '401': { $ref: '#/components/responses/Problem' },
  '403': { $ref: '#/components/responses/Problem' },
  '404': { $ref: '#/components/responses/Problem' },
  '429': { $ref: '#/components/responses/Problem' },
};

export function openApiDocument(routes: readonly RouteDef[], options: { serverUrl?: string; version?: string } = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const def of routes) {
    const path = def.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const success = def.produces
      ? { description: 'OK', content: { [def.produces]: { schema: { type: 'string' } } } }
      : { description: 'OK', content: { 'application/json': { schema: def.response ? jsonSchema(def.response, 'output') : {} } } };
    paths[path] ??= {};
    paths[path]![def.method] = {
      tags: [def.tag],
      summary: def.summary,
      ...(def.description ? { description: def.description } : {}),
      operationId: `${def.method}${path.replace(/[{}]/g, '').split('/').filter(Boolean).map((s) => s[0]!.toUpperCase() + s.slice(1).replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase())).join('')}`,
      'x-roles': def.roles,
      parameters: parametersOf(def),
      ...(def.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(def.body, 'input') } } } } : {}),
      responses: { [String(def.status ?? 200)]: success, ...errorResponses },
    };
  }
  paths['/proxy/{service}/{path}'] = {
    'x-methods': ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    post: {
      tags: ['proxy'],
      summary: 'Make a paid call to a registered service (any method)',
      description:
        'Authorize (one atomic hold) → forward with the service\'s credentials → capture on 2xx, void otherwise. The answer is the upstream\'s, streamed, with X-Tollgate-Call-Id, X-Tollgate-Charge and X-Tollgate-Remaining. Refusals are problem+json. See docs/http.md.',
      security: [{ grantToken: [] }],
      parameters: [
        { name: 'service', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'The rest of the path, forwarded as is' },
        { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 }, description: 'Same key = same call: a retry replays the outcome and is never charged twice' },
        { name: 'X-Tollgate-Task', in: 'header', schema: { type: 'string', maxLength: 200 } },
        { name: 'X-Tollgate-Agent', in: 'header', schema: { type: 'string', maxLength: 200 } },
        { name: 'X-Tollgate-Reason', in: 'header', schema: { type: 'string', maxLength: 1000 } },
        { name: 'X-Tollgate-Approval', in: 'header', schema: { type: 'string' }, description: 'Approval id when retrying a call that needed approval' },
      ],
      responses: {
        '200': { description: 'The upstream\'s answer', headers: { 'X-Tollgate-Call-Id': { schema: { type: 'string' } }, 'X-Tollgate-Charge': { schema: { type: 'string' } }, 'X-Tollgate-Remaining': { schema: { type: 'string' } } } },
        '401': { $ref: '#/components/responses/Problem' },
        '402': { $ref: '#/components/responses/Problem' },
        '403': { $ref: '#/components/responses/Problem' },
        '409': { $ref: '#/components/responses/Problem' },
        '502': { $ref: '#/components/responses/Problem' },
        '504': { $ref: '#/components/responses/Problem' },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'Tollgate', version: options.version ?? '0.1.0', description: 'Control plane for paid AI-agent calls: admin API and paid proxy.' },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (tg_ak_… / tg_sk_…) with role admin, buyer or seller' },
        grantToken: { type: 'http', scheme: 'bearer', description: 'A grant token (tg_live_… / tg_test_…)' },
      },
      schemas: { Problem: PROBLEM },
      responses: { Problem: { description: 'A refusal', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } } },
    },
  };
}

/** A readable page over the document, with no scripts from elsewhere (works offline). */
export function docsPage(document: Record<string, unknown>): string {
  const paths = document.paths as Record<string, Record<string, { summary?: string; description?: string; tags?: string[]; 'x-roles'?: string[]; requestBody?: { content: Record<string, { schema: unknown }> } }>>;
  const escape = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
  const rows: string[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (method.startsWith('x-')) continue;
      const body = op.requestBody ? `<details><summary>body</summary><pre>${escape(JSON.stringify(op.requestBody.content['application/json']?.schema, null, 2))}</pre></details>` : '';
      rows.push(`<section><h3><code>${method.toUpperCase()} ${escape(path)}</code></h3><p>${escape(op.summary ?? '')}${op['x-roles'] ? ` <small>roles: ${op['x-roles'].join(', ')}</small>` : ''}</p>${op.description ? `<p>${escape(op.description)}</p>` : ''}${body}</section>`);
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tollgate API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}code,pre{font:13px ui-monospace,monospace}pre{background:#f5f5f5;padding:.5rem;overflow:auto}section{border-top:1px solid #ddd;padding:.25rem 0}h3{margin:.5rem 0 .25rem}small{color:#666}</style></head>
<body><h1>Tollgate API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Every refusal is <code>application/problem+json</code> with a stable <code>code</code>.</p>
${rows.join('\n')}</body></html>`;
}
