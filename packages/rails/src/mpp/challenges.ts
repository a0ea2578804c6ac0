/**
 * @module mpp/challenges
 * Issues and checks `WWW-Authenticate: Payment` challenges with mppx's `Challenge` primitives: the
 * `id` is HMAC-SHA256 over the seven slots `realm|method|intent|request|expires|digest|opaque`
 * (request and opaque JCS-serialized, base64url), so a challenge is stateless yet cannot be edited.
 *
 * The paid resource (service and route) travels in `opaque`, so a challenge issued for a cheap
 * route cannot pay for an expensive one: the HMAC binds it, `check` compares it.
 */
import { Challenge, PaymentRequest } from 'mppx';
import { MppProblem } from './problems.ts';

export type MppChallenge = Challenge.Challenge;

export interface ChallengeBookOptions {
  /** Protection space, usually the public host (`api.example.com`). */
  realm: string;
  /** HMAC key of the challenge ids; at least 32 characters, never sent or logged. */
  secretKey: string;
  /** How long a challenge may be answered. */
  challengeTtlSeconds: number;
  now?: () => Date;
}

export interface ChallengeInput {
  method: string;
  intent: string;
  request: Record<string, unknown>;
  /** Names the paid resource (e.g. `search GET /search`); bound into the challenge. */
  resource: string;
  description?: string;
}

/** Shortest accepted HMAC key. */
export const SECRET_KEY_LENGTH_MIN = 32;

export class ChallengeBook {
  readonly realm: string;
  readonly #secretKey: string;
  readonly #ttlMs: number;
  readonly #now: () => Date;

  constructor(options: ChallengeBookOptions) {
    if (options.secretKey.length < SECRET_KEY_LENGTH_MIN) throw new Error(`mpp secretKey: at least ${SECRET_KEY_LENGTH_MIN} characters`);
    if (!Number.isInteger(options.challengeTtlSeconds) || options.challengeTtlSeconds < 1) throw new Error('mpp challengeTtlSeconds: a positive integer');
    this.realm = options.realm;
    this.#secretKey = options.secretKey;
    this.#ttlMs = options.challengeTtlSeconds * 1000;
    this.#now = options.now ?? (() => new Date());
  }

  issue(input: ChallengeInput): MppChallenge {
    return Challenge.from({
      secretKey: this.#secretKey,
      realm: this.realm,
      method: input.method,
      intent: input.intent,
      request: input.request,
      expires: new Date(this.#now().getTime() + this.#ttlMs).toISOString(),
      meta: { resource: input.resource },
      ...(input.description ? { description: input.description } : {}),
    });
  }

  /**
   * The echoed challenge is one we issued, unedited, for this realm and resource, and not expired.
   * Returns when it stops being answerable (ms since the epoch).
   */
  check(challenge: MppChallenge, expected: { resource: string }): number {
    if (!Challenge.verify(challenge, { secretKey: this.#secretKey })) {
      throw new MppProblem('invalid-challenge', 'The challenge was not issued by this server or was modified', { reason: 'unknown_challenge' });
    }
    if (challenge.realm !== this.realm) throw new MppProblem('invalid-challenge', `The challenge belongs to the realm ${challenge.realm}`, { reason: 'wrong_realm' });
    if (resourceOf(challenge) !== expected.resource) {
      throw new MppProblem('invalid-challenge', 'The challenge was issued for another resource', { reason: 'wrong_resource' });
    }
    // Every challenge we issue expires; one without `expires` cannot have passed the HMAC check.
    const expiresMs = Date.parse(challenge.expires ?? '');
    if (!Number.isFinite(expiresMs) || expiresMs <= this.#now().getTime()) {
      throw new MppProblem('payment-expired', 'The challenge has expired; answer the fresh one', { reason: 'challenge_expired' });
    }
    return expiresMs;
  }

  /** Now, by the clock challenges are checked with. */
  nowMs(): number {
    return this.#now().getTime();
  }
}

/** The resource bound in `opaque` (a credential carries only the raw base64url string). */
function resourceOf(challenge: MppChallenge): string | undefined {
  if (challenge.meta) return challenge.meta.resource;
  if (!challenge.opaque) return undefined;
  try {
    const meta = PaymentRequest.deserialize(challenge.opaque) as Record<string, unknown>;
    return typeof meta.resource === 'string' ? meta.resource : undefined;
  } catch {
    return undefined;
  }
}
