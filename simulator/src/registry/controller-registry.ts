import type { AreaLevel, AreaRef, TrustedKey } from '@loa/protocols';
import type { VirtualReceiverSpec } from '../fleet/virtual-receiver.js';

interface Area {
  code: string;
  level: AreaLevel;
  parentCode: string | null;
}

/**
 * The controller's registry, read through its HTTP API as a technician would: which
 * receivers exist, the area chain of each (for its command subscriptions), the key to
 * trust, and (optionally) fresh MQTT credentials for each.
 */
export class ControllerRegistry {
  #cookie = '';

  constructor(private readonly baseUrl: string) {}

  async signIn(username: string, password: string): Promise<void> {
    const response = await fetch(new URL('/auth/login', this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!response.ok)
      throw new Error(
        `cannot sign in to the controller at ${this.baseUrl} as ${username}: HTTP ${response.status}; check SIM_USERNAME and SIM_PASSWORD (the demo password is DEMO_PASSWORD, default loa-demo)`,
      );
    this.#cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  }

  async trustedKeys(): Promise<TrustedKey[]> {
    return ((await this.#get('/trusted-keys')) as { keys: TrustedKey[] }).keys;
  }

  /** Every receiver the signed-in user may see, with its area chain; up to `limit`. */
  async receivers(limit = Number.POSITIVE_INFINITY): Promise<VirtualReceiverSpec[]> {
    const areas = new Map((await this.#all<Area>('/areas')).map((a) => [a.code, a]));
    const chain = (code: string): AreaRef[] => {
      const out: AreaRef[] = [];
      let a = areas.get(code);
      for (; a; a = a.parentCode ? areas.get(a.parentCode) : undefined) {
        out.unshift({ level: a.level, areaCode: a.code });
        if (a.parentCode && !areas.has(a.parentCode))
          // Without the areas above, a receiver would not hear province or district warnings.
          throw new Error(
            `the registry user cannot see area ${a.parentCode} above ${code}; sign in as a province-level technician`,
          );
      }
      return out;
    };
    const receivers = await this.#all<{ id: string; villageCode: string; enabled: boolean }>('/receivers', limit);
    return receivers.filter((r) => r.enabled).map((r) => ({ receiverId: r.id, areas: chain(r.villageCode) }));
  }

  /** New MQTT credentials for a receiver (the broker files must be regenerated to use them). */
  async issueCredentials(receiverId: string): Promise<string> {
    const response = await fetch(new URL(`/receivers/${receiverId}/credentials`, this.baseUrl), {
      method: 'POST',
      headers: { cookie: this.#cookie },
    });
    if (!response.ok) throw new Error(`cannot issue credentials for ${receiverId}: HTTP ${response.status}`);
    return ((await response.json()) as { password: string }).password;
  }

  async #get(path: string): Promise<unknown> {
    const response = await fetch(new URL(path, this.baseUrl), { headers: { cookie: this.#cookie } });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
    return response.json();
  }

  async #all<T>(path: string, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const page = (await this.#get(`${path}?limit=500${cursor ? `&cursor=${cursor}` : ''}`)) as {
        items: T[];
        nextCursor: string | null;
      };
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && items.length < limit);
    return items.slice(0, limit);
  }
}
