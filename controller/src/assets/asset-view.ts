import { type Static, Type } from '@sinclair/typebox';
import type { Asset } from '../generated/prisma/client.js';

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T, description: string) =>
  Type.Union([t, Type.Null()], { description });

export const AssetSchema = Type.Object(
  {
    sha256: Type.String({ description: 'SHA-256 of the file, lowercase hex: its name' }),
    url: Type.String({ description: 'Where receivers download it, relative to the controller' }),
    durationMs: Type.Integer({ description: 'Playing time' }),
    bytes: Type.Integer(),
    format: Type.String({ description: 'ogg-opus' }),
    mime: Type.String(),
    loudnessLufs: Nullable(Type.Number(), 'Integrated loudness as stored (EBU R128), measured on the output'),
    truePeakDbtp: Nullable(Type.Number(), 'True peak as stored (dBTP)'),
    origin: Type.Union([
      Type.Literal('upload'),
      Type.Literal('recording'),
      Type.Literal('speech'),
      Type.Literal('tone'),
    ]),
    source: Type.Union(
      [
        Type.Object({
          format: Type.Union([Type.String(), Type.Null()], { description: 'What was uploaded: wav, mp3, m4a, ...' }),
          sha256: Type.Union([Type.String(), Type.Null()], { description: 'SHA-256 of the file as uploaded' }),
          durationMs: Type.Union([Type.Integer(), Type.Null()]),
          loudnessLufs: Nullable(Type.Number(), 'Its loudness before normalising'),
          truePeakDbtp: Nullable(Type.Number(), 'Its true peak before normalising'),
        }),
        Type.Null(),
      ],
      { description: 'The audio it was made from, as measured before normalising' },
    ),
    processing: Type.Union([Type.String(), Type.Null()], { description: 'Loudness target and Opus settings used' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Asset' },
);
export type AssetBody = Static<typeof AssetSchema>;

export function toAsset(row: Asset): AssetBody {
  return {
    sha256: row.sha256,
    url: `/assets/${row.sha256}`,
    durationMs: row.durationMs,
    bytes: row.bytes,
    format: row.format,
    mime: row.mime,
    loudnessLufs: row.loudnessLufs,
    truePeakDbtp: row.truePeakDbtp,
    origin: row.origin,
    source:
      row.sourceFormat === null
        ? null
        : {
            format: row.sourceFormat,
            sha256: row.sourceSha256,
            durationMs: row.sourceDurationMs,
            loudnessLufs: row.sourceLoudnessLufs,
            truePeakDbtp: row.sourceTruePeakDbtp,
          },
    processing: row.processing,
    createdAt: row.createdAt.toISOString(),
  };
}
