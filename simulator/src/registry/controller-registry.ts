import type { AreaLevel, AreaRef, TrustedKey } from '@loa/protocols';
import type { VirtualReceiverSpec } from '../fleet/virtual-receiver.js';
import { ControllerClient } from './controller-client.js';

export interface RegistryArea {
  code: string;
  level: AreaLevel;
  parentCode: string | null;
  languages: string[];
}

/**
 * The controller's registry, read through its HTTP API as a technician would: which
 * receivers exist, the area chain of each (for its command subscriptions), the key to
 * trust, and (optionally) fresh MQTT credentials for each.
 */
export class ControllerRegistry extends ControllerClient {
  async trustedKeys(): Promise<TrustedKey[]> {
    return (await this.get<{ keys: TrustedKey[] }>('/trusted-keys')).keys;
  }

  /** Every area the signed-in user may see. */
  areas(): Promise<RegistryArea[]> {
    return this.#all<RegistryArea>('/areas');
  }

  /** Every receiver the signed-in user may see, with its area chain; up to `limit`. */
  async receivers(limit = Number.POSITIVE_INFINITY): Promise<VirtualReceiverSpec[]> {
    const areas = new Map((await this.areas()).map((a) => [a.code, a]));
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

  /** Every enabled receiver's surveyed position, as the registry holds it (what drawn alert shapes are resolved against). */
  async positions(): Promise<Map<string, { lat: number; lon: number }>> {
    const receivers = await this.#all<{ id: string; enabled: boolean; latitude: number; longitude: number }>(
      '/receivers',
    );
    return new Map(receivers.filter((r) => r.enabled).map((r) => [r.id, { lat: r.latitude, lon: r.longitude }]));
  }

  /** New MQTT credentials for a receiver (the broker files must be regenerated to use them). */
  async issueCredentials(receiverId: string): Promise<string> {
    return (await this.post<{ password: string }>(`/receivers/${receiverId}/credentials`, undefined)).password;
  }

  async #all<T>(path: string, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: T[]; nextCursor: string | null } = await this.get(
        `${path}?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && items.length < limit);
    return items.slice(0, limit);
  }
}
