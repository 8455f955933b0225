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

/** A board-specific line check: a command that prints {"ok":true,"speakerLineOhm":8}. */
export class CommandLineProbe implements LineProbe {
  constructor(private readonly command: string) {}

  check(): Promise<LineCheck> {
    return jsonFromCommand<LineCheck>(this.command, LineCheckSchema);
  }
}
