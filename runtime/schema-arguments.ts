/**
 * Arguments for a tool call, made up from the tool's JSON schema as the model receives it: the
 * offline demo model calls any agent's tools with them. Required properties only, each a value that
 * suits its name where one is cheap to guess (a `city` gets a city, a `query` the user's words), and
 * always within the schema: types, enums and consts, formats, patterns, lengths, bounds, nested
 * objects, arrays and tuples, unions, `$ref`s. The same schema and message give the same arguments.
 */
import { patternExamples } from './pattern-example';

type Schema = Record<string, unknown>;

/** What a value may be guessed from besides the schema. */
export interface ArgumentContext {
  /** The user's last message: the value of a `query`, `question` or `text`. */
  userMessage: string;
}

interface Walk {
  root: Schema;
  context: ArgumentContext;
  depth: number;
}

/** Deeper than this, a (recursive) schema gets the plainest value of its type. */
const MAX_DEPTH = 8;

/** Strings by what a property's name (or description) says it is, first match wins. */
const STRING_HINTS: [RegExp, string | ((context: ArgumentContext) => string)][] = [
  [/\be ?mail\b/, 'ada@example.com'],
  [/\b(url|uri|link|website|homepage)\b/, 'https://example.com'],
  [/\bcountry code\b/, 'PT'],
  [/\b(city|town)\b/, 'Lisbon'],
  [/\bcountry\b/, 'Portugal'],
  [/\b(language|lang|locale)\b/, 'en'],
  [/\bcurrency\b/, 'USD'],
  [/\b(timezone|tz)\b|\btime zone\b/, 'Europe/Lisbon'],
  [/\b(phone|mobile)\b/, '+351 210 000 000'],
  [/\b(zip|postal|postcode)\b/, '1100-148'],
  [/\b(address|street)\b/, '1 Rua Augusta'],
  [/\b(datetime|timestamp)\b|\b(created|updated|starts?|ends?|due) at\b/, '2026-06-15T12:00:00Z'],
  [/\b(date|day|birthday|since|until)\b/, '2026-06-15'],
  [/\btime\b/, '12:00'],
  [/\b(path|file|filename|folder|directory)\b/, 'example.txt'],
  [/\b(from|origin|departure)\b/, 'Lisbon'],
  [/\b(to|destination|arrival)\b/, 'Porto'],
  [/\b(id|number|no|code|sku|ref|reference)\b/, '1042'],
  [/\b(product|item)\b/, 'headphones'],
  [/\b(username|login|handle)\b/, 'ada'],
  [/\b(name|customer|author|user|person|recipient|owner|traveller|traveler|passenger)\b/, 'Ada Lovelace'],
  [/\b(query|search|question|q|prompt|text|message|topic|keywords?|input|request)\b/, (c) => c.userMessage],
  [/\b(title|subject|headline)\b/, 'Example'],
  [/\b(reason|note|notes|comment|description|summary|body|content|details)\b/, 'offline demo'],
  [/\bcolou?r\b/, 'blue'],
  [/\bunits?\b/, 'metric'],
  [/\b(status|state)\b/, 'open'],
  [/\b(category|type|kind)\b/, 'general'],
];

/** Numbers by what a property's name (or description) says it is. */
const NUMBER_HINTS: [RegExp, number][] = [
  [/\b(lat|latitude)\b/, 38.72],
  [/\b(lon|lng|longitude)\b/, -9.14],
  [/\b(amount|price|cost|total|budget|usd|eur|fee|salary)\b/, 25],
  [/\b(temperature|temp|celsius)\b/, 21],
  [/\byear\b/, 2026],
  [/\bmonth\b/, 6],
  [/\bday\b/, 15],
  [/\bhour\b/, 12],
  [/\bminutes?\b/, 30],
  [/\bage\b/, 30],
  [/\b(percent|percentage|rate|discount)\b/, 10],
  [/\b(days|nights|hours|weeks|duration)\b/, 3],
  [/\b(limit|count|quantity|qty|passengers|guests|people|adults|size|max|top|n)\b/, 2],
  [/\b(id|number|no)\b/, 1042],
];

