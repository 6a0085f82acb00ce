/**
 * The webhook worker's HTTP POST (injected into stream/webhookDelivery.ts): fetch with a
 * timeout, never following redirects (a 3xx is a failure: a receiver that moved is fixed by
 * the ADMIN changing the subscription, not silently by us), the answer's body discarded.
 */
import type { Send } from '../stream/webhookDelivery';

export const fetchSend: Send = async (url, body, headers, timeoutMs) => {
  const res = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer().catch(() => undefined);
  return { status: res.status };
};
