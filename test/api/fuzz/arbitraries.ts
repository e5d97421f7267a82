/**
 * fast-check arbitraries for requests to every route of the API: valid requests with one part
 * broken, arbitrary JSON (lone surrogates, NUL, RTL, huge and tiny numbers, deep nesting),
 * odd query strings, path segments, headers and content types.
 */
import fc from 'fast-check';

/** A request as sent by the raw client (`path` already percent-encoded). */
export interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** raw body text (JSON or not) */
  readonly body?: string;
  /** which generator made it (for failure reports and coverage counts) */
  readonly kind: string;
}

/** What the generators may refer to: the experiment under test and its real lease. */
export interface FuzzTarget {
  readonly experimentId: string;
  readonly leaseId: string;
  readonly token: string;
  /** head position when the run started */
  readonly head: number;
}

/** A JSON value whose numbers may be raw literals JSON.stringify cannot write (1e400, -0). */
type RawJson = { readonly raw: string } | string | number | boolean | null | readonly RawJson[] | { readonly [key: string]: RawJson };

function isRaw(value: unknown): value is { raw: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { raw?: unknown }).raw === 'string' && RAW_MARK.has(value);
}
const RAW_MARK = new WeakSet<object>();
const raw = (text: string): { raw: string } => {
  const value = { raw: text };
  RAW_MARK.add(value);
  return value;
};

/** JSON text of a RawJson value (lone surrogates are written as they are: JSON.stringify escapes them). */
export function toJsonText(value: RawJson | unknown): string {
  if (isRaw(value)) return value.raw;
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : '1e400';
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\udfff\ud800',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  '\u200b\u200d\ufeff',
  '😀🧪',
  '\n\r\t',
  '\u0085\u2028\u2029',
  "'; DROP TABLE events; --",
  '__proto__',
  'constructor',
  '%00',
  '../../etc/passwd',
  'x'.repeat(5000),
];

const NUMBER_LITERALS = ['1e400', '-1e400', '-0', '0', '-1', '1.5', '9007199254740993', '1e308', '-1e308', '5e-324', '1e-400', '1e-320', '123456789012345678901234567890', '0.1e1', '2'];

export const oddString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

export const oddNumber: fc.Arbitrary<RawJson> = fc.oneof(
  fc.constantFrom(...NUMBER_LITERALS).map(raw),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => raw(JSON.stringify(x))),
  fc.integer({ min: -5, max: 1000 }).map((x) => raw(String(x))),
);

/** Arbitrary JSON, shallow or a few levels deep; `keys` lets it use real field names. */
export const anyJson = (keys: readonly string[] = []): fc.Arbitrary<RawJson> =>
  fc.letrec<{ value: RawJson }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      oddNumber,
      oddString,
      fc.constantFrom<RawJson>(true, false, null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), oddString) : oddString, tie('value'), { maxKeys: 4 }),
    ),
  })).value;

/** Deeply nested arrays or objects (the parser and the checks behind it must not recurse unbounded). */
const deepJson = fc.tuple(fc.integer({ min: 30, max: 20_000 }), fc.boolean()).map(([depth, arrays]) => (arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)));

/** A valid body with one field replaced by arbitrary JSON, removed, or an unknown one added. */
function mutated(valid: Record<string, RawJson>, keys: readonly string[]): fc.Arbitrary<string> {
  const fields = Object.keys(valid);
  return fc.oneof(
    fc.constant(toJsonText(valid)),
    fc.tuple(fc.constantFrom(...fields), anyJson(keys)).map(([field, value]) => toJsonText({ ...valid, [field]: value })),
    fc.tuple(fc.constantFrom(...fields), oddNumber).map(([field, value]) => toJsonText({ ...valid, [field]: value })),
    fc.tuple(fc.constantFrom(...fields), oddString).map(([field, value]) => toJsonText({ ...valid, [field]: value })),
    fc.constantFrom(...fields).map((field) => toJsonText(Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field)))),
    fc.tuple(oddString, anyJson()).map(([key, value]) => toJsonText({ ...valid, [`${key}_x`]: value })),
  );
}

