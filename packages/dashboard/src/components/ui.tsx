/**
 * @module components/ui
 * Small building blocks shared by the pages: cards, stats, badges, form fields that show the
 * server's problem message next to themselves, a copy-once secret, a confirmation dialog and a
 * data loader hook.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';

/** The Tollgate mark: a gate bar over a post. */
export function BrandMark() {
  return (
    <span class="brand-mark" aria-hidden="true">
      <svg width="16" height="16" viewBox="0 0 32 32"><path d="M6 9h20M16 9v15M10 24h12" stroke="#fff" stroke-width="3.5" stroke-linecap="round" fill="none" /></svg>
    </span>
  );
}

export function Card(props: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; flush?: boolean; class?: string; id?: string }) {
  const headingId = useId();
  return (
    <section class={`card ${props.class ?? ''}`} aria-labelledby={props.title ? headingId : undefined} id={props.id}>
      {props.title !== undefined && (
        <div class="card-head">
          <h2 id={headingId}>{props.title}</h2>
          {props.actions && <div class="row">{props.actions}</div>}
        </div>
      )}
      <div class={`card-body${props.flush ? ' flush' : ''}`}>{props.children}</div>
    </section>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; unit?: string; sub?: ComponentChildren }) {
  return (
    <div class="card stat">
      <div class="label">{props.label}</div>
      <div class="value">
        {props.value}
        {props.unit && <small>{props.unit}</small>}
      </div>
      {props.sub && <div class="sub">{props.sub}</div>}
    </div>
  );
}

/** A status or outcome pill; the class picks its colour (`o-captured`, `s-revoked`…). */
export function Badge(props: { kind: 'o' | 's'; value: string; label?: string }) {
  return <span class={`badge ${props.kind}-${props.value}`}>{props.label ?? props.value}</span>;
}

export function PageHead(props: { title: string; subtitle?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <div class="page-head">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle && <p>{props.subtitle}</p>}
      </div>
      {props.children && <div class="row">{props.children}</div>}
    </div>
  );
}

export function Empty(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <strong>{props.title}</strong>
      {props.children}
    </div>
  );
}

export function ErrorNotice(props: { error: unknown }) {
  if (!props.error) return null;
  const message = props.error instanceof Error ? props.error.message : String(props.error);
  return <div class="notice error" role="alert">{message}</div>;
}

/**
 * A labelled input. `error` is the message for this field: the server's problem detail when the
 * problem names this field, or a check made before sending.
 */
export function Field(props: { label: string; hint?: string; error?: string | undefined; class?: string; children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => JSX.Element }) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errorId = props.error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field ${props.class ?? ''}`}>
      <label for={id}>{props.label}</label>
      {props.children({ id, describedBy, invalid: Boolean(props.error) })}
      {props.hint && <span class="hint" id={hintId}>{props.hint}</span>}
      {props.error && <span class="error" id={errorId} role="alert">{props.error}</span>}
    </div>
  );
}

/**
 * Field errors of a form: local checks first, then the server's problem, attached to the field it
 * names (`reapproval.priceAbove` → `reapproval.priceAbove`) or shown above the form.
 */
export function useFormErrors() {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | undefined>();
  const fromError = useCallback((error: unknown, known: readonly string[]) => {
    if (error instanceof ApiError && error.field) {
      const field = known.find((k) => error.field === k || error.field!.startsWith(`${k}.`) || error.field!.startsWith(`${k}[`));
      if (field) {
        // The server's detail starts with the field's path, which the field's own label already says.
        setErrors({ [field]: error.message.replace(/^[\w.[\]]+: /, '') });
        setGeneral(undefined);
        return;
      }
    }
    setErrors({});
    setGeneral(error instanceof Error ? error.message : String(error));
  }, []);
  const reset = useCallback(() => {
    setErrors({});
    setGeneral(undefined);
  }, []);
  return { errors, general, setErrors, fromError, reset };
}

/** A secret shown once, right after creation, with a copy button; it is not kept anywhere. */
export function SecretOnce(props: { label: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="notice ok stack" role="status">
      <div>
        <strong>{props.label}</strong> Copy it now: it is shown this once, and only its hash is stored.
      </div>
      <div class="secret">
        <code data-testid="secret">{props.secret}</code>
        <button type="button" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
      </div>
      <div>
        <button type="button" class="small" onClick={props.onDone}>I have stored it — hide</button>
      </div>
    </div>
  );
}

export function ConfirmDialog(props: { title: string; confirmLabel: string; danger?: boolean; onConfirm: () => Promise<void> | void; onCancel: () => void; children: ComponentChildren }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  useEffect(() => {
    cancelRef.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && props.onCancel();
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  const confirm = async () => {
    setBusy(true);
    try {
      await props.onConfirm();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <div class="backdrop">
      <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby={titleId}>
        <h2 id={titleId}>{props.title}</h2>
        <div>{props.children}</div>
        <ErrorNotice error={error} />
        <div class="actions">
          <button type="button" ref={cancelRef} onClick={props.onCancel}>Cancel</button>
          <button type="button" class={props.danger ? 'danger' : 'primary'} disabled={busy} onClick={confirm}>{props.confirmLabel}</button>
        </div>
      </div>
    </div>
  );
}

/** Calls `reload` (at most every `waitMs`) after each new call the live stream reports. */
export function useReloadOnCalls(onCall: (listener: () => void) => () => void, reload: () => void, waitMs = 1500): void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => {
    const off = onCall(() => {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => latest.current(), waitMs);
    });
    return () => {
      off();
      clearTimeout(timer.current);
    };
  }, [onCall]);
}

/** Loads data, reloads when `deps` change or `reload()` is called; keeps the last data while loading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