/** Values of the string formats JSON schema names (and zod writes). */
const FORMAT_VALUES: Record<string, string> = {
  email: 'ada@example.com',
  uri: 'https://example.com',
  url: 'https://example.com',
  uuid: '3f2c6f0e-8a6b-4c1d-9e2f-5b7a1c0d4e6f',
  date: '2026-06-15',
  'date-time': '2026-06-15T12:00:00Z',
  time: '12:00:00',
  duration: 'P1D',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  hostname: 'example.com',
  base64: 'ZXhhbXBsZQ==',
  emoji: '🙂',
};

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `orderId`, `order_id`, `order-id` → `order id`. */
function words(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\-.]+/g, ' ')
    .toLowerCase();
}

/** The first hint whose pattern the name's words match, else the description's. */
function hinted<T>(hints: [RegExp, T][], name: string, schema: Schema): T | undefined {
  for (const text of [words(name), typeof schema.description === 'string' ? schema.description.toLowerCase() : '']) {
    const hint = hints.find(([pattern]) => pattern.test(text));
    if (hint) return hint[1];
  }
  return undefined;
}

/** `$ref` resolved within the root schema (`#`, `#/$defs/X`, `#/definitions/X`), its siblings kept. */
function resolved(schema: Schema, root: Schema): Schema {
  if (typeof schema.$ref !== 'string') return schema;
  const { $ref: ref, ...rest } = schema;
  let target: unknown = root;
  for (const key of ref.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    target = isSchema(target) ? target[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return { ...(isSchema(target) ? target : {}), ...rest };
}

/** `allOf`'s parts merged into one: their properties, required names and patterns together. */
function merged(schema: Schema, root: Schema): Schema {
  if (!Array.isArray(schema.allOf)) return schema;
  const { allOf, ...rest } = schema;
  const parts = [rest, ...allOf.filter(isSchema).map((part) => resolved(part, root))];
  return {
    ...Object.assign({}, ...parts),
    properties: Object.assign({}, ...parts.map((part) => part.properties)),
    required: parts.flatMap((part) => (Array.isArray(part.required) ? part.required : [])),
    pattern: undefined,
    patterns: parts.flatMap((part) => (typeof part.pattern === 'string' ? [part.pattern] : [])),
  };
}

/** The type a value gets: the schema's (the first that is not null), else what its keywords imply. */
function typeOf(schema: Schema): string | undefined {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const named = types.find((type) => typeof type === 'string' && type !== 'null') ?? types[0];
  if (typeof named === 'string') return named;
  if (isSchema(schema.properties) || schema.additionalProperties !== undefined) return 'object';
  if (schema.items !== undefined || Array.isArray(schema.prefixItems)) return 'array';
  return undefined;
}

/** A value of `schema` for a property (or item) called `name`; `variant` tells the items of an array apart. */
function valueFor(input: unknown, name: string, walk: Walk, variant = 0): unknown {
  if (!isSchema(input)) return input === false ? null : hintedString({}, name, walk.context, variant);
  const schema = merged(resolved(input, walk.root), walk.root);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[variant % schema.enum.length];
  if ('default' in schema) return schema.default;
  const branches = [schema.anyOf, schema.oneOf].find(Array.isArray);
  if (branches) {
    const { anyOf: _anyOf, oneOf: _oneOf, ...shared } = schema;
    const branch = branches.find((candidate) => isSchema(candidate) && candidate.type !== 'null') ?? branches[0];
    return valueFor(isSchema(branch) ? { ...shared, ...branch } : branch, name, walk, variant);
  }
  const deeper = { ...walk, depth: walk.depth + 1 };
  switch (typeOf(schema)) {
    case 'object':
      return walk.depth >= MAX_DEPTH ? {} : objectFor(schema, deeper);
    case 'array':
      return walk.depth >= MAX_DEPTH ? [] : arrayFor(schema, name, deeper);
    case 'integer':
    case 'number':
      return numberFor(schema, name, variant);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return stringFor(schema, name, walk.context, variant);
  }
}

/** Every required property, each valued by its own schema (or `additionalProperties`'). */
function objectFor(schema: Schema, walk: Walk): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((key) => typeof key === 'string') : [];
  return Object.fromEntries(
    [...new Set(required)].map((key) => [key, valueFor(properties[key] ?? schema.additionalProperties, key, walk)]),
  );
}

/** A tuple's items, else as many items as `minItems` asks (at least one, at most `maxItems`). */
function arrayFor(schema: Schema, name: string, walk: Walk): unknown[] {
  if (Array.isArray(schema.prefixItems))
    return schema.prefixItems.map((item, index) => valueFor(item, name, walk, index));
  const wanted = Math.max(Number(schema.minItems ?? 0), 1);
  const count = typeof schema.maxItems === 'number' ? Math.min(wanted, schema.maxItems) : wanted;
  const item = name.replace(/ies$/, 'y').replace(/s$/, '');
  return Array.from({ length: count }, (_, index) => valueFor(schema.items, item, walk, index));
}

/** Whether `value` keeps every numeric keyword of `schema`. */
function numberFits(value: number, schema: Schema): boolean {
  const bound = (key: string) => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined);
  const [min, max, above, below, step] = [
    'minimum',
    'maximum',
    'exclusiveMinimum',
    'exclusiveMaximum',
    'multipleOf',
  ].map(bound);
  return (
    Number.isFinite(value) &&
    (typeOf(schema) !== 'integer' || Number.isInteger(value)) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max) &&
    (above === undefined || value > above) &&
    (below === undefined || value < below) &&
    (step === undefined || Math.abs(value / step - Math.round(value / step)) < 1e-9)
  );
}