/** Mutations inside nested parts of the creation request (space, hyperparameters, schedule, ...). */
function createBody(): fc.Arbitrary<string> {
  const base = {
    name: 'fuzz',
    searchSpace: { preset: 'nas-bench-macro' },
    schedule: { stepsPerEpoch: 10, warmupSteps: 2, treeBuildingSteps: 2, mctSteps: 2 },
    dataset: { kind: 'synthetic' },
    seed: 1,
  };
  const customSpace = {
    name: 'custom',
    input: { size: 32, channels: 3 },
    stem: { channels: 8, kernel: 3, stride: 1 },
    layers: [
      { channels: 8, stride: 1, ops: [{ type: 'identity' }, { type: 'mbconv', kernel: 3, expansion: 3, se: false }] },
      { channels: 16, stride: 2, ops: [{ type: 'mbconv', kernel: 3, expansion: 3, se: false }, { type: 'mbconv', kernel: 5, expansion: 6, se: true }] },
    ],
    head: { channels: 32, classes: 10 },
  };
  const spaces = fc.oneof(
    fc.constant<unknown>(base.searchSpace),
    fc.constant<unknown>(customSpace),
    fc.record({ preset: fc.constantFrom('nas-bench-macro', 'imagenet', 'demo', 'nope'), widthMultiplier: oddNumber, inputSize: oddNumber, classes: oddNumber }, { requiredKeys: ['preset'] }),
    fc.record({ field: fc.constantFrom('name', 'input', 'stem', 'layers', 'head', 'se', 'stages'), value: anyJson(['size', 'channels', 'kernel', 'stride', 'ops', 'type', 'expansion']) }).map(({ field, value }) => ({ ...customSpace, [field]: value })),
    fc.record({ layer: fc.integer({ min: 0, max: 1 }), field: fc.constantFrom('channels', 'stride', 'ops'), value: fc.oneof(oddNumber, anyJson(['type', 'kernel'])) }).map(({ layer, field, value }) => ({
      ...customSpace,
      layers: customSpace.layers.map((l, i) => (i === layer ? { ...l, [field]: value } : l)),
    })),
    fc.record({ layers: fc.integer({ min: 0, max: 3000 }), ops: fc.integer({ min: 1, max: 40 }), channels: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(1e6, 1e15)) }).map(({ layers, ops, channels }) => ({
      ...customSpace,
      layers: Array.from({ length: layers }, () => ({ channels, stride: 1, ops: Array.from({ length: ops }, (_, k) => (k === 0 ? { type: 'identity' } : { type: 'mbconv', kernel: 3, expansion: 3, se: false })) })),
    })),
    fc.record({ input: fc.record({ size: oddNumber, channels: oddNumber }), head: fc.record({ channels: oddNumber, classes: oddNumber }) }).map((parts) => ({ ...customSpace, ...parts })),
  );
  const hyperparameters = fc.dictionary(fc.constantFrom('beta', 'gamma', 'c1', 'c2', 'tau', 'nThreshold', 'maxRedraws', 'other'), oddNumber, { maxKeys: 3 });
  const schedule = fc.oneof(
    fc.record({ stepsPerEpoch: oddNumber, warmupSteps: oddNumber, treeBuildingSteps: oddNumber, mctSteps: oddNumber }),
    fc.record({ stepsPerEpoch: oddNumber, warmupEpochs: oddNumber, treeBuildingEpochs: oddNumber, mctEpochs: oddNumber }),
  );
  const flopsWindow = fc.oneof(fc.constant(null), fc.record({ min: oddNumber, max: oddNumber }), fc.constantFrom<unknown>({ min: 1, max: 2 }, { min: 1e300, max: 1e301 }, { min: 0, max: 1e-300 }, { min: 0, max: 1e12 }));
  const dataset = fc.oneof(
    fc.constantFrom<unknown>({ kind: 'synthetic' }, { kind: 'fashion-mnist' }, { kind: 'cifar10', dataDir: '/nowhere' }, { kind: 'image-folder' }),
    fc.record({ kind: oddString }),
    fc.dictionary(oddString, anyJson(), { maxKeys: 3 }).map((extra) => ({ kind: 'synthetic', ...extra })),
  );
  const part = fc.oneof(
    fc.record({ searchSpace: spaces }),
    fc.record({ hyperparameters }),
    fc.record({ schedule }),
    fc.record({ flopsWindow }),
    fc.record({ dataset }),
    fc.record({ training: fc.dictionary(oddString, anyJson(), { maxKeys: 3 }) }),
    fc.record({ search: fc.dictionary(fc.constantFrom('strategy', 'candidates', 'topK', 'bnRecalibrationBatches', 'x'), fc.oneof(oddNumber, oddString), { maxKeys: 2 }) }),
    fc.record({ name: oddString }),
  );
  return fc.oneof(
    { weight: 3, arbitrary: part.map((p) => toJsonText({ ...base, ...(p as object) })) },
    { weight: 1, arbitrary: mutated(base as unknown as Record<string, RawJson>, Object.keys(base)) },
  );
}

