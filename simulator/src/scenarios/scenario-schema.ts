import { type Static, Type } from '@sinclair/typebox';

// A scenario file (YAML or JSON): the system and fleet to run, a timeline of actions,
// and expectations checked against what receivers really did. Durations are written
// "500ms", "20s", "2m" or as milliseconds.

const duration = (description = 'milliseconds, or a number with ms, s or m') =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m)$' })], { description });
const Duration = duration();
const id = (description?: string) =>
  Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', ...(description ? { description } : {}) });
const Id = id();
const areaCodes = (description?: string) =>
  Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 500, ...(description ? { description } : {}) });
const AreaCodes = areaCodes();
const Priority = Type.Union([Type.Literal('normal'), Type.Literal('priority'), Type.Literal('emergency')]);
const Strict = { additionalProperties: false } as const;
const AlertStatus = Type.Union([Type.Literal('Actual'), Type.Literal('Exercise'), Type.Literal('Test')]);
const LatLon = Type.Tuple([Type.Number({ minimum: -90, maximum: 90 }), Type.Number({ minimum: -180, maximum: 180 })]);
/** Drawn targets, as the alert API takes them. */
const Polygons = Type.Array(
  Type.Array(LatLon, { minItems: 3, maxItems: 1000, description: 'a ring of [latitude, longitude], closed or not' }),
  { minItems: 1, maxItems: 20 },
);
const Circles = Type.Array(
  Type.Object(
    {
      lat: Type.Number({ minimum: -90, maximum: 90 }),
      lon: Type.Number({ minimum: -180, maximum: 180 }),
      radiusKm: Type.Number({ exclusiveMinimum: 0, maximum: 500 }),
    },
    Strict,
  ),
  { minItems: 1, maxItems: 20 },
);
const Texts = (description: string) =>
  Type.Record(Type.String({ pattern: '^[a-z]{3}$' }), Type.String({ minLength: 1, maxLength: 300 }), {
    ...Strict,
    minProperties: 1,
    description,
  });
// Strict: a key that is not a language code (a YAML comma splitting a value, say) is an error.
const RecordedAudio = Type.Record(Type.String({ pattern: '^[a-z]{3}$' }), Id, {
  ...Strict,
  minProperties: 1,
  description: 'recorded audio per language: language code → audio id',
});

/** Which receivers an action or expectation is about: by area, by id, or a number of them. */
const Receivers = Type.Object(
  {
    areas: Type.Optional(AreaCodes),
    receivers: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    count: Type.Optional(Type.Integer({ minimum: 1, description: 'the first N of those (or of the fleet)' })),
  },
  Strict,
);

const Province = Type.Union([
  Type.Literal('demo'),
  Type.Object(
    {
      receivers: Type.Integer({ minimum: 1, maximum: 20_000 }),
      perVillage: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      villagesPerCommune: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    },
    Strict,
  ),
]);

const Fleet = Type.Object(
  {
    areas: Type.Optional(areaCodes('only the receivers under these areas')),
    max: Type.Optional(Type.Integer({ minimum: 1, maximum: 20_000 })),
    processes: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
    clockOffsetMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: '± at random' })),
    driftPpm: Type.Optional(Type.Number({ minimum: 0, maximum: 1000, description: '± at random' })),
    heartbeat: Type.Optional(Duration),
    credentials: Type.Optional(
      Type.Boolean({
        description:
          'the broker checks credentials and ACLs: each receiver has its own password and may use only its own topics',
      }),
    ),
    viaProxy: Type.Optional(
      Type.Boolean({ description: 'receivers reach the broker through the fault proxy (needed for network faults)' }),
    ),
  },
  Strict,
);

const Audio = Type.Object(
  {
    id: Id,
    tone: Type.Object(
      {
        hz: Type.Number({ minimum: 50, maximum: 8000 }),
        seconds: Type.Number({ minimum: 0.2, maximum: 600 }),
      },
      Strict,
    ),
  },
  { ...Strict, description: 'a generated Ogg Opus tone, uploaded as an asset' },
);

const Content = Type.Object(
  {
    id: Id,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    owner: Type.String({ minLength: 1, description: 'area code owning the content' }),
    as: Type.String({ description: 'user who creates it' }),
    variants: Type.Record(Type.String({ pattern: '^[a-z]{3}$' }), Id, {
      ...Strict,
      description: 'language → audio id',
    }),
  },
  Strict,
);

