import { Type } from '@sinclair/typebox';
import { jsonFromCommand } from '../hardware/linux-board.js';
import type { LineCheck, LineProbe } from '../hardware/seams.js';

const LineCheckSchema = Type.Object({
  ok: Type.Boolean(),
  speakerLineOhm: Type.Optional(Type.Number({ minimum: 0 })),
  fault: Type.Optional(
    Type.Union([
      Type.Literal('amplifier_fault'),
      Type.Literal('speaker_line_open'),
      Type.Literal('speaker_line_short'),
    ]),
  ),
});

/**
 * The amplifier and speaker-line check of a receiver model: a configured shell command
 * (board-specific: an ADC on the line, the amplifier's fault pin, …) that prints one JSON
 * object, `{"ok":true,"speakerLineOhm":8}` or `{"ok":false,"fault":"speaker_line_open"}`.
 * Anything else, a non-zero exit or no answer within the timeout is an error (the check
 * could not be made), not a fault.
 */
export class CommandLineProbe implements LineProbe {
  constructor(
    private readonly command: string,
    private readonly timeoutMs = 5000,
  ) {}

  check(): Promise<LineCheck> {
    return jsonFromCommand<LineCheck>(this.command, LineCheckSchema, this.timeoutMs);
  }
}