const QUERY_VALUES = ['', '0', '1', '-1', '1.5', '1e3', 'abc', '99999999999999999999', '9007199254740993', 'root', '0.1', '2,0,1', '%00', '%ED%A0%80', '%ff', '%E2%80%AE', 'RewardRecorded', 'RewardRecorded,,', 'Nope', 'x'.repeat(5000)];

/** A query string over `names` (plus unknown and repeated parameters), percent-encoded or raw. */
function query(names: readonly string[]): fc.Arbitrary<string> {
  const value = fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.nat({ max: 100_000 }).map(String), oddString.map(encodeText));
  const pair = fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom('unknown', 'depth[]', '__proto__', 'a[b]') }), value);
  // A read that names a future position waits for it (read-your-writes, 5 s by default): the
  // fuzzer bounds that wait so the run stays fast; waits themselves are tested elsewhere.
  const wait = fc.integer({ min: 0, max: 150 });
  return fc.tuple(fc.array(pair, { maxLength: 4 }), wait).map(([pairs, ms]) => {
    const waits = pairs.some(([k]) => k === 'at' || k === 'minPosition');
    const bounded = pairs.map(([k, v]): [string, string] => (k === 'waitMs' && /^\d+$/.test(v) ? [k, String(Math.min(Number(v), 150))] : [k, v]));
    if (waits && !pairs.some(([k]) => k === 'waitMs')) bounded.push(['waitMs', String(ms)]);
    return bounded.length === 0 ? '' : `?${bounded.map(([k, v]) => `${k}=${v}`).join('&')}`;
  });
}

/** UTF-8 percent-encoding that never throws (lone surrogates become U+FFFD, as a browser sends them). */
export function encodeText(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const PATH_SEGMENTS = ['%00', '%ff', '%ZZ', '%ED%A0%80', '%E2%80%AE', 'x'.repeat(300), '..%2F..%2Fetc', '%20', '0', '9.9.9', '1..2', '-1', '0x1', `${'1.'.repeat(3000)}1`, 'root', '2,0,1', 'exp-0'];
const segment = fc.oneof(fc.constantFrom(...PATH_SEGMENTS), oddString.filter((s) => s.length > 0).map(encodeText));

const TREE_QUERY = ['path', 'depth', 'top', 'minVisits', 'at', 'minPosition', 'waitMs'];
const LEDGER_QUERY = ['after', 'limit', 'at', 'minPosition', 'waitMs'];
const OPS_QUERY = ['layer', 'op', 'after', 'limit', 'at', 'minPosition', 'waitMs'];
const EVENTS_QUERY = ['type', 'fromStep', 'toStep', 'after', 'limit', 'minPosition', 'waitMs'];

/** `value` once in `oneIn` draws, else undefined. */
const rarely = <T>(oneIn: number, value: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });

