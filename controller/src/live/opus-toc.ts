/** Frame length in ms of each Opus configuration (RFC 6716 §3.1, the TOC byte's top five bits). */
function frameMs(config: number): number {
  if (config < 12) return [10, 20, 40, 60][config % 4] as number; // SILK
  if (config < 16) return [10, 20][config % 2] as number; // hybrid
  return [2.5, 5, 10, 20][config % 4] as number; // CELT
}

/**
 * How much audio one Opus packet holds, in ms, from its table-of-contents byte (and the
 * frame count byte of code 3); undefined for bytes that cannot be an Opus packet.
 */
export function opusPacketMs(packet: Uint8Array): number | undefined {
  const toc = packet[0];
  if (toc === undefined || packet.length > 1275) return undefined;
  const code = toc & 3;
  let frames = code === 0 ? 1 : 2;
  if (code === 3) {
    const count = packet[1];
    if (count === undefined) return undefined;
    frames = count & 0x3f;
    if (frames === 0) return undefined;
  }
  const ms = frameMs(toc >> 3) * frames;
  return ms > 120 ? undefined : ms;
}
