import { answerTimeRequest, checkTimeResponse, clockOffset, type TimeRequest } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { issuer, NOW } from './fixtures.js';

describe('time synchronisation', () => {
  it('computes offset and delay NTP-style', () => {
    // Receiver clock 1000 ms behind the controller; 40 ms each way; 5 ms processing.
    const t0 = 0;
    const t1 = 1000 + 40;
    const t2 = t1 + 5;
    const t3 = t0 + 40 + 5 + 40;
    expect(clockOffset(t0, t1, t2, t3)).toEqual({ offsetMs: 1000, delayMs: 80 });
  });

  it('accepts a signed answer to a pending nonce once, whatever the receiver clock says', () => {
    const { key, keys } = issuer();
    const request: TimeRequest = { v: 1, receiverId: 'rx-1', nonce: 'n0nce-0123456789ab', t0: 5 };
    const answer = JSON.stringify(answerTimeRequest(request, NOW, key, () => NOW + 1));
    const pending = new Set([request.nonce]);
    const first = checkTimeResponse(answer, { keys, receiverId: 'rx-1', pendingNonces: pending });
    expect(first.ok && first.response.t2).toBe(NOW + 1);
    const again = checkTimeResponse(answer, { keys, receiverId: 'rx-1', pendingNonces: pending });
    expect(again.ok ? 'ok' : again.reason).toBe('replayed');
  });

  it('refuses answers that are forged, for another receiver, or altered', () => {
    const { key, keys } = issuer();
    const stranger = issuer();
    const request: TimeRequest = { v: 1, receiverId: 'rx-1', nonce: 'n0nce-0123456789ab', t0: 5 };
    const pending = () => new Set([request.nonce]);
    const reason = (payload: string, receiverId = 'rx-1') => {
      const r = checkTimeResponse(payload, { keys, receiverId, pendingNonces: pending() });
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(JSON.stringify(answerTimeRequest(request, NOW, stranger.key)))).toBe('unknown_key');
    const genuine = answerTimeRequest(request, NOW, key);
    expect(reason(JSON.stringify(genuine), 'rx-2')).toBe('wrong_target');
    expect(reason(JSON.stringify({ ...genuine, t1: genuine.t1 + 3_600_000 }))).toBe('bad_signature');
    expect(reason('{"v":1}')).toBe('malformed');
  });
});