/** Every route with its parameters; `id` is the real experiment or an arbitrary segment. */
export function requestArbitrary(target: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  const id = fc.oneof({ weight: 5, arbitrary: fc.constant(target.experimentId) }, { weight: 1, arbitrary: segment });
  const leaseId = fc.oneof(fc.constant<RawJson>(target.leaseId), oddString, oddNumber, fc.constantFrom<RawJson>(null, [], {}));
  const step = fc.oneof(fc.nat({ max: 60 }).map((n) => raw(String(n))), oddNumber, oddString);
  const loss = fc.oneof(fc.double({ min: 0.01, max: 5, noNaN: true }).map((x) => raw(String(x))), oddNumber, oddString, fc.constantFrom<RawJson>(null, [], {}));
  const leaseBody = mutated({ leaseId: target.leaseId }, ['leaseId']);
  const routes: fc.Arbitrary<Omit<FuzzRequest, 'headers'> & { contentTypes?: boolean }>[] = [
    createBody().map((body) => ({ method: 'POST', path: '/experiments', body, kind: 'create' })),
    query(['limit', 'after', 'minPosition', 'waitMs', 'name']).map((q) => ({ method: 'GET', path: `/experiments${q}`, kind: 'list' })),
    fc.oneof(fc.constant(toJsonText({ experimentId: target.experimentId })), mutated({ experimentId: target.experimentId }, ['experimentId'])).map((body) => ({ method: 'POST', path: '/auth/sse-ticket', body, kind: 'sse-ticket' })),
    fc.tuple(id, query(['at', 'minPosition', 'waitMs'])).map(([i, q]) => ({ method: 'GET', path: `/experiments/${i}${q}`, kind: 'get' })),
    fc.tuple(id, query(['at', 'minPosition', 'waitMs'])).map(([i, q]) => ({ method: 'GET', path: `/experiments/${i}/checkpoints${q}`, kind: 'checkpoints' })),
    fc.tuple(id, fc.constantFrom('pause', 'resume'), mutated({ reason: 'fuzz' }, ['reason'])).map(([i, action, body]) => ({ method: 'POST', path: `/experiments/${i}/${action}`, body, kind: action })),
    fc.tuple(id, mutated({ priority: 3, reason: 'fuzz' }, ['priority', 'reason'])).map(([i, body]) => ({ method: 'POST', path: `/experiments/${i}/priority`, body, kind: 'priority' })),
    fc.tuple(id, query(TREE_QUERY)).map(([i, q]) => ({ method: 'GET', path: `/experiments/${i}/tree${q}`, kind: 'tree' })),
    fc.tuple(id, segment, query(LEDGER_QUERY)).map(([i, p, q]) => ({ method: 'GET', path: `/experiments/${i}/nodes/${p}${q}`, kind: 'node' })),
    fc.tuple(id, query(OPS_QUERY)).map(([i, q]) => ({ method: 'GET', path: `/experiments/${i}/ops${q}`, kind: 'ops' })),
    fc.tuple(id, query(EVENTS_QUERY)).map(([i, q]) => ({ method: 'GET', path: `/experiments/${i}/events${q}`, kind: 'events' })),
    fc.tuple(id, query(['type', 'lastEventId', 'ticket'])).map(([i, q]) => ({ method: 'GET', path: `/experiments/${i}/events/stream${q}`, kind: 'stream' })),
    fc.tuple(id, mutated({ workerId: 'fuzzer', ttlMs: 30_000 }, ['workerId', 'ttlMs'])).map(([i, body]) => ({ method: 'POST', path: `/experiments/${i}/lease`, body, kind: 'lease' })),
    fc.tuple(id, leaseBody).map(([i, body]) => ({ method: 'POST', path: `/experiments/${i}/lease/heartbeat`, body, kind: 'heartbeat' })),
    fc.tuple(id, fc.oneof(fc.constant('not-the-lease'), segment)).map(([i, l]) => ({ method: 'DELETE', path: `/experiments/${i}/lease/${l}`, kind: 'release' })),
    fc.tuple(id, leaseBody).map(([i, body]) => ({ method: 'POST', path: `/experiments/${i}/ask`, body, kind: 'ask' })),
    fc.tuple(id, leaseId, step, loss, fc.boolean()).map(([i, l, s, x, extra]) => ({ method: 'POST', path: `/experiments/${i}/tell`, body: toJsonText({ leaseId: l, step: s, loss: x, ...(extra ? { extra: 1 } : {}) }), kind: 'tell' })),
    fc.tuple(id, mutated({ strategy: 'random', candidates: 3 }, ['strategy', 'candidates'])).map(([i, body]) => ({ method: 'POST', path: `/experiments/${i}/search`, body, kind: 'search-start' })),
    fc.tuple(id, query(['at', 'minPosition', 'waitMs'])).map(([i, q]) => ({ method: 'GET', path: `/experiments/${i}/search${q}`, kind: 'search' })),
    fc.tuple(id, query(['at', 'minPosition', 'waitMs'])).map(([i, q]) => ({ method: 'GET', path: `/experiments/${i}/rankings${q}`, kind: 'rankings' })),
    fc
      .tuple(
        id,
        fc.record(
          {
            hyperparameters: fc.dictionary(fc.constantFrom('beta', 'gamma', 'c1', 'c2', 'tau', 'nThreshold', 'maxRedraws', 'x'), oddNumber, { maxKeys: 2 }),
            schedule: fc.record({ stepsPerEpoch: oddNumber, warmupSteps: oddNumber, treeBuildingSteps: oddNumber, mctSteps: oddNumber }),
            at: fc.oneof(oddNumber, fc.constant(raw(String(target.head))), fc.constant(raw(String(target.head + 10_000)))),
            searchId: oddString,
            nodeDiffLimit: oddNumber,
            topLeaves: oddNumber,
            skipPolicyAnalysis: fc.oneof(fc.boolean(), oddString),
          },
          { requiredKeys: [] },
        ),
      )
      .map(([i, body]) => ({ method: 'POST', path: `/experiments/${i}/replay`, body: toJsonText(body), kind: 'replay' })),
    fc.constantFrom('/health', '/metrics', '/docs-json').map((path) => ({ method: 'GET', path, kind: 'service' })),
    fc
      .tuple(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), fc.constantFrom('/', '/nope', '/experiments/x/nope', '/%ff', '/experiments/%ff', '/nope/../experiments', '//experiments', '/experiments/', '/EXPERIMENTS'))
      .map(([method, path]) => ({ method, path, kind: 'unknown-route' })),
    fc.tuple(fc.constantFrom('PUT', 'PATCH', 'DELETE'), id).map(([method, i]) => ({ method, path: `/experiments/${i}`, body: '{}', kind: 'method' })),
    fc.tuple(fc.constantFrom('/experiments', `/experiments/${target.experimentId}/tell`, `/experiments/${target.experimentId}/lease`, `/experiments/${target.experimentId}/pause`), fc.oneof(deepJson, fc.constantFrom('{', '[1,2', '{"a":1}garbage', 'nul', '"just a string"', '42', 'null', '', '\u0000', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"__proto__":{"x":1}}'), anyJson().map(toJsonText)))
      .map(([path, body]) => ({ method: 'POST', path, body, kind: 'raw-body' })),
  ];
  const headers = fc.record(
    {
      authorization: fc.oneof(
        { weight: 8, arbitrary: fc.constant(`Bearer ${target.token}`) },
        { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', 'Bearer ', `bearer ${target.token}`, `Bearer ${target.token}x`, `Basic ${target.token}`, `Bearer  ${target.token.slice(0, -1)}`, 'Bearer \u00ff') },
      ),
      contentType: fc.oneof(
        { weight: 8, arbitrary: fc.constant('application/json') },
        { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=utf-7', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/*', '') },
      ),
      lastEventId: rarely(10, fc.constantFrom('1:', ':1', 'abc', '1:2:3', '-1:5', '99999999999999999999999:1', '0:0', '5:5')),
      large: rarely(50, fc.constantFrom('x'.repeat(20 * 1024), 'y'.repeat(70 * 1024))),
      accept: rarely(10, fc.constantFrom('text/html', 'application/xml', '*/*', 'text/event-stream')),
    },
  );
  return fc.tuple(fc.oneof(...routes.map((arbitrary) => ({ weight: 1, arbitrary }))), headers).map(([route, h]) => {
    const out: Record<string, string> = {};
    if (h.authorization) out.authorization = h.authorization;
    if (route.body !== undefined && h.contentType) out['content-type'] = h.contentType;
    if (h.lastEventId !== undefined) out['last-event-id'] = h.lastEventId;
    if (h.large !== undefined) out['x-padding'] = h.large;
    if (h.accept !== undefined) out.accept = h.accept;
    return { ...route, headers: out };
  });
}