const Network = Type.Object(
  {
    latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
    jitterMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
    bandwidthBytesPerS: Type.Optional(Type.Integer({ minimum: 100 })),
    resetPerMinute: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })),
    blackhole: Type.Optional(Type.Boolean()),
    cut: Type.Optional(Type.Boolean()),
  },
  Strict,
);

const Action = Type.Union([
  Type.Object(
    {
      at: Duration,
      as: Type.String(),
      schedule: Type.Object(
        {
          id: Id,
          content: Id,
          areas: AreaCodes,
          in: duration('airtime this long after the step'),
          durationMs: Type.Optional(Type.Integer({ minimum: 1000 })),
          priority: Type.Optional(Priority),
          startMode: Type.Optional(Type.Union([Type.Literal('hard'), Type.Literal('next'), Type.Literal('wait')])),
          prelude: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('chime'), Type.Literal('siren')])),
        },
        Strict,
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      at: Duration,
      as: Type.String(),
      playNow: Type.Object(
        {
          id: Id,
          content: Id,
          areas: AreaCodes,
          priority: Type.Optional(Priority),
          prelude: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('chime'), Type.Literal('siren')])),
        },
        Strict,
      ),
    },
    Strict,
  ),
  Type.Object({ at: Duration, as: Type.String(), stop: Type.Object({ item: Id, areas: AreaCodes }, Strict) }, Strict),
  Type.Object(
    {
      at: Duration,
      as: Type.String(),
      alert: Type.Object(
        {
          id: Id,
          areas: Type.Optional(AreaCodes),
          polygons: Type.Optional(Polygons),
          circles: Type.Optional(Circles),
          audio: Type.Optional(RecordedAudio),
          headline: Type.Optional(
            Texts('what the alert says per language (default: the scenario name and alert id in Vietnamese)'),
          ),
          riskLevel: Type.Integer({ minimum: 1, maximum: 5 }),
          status: Type.Optional(AlertStatus),
          hazard: Type.Optional(Type.String()),
          approveAs: Type.Optional(Type.String({ description: 'the second person, where approval is needed' })),
        },
        {
          ...Strict,
          description:
            'draft (to areas and/or drawn polygons and circles), approve (by approveAs, where the approval rule asks), issue: through the alert API',
        },
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      at: Duration,
      as: Type.String(),
      updateAlert: Type.Object(
        {
          id: id('the Update’s own item (its first airing, revision + 1)'),
          alert: id('the alert (or an earlier Update of it) on air'),
          audio: Type.Optional(RecordedAudio),
          headline: Type.Optional(Texts('a corrected headline')),
          riskLevel: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
          hazard: Type.Optional(Type.String()),
          approveAs: Type.Optional(Type.String({ description: 'the second person, where approval is needed' })),
        },
        {
          ...Strict,
          description:
            'POST /alerts/{id}/update with what changes, approved where the rule asks, issued: it replaces the alert in flight',
        },
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      at: Duration,
      as: Type.String(),
      cancelAlert: Type.Object({ alert: Id, reason: Type.Optional(Type.String()) }, Strict),
    },
    Strict,
  ),
  Type.Object(
    {
      at: Duration,
      network: Type.Object(
        { ...Receivers.properties, conditions: Network, for: Type.Optional(Duration) },
        { ...Strict, description: 'network conditions on the fault proxy, lifted after `for`' },
      ),
    },
    Strict,
  ),
  Type.Object({ at: Duration, brokerRestart: Type.Object({ downFor: Type.Optional(Duration) }, Strict) }, Strict),
  Type.Object(
    {
      at: Duration,
      controllerRestart: Type.Object(
        { downFor: Type.Optional(Duration), crash: Type.Optional(Type.Boolean({ description: 'SIGKILL' })) },
        Strict,
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      at: Duration,
      powerLoss: Type.Object(
        { ...Receivers.properties, offFor: Type.Optional(duration('omitted: stays off')) },
        Strict,
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      at: Duration,
      forge: Type.Object(
        {
          id: Id,
          areas: AreaCodes,
          method: Type.Union([Type.Literal('unknown-key'), Type.Literal('tampered'), Type.Literal('replayed')], {
            description:
              'unknown-key: signed by a key no receiver trusts; tampered: a real command with its body changed; replayed: a real command sent again',
          }),
          content: Type.Optional(id('for unknown-key: what the forged play.now would air')),
        },
        Strict,
      ),
    },
    Strict,
  ),
]);

const Within = duration('after the item’s airtime (scheduled) or its trigger (play now)');
const Expectation = Type.Union([
  Type.Object(
    {
      started: Type.Object(
        {
          item: Id,
          ...Receivers.properties,
          within: Within,
          only: Type.Optional(Type.Literal('online', { description: 'count only receivers online at the time' })),
          minFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'default 1' })),
        },
        Strict,
      ),
    },
    Strict,
  ),
  Type.Object({ languagesInOrder: Type.Object({ item: Id }, Strict) }, Strict),
  Type.Object({ interrupted: Type.Object({ item: Id, by: Id }, Strict) }, Strict),
  Type.Object(
    {
      cancelled: Type.Object(
        { item: Id, within: duration('after the cancel was sent') },
        {
          ...Strict,
          description: 'every receiver that was airing the alert stopped it within this, none aired it again',
        },
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      replaced: Type.Object(
        { item: Id, by: Id, within: duration('after the Update was issued') },
        {
          ...Strict,
          description:
            'every receiver airing the older revision when the Update was issued stopped it within this and aired the Update; none aired the older revision again',
        },
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      airedExactly: Type.Object(
        { item: Id, within: Within },
        {
          ...Strict,
          description:
            'the receivers that aired the alert are exactly those inside its areas and drawn shapes (by their surveyed positions), and the controller delivered it to exactly those',
        },
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      alertStatus: Type.Object(
        { item: Id, status: AlertStatus },
        {
          ...Strict,
          description:
            'every alert.issue of the alert seen on the wire carries this status, and every receiver that aired it had accepted such a command',
        },
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      noAlertSent: Type.Object(
        { status: AlertStatus },
        { ...Strict, description: 'no alert.issue with this status went out on the wire during the run' },
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      saysNotReal: Type.Object(
        { item: Id },
        {
          ...Strict,
          description:
            'an Exercise or Test: every receiver that aired it first sounded (after the siren) the controller’s Vietnamese speech of the not-real notice followed by the headline (needs speech: espeak-ng)',
        },
      ),
    },
    Strict,
  ),
  Type.Object({ noDuplicates: Type.Object({}, Strict) }, Strict),
  Type.Object({ maxSkew: Type.Object({ item: Id, ms: Type.Number({ minimum: 0 }) }, Strict) }, Strict),
  Type.Object({ proofOfPlay: Type.Object({ item: Id, by: Duration, ...Receivers.properties }, Strict) }, Strict),
  Type.Object({ refused: Type.Object({ forged: Id, within: Duration }, Strict) }, Strict),
  Type.Object({ offlineFlagged: Type.Object({ within: Duration }, Strict) }, Strict),
  Type.Object({ allOnline: Type.Object({ within: Duration }, Strict) }, Strict),
]);

export const ScenarioSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String()),
    province: Province,
    fleet: Type.Optional(Fleet),
    speech: Type.Optional(
      Type.Union([Type.Literal('none'), Type.Literal('espeak-ng')], {
        description: 'the controller’s speech engine (TTS_ENGINE); default none: only recorded audio sounds',
      }),
    ),
    audio: Type.Optional(Type.Array(Audio)),
    content: Type.Optional(Type.Array(Content)),
    timeline: Type.Optional(Type.Array(Action)),
    expect: Type.Array(Expectation, { minItems: 1 }),
    timeout: Type.Optional(duration('longest the run may last (default 5m)')),
  },
  Strict,
);

export type Scenario = Static<typeof ScenarioSchema>;
/** The branch of a union that an entry means, by the one key that names its kind. */
export const ACTION_BRANCHES = Action.anyOf;
export const EXPECTATION_BRANCHES = Expectation.anyOf;
export type ScenarioAction = Static<typeof Action>;
export type Expectation = Static<typeof Expectation>;
export type ReceiverSelector = Static<typeof Receivers>;
export type NetworkConditions = Static<typeof Network>;
