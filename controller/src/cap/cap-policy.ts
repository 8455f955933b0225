/**
 * Which CAP senders are trusted and where each may alert (CAP_TRUSTED_SENDERS:
 * "sender=AREA|AREA;sender2=AREA"), which geocode names carry our area codes
 * (CAP_GEOCODE_NAMES), and our own sender id in what we export (CAP_SENDER).
 */
export interface CapPolicy {
  ownSender: string;
  trusted: Map<string, string[]>;
  geocodeNames: string[];
}

export function parseTrustedSenders(setting: string): Map<string, string[]> {
  const trusted = new Map<string, string[]>();
  for (const entry of setting
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    if (at <= 0) throw new Error(`CAP_TRUSTED_SENDERS: "${entry}" is not sender=AREA|AREA`);
    const areas = entry
      .slice(at + 1)
      .split('|')
      .map((a) => a.trim())
      .filter(Boolean);
    if (areas.length === 0) throw new Error(`CAP_TRUSTED_SENDERS: "${entry}" names no area`);
    trusted.set(entry.slice(0, at).trim(), areas);
  }
  return trusted;
}

export function capPolicy(config: {
  CAP_SENDER: string;
  CAP_TRUSTED_SENDERS: string;
  CAP_GEOCODE_NAMES: string;
}): CapPolicy {
  return {
    ownSender: config.CAP_SENDER,
    trusted: parseTrustedSenders(config.CAP_TRUSTED_SENDERS),
    geocodeNames: config.CAP_GEOCODE_NAMES.split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  };
}
