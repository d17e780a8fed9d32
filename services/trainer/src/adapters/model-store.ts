import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Where model versions live. A directory here; an object store implements the same
 * interface in production (each version is a folder of files, written once).
 */
export interface ModelStore {
  /** Writes a version through `write(dir)` into a staging folder, then makes it visible at once. */
  put(version: string, write: (dir: string) => Promise<void>): Promise<string>;
  /** A local folder holding the version's files. */
  localPath(version: string): Promise<string>;
  /** The version serving users, if any. */
  live(): Promise<string | undefined>;
  setLive(version: string): Promise<void>;
  list(): Promise<string[]>;
}

/** The store folder that holds training checkpoints, not a version. */
export const CHECKPOINTS_FOLDER = 'checkpoints';

export class DirectoryModelStore implements ModelStore {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Where interrupted runs keep their checkpoints (`<store>/checkpoints/<runId>/`). */
  get checkpointsRoot(): string {
    return join(this.root, CHECKPOINTS_FOLDER);
  }

  async put(version: string, write: (dir: string) => Promise<void>): Promise<string> {
    if (!/^[A-Za-z0-9._-]+$/.test(version) || version === CHECKPOINTS_FOLDER)
      throw new Error(`invalid model version "${version}"`);
    await mkdir(this.root, { recursive: true });
    const staging = join(this.root, `.staging-${version}`);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await write(staging);
    await rename(staging, join(this.root, version)); // readers never see a half-written version
    return pathToFileURL(join(this.root, version)).href;
  }

  async localPath(version: string): Promise<string> {
    return join(this.root, version);
  }

  async live(): Promise<string | undefined> {
    try {
      return (await readFile(join(this.root, 'LIVE'), 'utf8')).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  async setLive(version: string): Promise<void> {
    const tmp = join(this.root, '.LIVE.tmp');
    await writeFile(tmp, `${version}\n`);
    await rename(tmp, join(this.root, 'LIVE'));
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.root, { withFileTypes: true }))
        .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== CHECKPOINTS_FOLDER)
        .map((d) => d.name)
        .sort();
    } catch {
      return [];
    }
  }
}
