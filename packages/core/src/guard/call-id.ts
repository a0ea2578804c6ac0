/**
 * @module guard/call-id
 * A call id is derived from the grant and the client's idempotency key, so every retry of one
 * request lands on the same call, and two grants can't collide on a shared key.
 */
import { createHash } from 'node:crypto';

export function callIdFor(grantId: string, idempotencyKey: string): string {
  return `call_${createHash('sha256').update(grantId).update('\n').update(idempotencyKey).digest('hex').slice(0, 32)}`;
}

/** Ledger transfer ids of a call's steps: deterministic, so a retried step is `exists`, never a second charge. */
export const stepId = {
  hold: (callId: string, attempt: 'paid' | 'free', index: number) => `${callId}:${attempt === 'paid' ? 'h' : 'f'}${index}`,
  post: (holdId: string) => `${holdId}:post`,
  void: (holdId: string) => `${holdId}:void`,
  earnings: (callId: string) => `${callId}:earnings`,
  fee: (callId: string) => `${callId}:fee`,
};
