import { CONTENT_TYPE_JSON, CONTENT_TYPE_PROTOBUF, CatalogItem } from '@reco/contracts';
import { checkJsonShape, type JsonField } from './json-shape';
import { checkAmount, checkId, checkText, checkTime, firstRejection } from './field-rules';
import type { ValidationLimits } from './limits';
import { reject, type Rejection, type Verdict } from './rejection';

const ITEM_JSON_SHAPE: JsonField[] = [
  { name: 'item_id', kind: 'string' },
  { name: 'title', kind: 'string' },
  { name: 'description', kind: 'string' },
  { name: 'category_path', kind: 'string[]' },
  { name: 'brand', kind: 'string' },
  { name: 'price', kind: 'number' },
  { name: 'currency', kind: 'string' },
  { name: 'in_stock', kind: 'bool' },
  { name: 'created_at', kind: 'timestamp' },
  { name: 'attributes', kind: 'string-map' },
  { name: 'updated_at', kind: 'timestamp' },
];

export const CATALOG_LIMITS = {
  maxTitle: 512,
  maxDescription: 10_000,
  maxCategoryDepth: 10,
  maxCategoryName: 128,
  maxAttributes: 64,
  maxAttributeKey: 64,
  maxAttributeValue: 512,
};

export function decodeCatalogItem(
  value: Buffer | null,
  contentType: string | undefined,
  limits: Pick<ValidationLimits, 'allowUnknownJsonFields'>,
): Verdict<CatalogItem> {
  if (!value || value.length === 0) return reject('malformed_json', '', 'empty message value');
  const type = (contentType ?? CONTENT_TYPE_JSON).split(';')[0]!.trim().toLowerCase();
  if (type === CONTENT_TYPE_PROTOBUF) {
    try {
      return { ok: true, value: CatalogItem.decode(value) };
    } catch (err) {
      return reject('malformed_protobuf', '', (err as Error).message);
    }
  }
  if (type !== CONTENT_TYPE_JSON)
    return reject(
      'unsupported_content_type',
      '',
      `content-type "${contentType}" is neither JSON nor protobuf`,
    );
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return reject('malformed_json', '', (err as Error).message);
  }
  const shape = checkJsonShape(json, ITEM_JSON_SHAPE, { allowUnknownFields: limits.allowUnknownJsonFields });
  if (shape) return { ok: false, rejection: shape };
  return { ok: true, value: CatalogItem.fromJSON(json) };
}

export function validateCatalogItem(
  item: CatalogItem,
  now: number,
  limits: ValidationLimits,
): Rejection | undefined {
  const L = CATALOG_LIMITS;
  const anyTime = { maxEventAgeMs: Number.POSITIVE_INFINITY, maxClockSkewMs: limits.maxClockSkewMs };
  return firstRejection(
    () => checkId('item_id', item.itemId, true, limits.maxIdLength),
    () => checkText('title', item.title, true, L.maxTitle),
    () => checkText('description', item.description, false, L.maxDescription),
    () =>
      item.categoryPath.length > L.maxCategoryDepth
        ? reject('out_of_range', 'category_path', `category_path deeper than ${L.maxCategoryDepth}`).rejection
        : undefined,
    ...item.categoryPath.map((c) => () => checkText('category_path', c, true, L.maxCategoryName)),
    () => checkText('brand', item.brand, false, limits.maxIdLength),
    () => checkAmount('price', item.price, limits.maxPrice),
    () =>
      item.currency !== '' && !/^[A-Z]{3}$/.test(item.currency)
        ? reject('invalid_chars', 'currency', 'currency must be an ISO 4217 code such as EUR').rejection
        : undefined,
    () => checkTime('created_at', item.createdAt, false, now, anyTime),
    () => checkTime('updated_at', item.updatedAt, false, now, anyTime),
    () =>
      Object.keys(item.attributes).length > L.maxAttributes
        ? reject('out_of_range', 'attributes', `more than ${L.maxAttributes} attributes`).rejection
        : undefined,
    ...Object.entries(item.attributes).flatMap(([k, v]) => [
      () => checkText('attributes', k, true, L.maxAttributeKey),
      () => checkText('attributes', v, false, L.maxAttributeValue),
    ]),
  );
}

export function normalizeCatalogItem(item: CatalogItem): CatalogItem {
  return {
    ...item,
    title: item.title.trim(),
    brand: item.brand.trim(),
    categoryPath: item.categoryPath.map((c) => c.trim()),
  };
}
