/**
 * @module pages/grant-form
 * Create a grant with every field the API takes. Amounts and JSON are checked before sending; the
 * server's problem message is shown next to the field it names.
 */
import { useState } from 'preact/hooks';
import { post } from '../api.ts';
import { ErrorNotice, Field, useFormErrors } from '../components/ui.tsx';
import type { User } from '../context.ts';
import { parseAmount } from '../format.ts';

const FIELDS = ['userId', 'subject', 'projectId', 'agentId', 'taskId', 'totalCap', 'perCallCap', 'ratePerMinute', 'services', 'tools', 'notBefore', 'expiresAt', 'reapproval.priceAbove', 'reapproval.tools', 'reapproval.categories', 'tag', 'metadata', 'mode'] as const;
type Name = (typeof FIELDS)[number];

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function GrantForm(props: { users: User[]; onCreated: (token: string, grantId: string) => void; onCancel: () => void }) {
  const [v, setV] = useState<Record<Name, string>>(() => ({
    userId: props.users[0]?.id ?? '', subject: 'user', projectId: '', agentId: '', taskId: '', totalCap: '', perCallCap: '', ratePerMinute: '',
    services: '*', tools: '', notBefore: '', expiresAt: '', 'reapproval.priceAbove': '', 'reapproval.tools': '', 'reapproval.categories': '', tag: '', metadata: '', mode: 'live',
  }));
  const [busy, setBusy] = useState(false);
  const form = useFormErrors();

  const set = (name: Name) => (e: Event) => setV((old) => ({ ...old, [name]: (e.target as HTMLInputElement).value }));

  const localErrors = (): Record<string, string> => {
    const errors: Record<string, string> = {};
    if (!v.userId) errors.userId = 'Choose the user whose money this grant spends.';
    if (parseAmount(v.totalCap) === undefined) errors.totalCap = 'A decimal amount such as 25.00 (at most 6 decimals).';
    for (const name of ['perCallCap', 'reapproval.priceAbove'] as const) if (v[name] && parseAmount(v[name]) === undefined) errors[name] = 'A decimal amount such as 1.50.';
    if (v.ratePerMinute && !/^[1-9]\d{0,5}$/.test(v.ratePerMinute)) errors.ratePerMinute = 'A whole number of calls per minute.';
    if (list(v.services).length === 0) errors.services = 'At least one service or pattern (* for all).';
    if (v.metadata) {
      try {
        const parsed: unknown = JSON.parse(v.metadata);
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) errors.metadata = 'A JSON object, e.g. {"ticket": "OPS-12"}.';
      } catch {
        errors.metadata = 'Not valid JSON.';
      }
    }
    return errors;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const errors = localErrors();
    form.setErrors(errors);
    if (Object.keys(errors).length > 0) return;
    const reapproval = {
      ...(v['reapproval.priceAbove'] ? { priceAbove: v['reapproval.priceAbove'] } : {}),
      ...(v['reapproval.tools'] ? { tools: list(v['reapproval.tools']) } : {}),
      ...(v['reapproval.categories'] ? { categories: list(v['reapproval.categories']) } : {}),
    };
    const body = {
      userId: v.userId, subject: v.subject, totalCap: v.totalCap.trim(), services: list(v.services), mode: v.mode,
      ...(v.projectId ? { projectId: v.projectId.trim() } : {}), ...(v.agentId ? { agentId: v.agentId.trim() } : {}), ...(v.taskId ? { taskId: v.taskId.trim() } : {}),
      ...(v.perCallCap ? { perCallCap: v.perCallCap.trim() } : {}), ...(v.ratePerMinute ? { ratePerMinute: Number(v.ratePerMinute) } : {}),
      ...(v.tools ? { tools: list(v.tools) } : {}), ...(v.notBefore ? { notBefore: iso(v.notBefore) } : {}), ...(v.expiresAt ? { expiresAt: iso(v.expiresAt) } : {}),
      ...(Object.keys(reapproval).length > 0 ? { reapproval } : {}), ...(v.tag ? { tag: v.tag } : {}), ...(v.metadata ? { metadata: JSON.parse(v.metadata) as unknown } : {}),
    };
    setBusy(true);
    try {
      const created = await post<{ grant: { id: string }; token: string }>('/v1/grants', body);
      form.reset();
      props.onCreated(created.token, created.grant.id);
    } catch (err) {
      form.fromError(err, FIELDS);
    } finally {
      setBusy(false);
    }
  };

  const input = (name: Name, label: string, opts: { hint?: string; type?: 'text' | 'number' | 'datetime-local'; placeholder?: string; class?: string; required?: boolean } = {}) => (
    <Field label={label} hint={opts.hint} error={form.errors[name]} class={opts.class}>
      {({ id, describedBy, invalid }) => (
        <input id={id} name={name} type={(opts.type ?? 'text') as 'text'} value={v[name]} placeholder={opts.placeholder} required={opts.required} aria-invalid={invalid} aria-describedby={describedBy} onInput={set(name)} />
      )}
    </Field>
  );

  return (
    <form onSubmit={submit} noValidate class="stack" aria-label="New grant">
      {form.general && <ErrorNotice error={new Error(form.general)} />}
      <fieldset>
        <legend>Who and what</legend>
        <div class="form-grid">
          <Field label="User (pays)" error={form.errors.userId}>
            {({ id, describedBy, invalid }) => (
              <select id={id} name="userId" value={v.userId} aria-invalid={invalid} aria-describedby={describedBy} onChange={set('userId')}>
                {props.users.length === 0 && <option value="">No users in this org</option>}
                {props.users.map((u) => <option key={u.id} value={u.id}>{u.name} ({u.id})</option>)}
              </select>
            )}
          </Field>
          <Field label="Subject" hint="Whose limits the grant draws on" error={form.errors.subject}>
            {({ id, describedBy, invalid }) => (
              <select id={id} name="subject" value={v.subject} aria-invalid={invalid} aria-describedby={describedBy} onChange={set('subject')}>
                <option value="user">user</option><option value="project">project</option><option value="org">org</option>
              </select>
            )}
          </Field>
          {input('projectId', 'Project id', { hint: 'For a project subject' })}
          {input('agentId', 'Agent id', { placeholder: 'agt_…' })}
          {input('taskId', 'Task id', { placeholder: 'report-42' })}
          {input('tag', 'Tag', { placeholder: 'q3-research' })}
        </div>
      </fieldset>
      <fieldset>
        <legend>Budget</legend>
        <div class="form-grid">
          {input('totalCap', 'Total cap', { placeholder: '25.00', required: true, hint: 'Required' })}
          {input('perCallCap', 'Per-call cap', { placeholder: '1.00' })}
          {input('ratePerMinute', 'Calls per minute', { placeholder: '60', type: 'number' })}
          {input('services', 'Services', { hint: 'Comma-separated names or prefix* patterns', class: 'wide' })}
          {input('tools', 'Tools', { hint: 'Comma-separated; empty = every tool' })}
          {input('notBefore', 'Not before', { type: 'datetime-local' })}
          {input('expiresAt', 'Expires at', { type: 'datetime-local' })}
          <Field label="Mode" error={form.errors.mode}>
            {({ id, describedBy }) => (
              <select id={id} name="mode" value={v.mode} aria-describedby={describedBy} onChange={set('mode')}>
                <option value="live">live (tg_live_…)</option><option value="test">test (tg_test_…)</option>
              </select>
            )}
          </Field>
        </div>
      </fieldset>
      <fieldset>
        <legend>Ask a person again when…</legend>
        <div class="form-grid">
          {input('reapproval.priceAbove', 'A call costs more than', { placeholder: '1.00' })}
          {input('reapproval.tools', 'The tool matches', { placeholder: 'POST /research, delete*' })}
          {input('reapproval.categories', 'The service category is', { placeholder: 'research, llm' })}
          <Field label="Metadata (JSON)" error={form.errors.metadata} class="full">
            {({ id, describedBy, invalid }) => (
              <textarea id={id} name="metadata" value={v.metadata} placeholder='{"ticket": "OPS-12"}' aria-invalid={invalid} aria-describedby={describedBy} onInput={set('metadata')} />
            )}
          </Field>
        </div>
      </fieldset>
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>Create grant</button>
        <button type="button" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}
