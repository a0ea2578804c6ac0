/**
 * @module env
 * The Hono environment of the server: the variables middleware sets on the context.
 */
import type { ApiKeyPrincipal } from './middleware/api-key/api-keys.ts';

export interface AppEnv {
  Variables: {
    /** Set by the proxy once a call id exists, so logs and problems carry it. */
    callId?: string;
    /** Set by the api-key middleware on admin routes. */
    principal: ApiKeyPrincipal;
  };
}