/** The hinted number if it fits, else the first of the bounds' own values (and their neighbours) that does. */
function numberFor(schema: Schema, name: string, variant: number): number {
  const hint = (hinted(NUMBER_HINTS, name, schema) ?? 1) + variant;
  const integer = typeOf(schema) === 'integer';
  const numbers = ['minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum']
    .map((key) => schema[key])
    .filter((value): value is number => typeof value === 'number');
  const step = typeof schema.multipleOf === 'number' ? schema.multipleOf : integer ? 1 : 0.5;
  const near = numbers.flatMap((value) => [value, value + step, value - step, Math.ceil(value / step) * step]);
  const middle = numbers.length >= 2 ? [(numbers[0] + numbers[numbers.length - 1]) / 2] : [];
  const candidates = [
    integer ? Math.round(hint) : hint,
    ...near,
    ...middle.map((value) => Math.round(value / step) * step),
    0,
    1,
  ];
  return candidates.find((value) => numberFits(value, schema)) ?? candidates[0];
}

/** What the property's name suggests, told apart from its siblings in an array. */
function hintedString(schema: Schema, name: string, context: ArgumentContext, variant: number): string {
  const hint = hinted(STRING_HINTS, name, schema);
  const value = (typeof hint === 'function' ? hint(context) : hint) || 'example';
  return variant ? `${value} ${variant + 1}` : value;
}

/** `value` cut to `maxLength` and padded to `minLength`. */
function sized(value: string, schema: Schema): string {
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const cut = [...value].slice(0, max).join('');
  return cut.length >= min ? cut : cut + 'x'.repeat(min - [...cut].length);
}

function matches(value: string, pattern: string): boolean {
  for (const flags of ['u', '']) {
    try {
      return new RegExp(pattern, flags).test(value);
    } catch {
      // Not valid with these flags: try without.
    }
  }
  return true;
}

/**
 * The format's value, the hinted one, or one made from the patterns, whichever keeps the lengths and
 * every pattern (zod writes `startsWith` and `endsWith` as two).
 */
function stringFor(schema: Schema, name: string, context: ArgumentContext, variant: number): string {
  const patterns = [
    ...(Array.isArray(schema.patterns) ? schema.patterns : []),
    ...(typeof schema.pattern === 'string' ? [schema.pattern] : []),
  ].filter((pattern): pattern is string => typeof pattern === 'string');
  const made = patterns.map((pattern) => patternExamples(pattern));
  const formatted = typeof schema.format === 'string' ? FORMAT_VALUES[schema.format] : undefined;
  const hint = hintedString(schema, name, context, variant);
  const candidates = [
    ...(formatted ? [formatted] : []),
    hint,
    hintedString(schema, name, context, 0),
    ...made.flat(),
    made.map((examples) => examples.at(-1) ?? '').join(''),
    'example',
    '1042',
  ];
  const fits = (value: string) => patterns.every((pattern) => matches(value, pattern));
  return candidates.map((candidate) => sized(candidate, schema)).find(fits) ?? sized(hint, schema);
}

/** Arguments for a tool whose parameters are `schema` (a JSON schema of an object). */
export function argumentsFor(schema: unknown, context: ArgumentContext): Record<string, unknown> {
  const root = isSchema(schema) ? schema : {};
  const value = valueFor({ type: 'object', ...root }, '', { root, context, depth: 0 });
  return isSchema(value) ? value : {};
}
