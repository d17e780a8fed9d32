import { reject, type Rejection } from './rejection';

/** JSON kinds a proto3 JSON field may take (proto3 JSON allows numbers as strings). */
export type JsonKind =
  'string' | 'number' | 'enum' | 'timestamp' | 'bool' | 'string[]' | 'string-map' | 'object';

export interface JsonField {
  /** proto field name; its lowerCamelCase JSON name is accepted too. */
  name: string;
  kind: JsonKind;
  children?: JsonField[];
}

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const namesCache = new WeakMap<JsonField[], Map<string, JsonField>>();

/** Field lookup by either JSON name, built once per shape (this runs for every message). */
function jsonNames(fields: JsonField[]): Map<string, JsonField> {
  let names = namesCache.get(fields);
  if (!names) {
    names = new Map();
    for (const f of fields) {
      names.set(f.name, f);
      names.set(camel(f.name), f);
    }
    namesCache.set(fields, names);
  }
  return names;
}

function kindMatches(kind: JsonKind, value: unknown): boolean {
  switch (kind) {
    case 'string':
    case 'timestamp':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '');
    case 'enum':
      return typeof value === 'string' || Number.isInteger(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'string-map':
      return isPlainObject(value) && Object.values(value).every((v) => typeof v === 'string');
    case 'object':
      return isPlainObject(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a parsed JSON object against the proto3 JSON shape of a message: known field names
 * only, and each value of the JSON type its field takes. The generated decoders coerce
 * silently (a number becomes a string), so this runs first to name the field at fault.
 */
export function checkJsonShape(
  value: unknown,
  fields: JsonField[],
  options: { allowUnknownFields: boolean },
  path = '',
): Rejection | undefined {
  if (!isPlainObject(value)) return reject('malformed_json', path, 'expected a JSON object').rejection;
  const byJsonName = jsonNames(fields);
  // for-in, not Object.entries: no array per message (a parsed JSON object has only own keys)
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const v = value[key];
    const field = byJsonName.get(key);
    const fieldPath = path ? `${path}.${field?.name ?? key}` : (field?.name ?? key);
    if (!field) {
      if (options.allowUnknownFields) continue;
      return reject('unknown_field', fieldPath, `unknown field "${key}"`).rejection;
    }
    if (v === null) continue; // proto3 JSON: null means the default value
    if (!kindMatches(field.kind, v)) {
      return reject(
        'invalid_type',
        fieldPath,
        `expected ${field.kind}, got ${JSON.stringify(v).slice(0, 40)}`,
      ).rejection;
    }
    if (field.kind === 'object' && field.children) {
      const nested = checkJsonShape(v, field.children, options, fieldPath);
      if (nested) return nested;
    }
  }
  return undefined;
}
