import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** On-disk formats of an interaction log. */
export type DatasetFormat = 'seq' | 'pairs';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['seq', 'pairs'];

/**
 * An interaction log in memory. Items get dense indices 0..numItems-1 assigned in increasing
 * numeric order of their external id, so the same data in `seq` or `pairs` format (or with users
 * in another order) yields the same indices. Users keep the order of their first appearance.
 */
export interface Dataset {
  /** File basename (or the name given to {@link parseDataset}). */
  readonly name: string;
  /** External user id of each internal user index. */
  readonly userIds: readonly string[];
  /** External item id of each dense item index. */
  readonly itemIds: readonly string[];
  /** External item id -> dense item index. */
  readonly itemIndex: ReadonlyMap<string, number>;
  /** Per user (internal index), dense item indices in time order. */
  readonly sequences: readonly Int32Array[];
  readonly numInteractions: number;
}

/** A malformed input line; the message names the file, the 1-based line number and the problem. */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'DatasetError';
  }
}

const ID = /^[1-9][0-9]*$/;

/** Numeric order of canonical positive-integer strings (no leading zeros). */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Parses the text of a dataset. `name` is used in error messages and as the dataset name. */
export function parseDataset(text: string, format: DatasetFormat, name: string): Dataset {
  if (format !== 'seq' && format !== 'pairs') {
    throw new Error(`unknown dataset format '${String(format)}' (expected seq or pairs)`);
  }
  const userOrder: string[] = [];
  const raw = new Map<string, string[]>();
  const firstLine = new Map<string, number>();
  const lines = text.split('\n');
  let numInteractions = 0;

  const checkId = (token: string, what: string, lineNo: number): void => {
    if (!ID.test(token)) {
      throw new DatasetError(name, lineNo, `${what} '${token}' is not a positive integer`);
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].trim();
    if (line === '') continue; // blank lines (and the final newline) are allowed
    const tokens = line.split(/\s+/);
    const user = tokens[0];
    checkId(user, 'user id', lineNo);
    if (format === 'seq') {
      if (tokens.length < 2) {
        throw new DatasetError(
          name,
          lineNo,
          `user ${user} has no items (expected 'user_id item_id item_id ...')`,
        );
      }
      if (raw.has(user)) {
        throw new DatasetError(
          name,
          lineNo,
          `user ${user} appears again (first on line ${firstLine.get(user)}); format seq has one line per user` +
            (tokens.length === 2 ? ' (is this a pairs file? use --format pairs)' : ''),
        );
      }
      const items = tokens.slice(1);
      for (const item of items) checkId(item, 'item id', lineNo);
      raw.set(user, items);
      firstLine.set(user, lineNo);
      userOrder.push(user);
      numInteractions += items.length;
    } else {
      if (tokens.length !== 2) {
        throw new DatasetError(name, lineNo, `expected 2 fields 'user_id item_id', got ${tokens.length}`);
      }
      checkId(tokens[1], 'item id', lineNo);
      let items = raw.get(user);
      if (items === undefined) {
        items = [];
        raw.set(user, items);
        firstLine.set(user, lineNo);
        userOrder.push(user);
      }
      items.push(tokens[1]);
      numInteractions++;
    }
  }
  if (userOrder.length === 0) {
    throw new DatasetError(name, Math.max(1, lines.length), 'no interactions in file');
  }

  const distinct = new Set<string>();
  for (const items of raw.values()) for (const item of items) distinct.add(item);
  const itemIds = [...distinct].sort(compareIds);
  const itemIndex = new Map<string, number>();
  itemIds.forEach((id, index) => itemIndex.set(id, index));

  const sequences = userOrder.map((user) => {
    const items = raw.get(user)!;
    const seq = new Int32Array(items.length);
    for (let j = 0; j < items.length; j++) seq[j] = itemIndex.get(items[j])!;
    return seq;
  });
  return { name, userIds: userOrder, itemIds, itemIndex, sequences, numInteractions };
}

/** Reads and parses a dataset file; the dataset is named after the file's basename. */
export function loadDataset(file: string, format: DatasetFormat): Dataset {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read dataset ${file}: ${(err as Error).message}`, { cause: err });
  }
  const ds = parseDataset(text, format, file);
  return { ...ds, name: basename(file) };
}

/** Serializes a dataset (external ids) in the given format. */
export function formatDataset(ds: Dataset, format: DatasetFormat): string {
  const out: string[] = [];
  ds.sequences.forEach((seq, u) => {
    const user = ds.userIds[u];
    if (format === 'seq') {
      out.push(`${user} ${Array.from(seq, (i) => ds.itemIds[i]).join(' ')}`);
    } else {
      for (const i of seq) out.push(`${user} ${ds.itemIds[i]}`);
    }
  });
  return out.join('\n') + '\n';
}
