/**
 * @module components/feed
 * The live list of calls, coloured by outcome: green captured, red refused, amber voided (not
 * charged: the upstream failed), grey expired. Each row links to the call's audit page.
 */
import { count, money, shortId, time } from '../format.ts';
import { navigate } from '../router.ts';
import { Badge } from './ui.tsx';
import type { LiveCall } from '../live.ts';

/** A call from the live stream or from GET /v1/calls (the same fields); `fresh` ones flash once. */
export type FeedItem = Omit<LiveCall, 'seq' | 'status'> & { fresh?: boolean };

const OUTCOME_LABEL: Record<FeedItem['outcome'], string> = { captured: 'paid', refused: 'refused', voided: 'not charged', expired: 'expired' };

export function Feed(props: { items: FeedItem[]; empty: string }) {
  if (props.items.length === 0) return <div class="empty"><strong>No calls yet</strong>{props.empty}</div>;
  return (
    <ul class="feed" aria-live="polite" aria-label="Recent calls" data-testid="live-feed">
      {props.items.map((c) => (
        <li key={c.callId + c.outcome} class={c.fresh ? 'fresh' : ''} data-call-id={c.callId} data-outcome={c.outcome}>
          <span class={`bar o-${c.outcome}`} aria-hidden="true" />
          <div>
            <div class="title">
              <a href={`#/calls/${c.callId}`} onClick={(e) => { e.preventDefault(); navigate(`/calls/${c.callId}`); }}>{c.service}</a>{' '}
              <span class="muted mono">{c.tool}</span>
            </div>
            <div class="meta">
              {time(c.createdAt)}
              {c.taskId && <> · task {c.taskId}</>}
              {c.agentId && <> · <span title={c.agentId}>{shortId(c.agentId, 14)}</span></>}
              {c.errorCode && <> · <span class="mono">{c.errorCode}</span></>}
              {c.latencyMs !== null && <> · {count(c.latencyMs)} ms</>}
            </div>
          </div>
          <div class="amount">
            <div>{c.outcome === 'captured' ? money(c.capturedMicros) : money(c.priceMicros)}</div>
            <Badge kind="o" value={c.outcome} label={OUTCOME_LABEL[c.outcome]} />
          </div>
        </li>
      ))}
    </ul>
  );
}
