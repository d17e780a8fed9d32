import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  loadCheckpoint,
  readCheckpointInfo,
  saveCheckpoint,
  type CheckpointInfo,
  type TrainingCheckpoint,
} from '@reco/model';
import type { Watermark } from './event-log';

/** What a run was started on: a resumed run replays exactly this data. */
export interface CheckpointRun {
  runId: string;
  startedAt: string;
  /** Offsets the run's replays stopped at, by topic and partition. */
  watermarks: Watermark;
  /** The live version the run's weights started from, if any. */
  warmStartedFrom?: string;
}

export interface SavedCheckpoint {
  run: CheckpointRun;
  epoch: number;
  /** The checkpoint without its tensors (settings, data fingerprint, progress). */
  info: CheckpointInfo;
  load(): Promise<TrainingCheckpoint>;
}

const EPOCH_DIR = /^epoch-(\d+)$/;
const RUN_ID = /^[A-Za-z0-9._-]+$/;

/**
 * Training checkpoints of interrupted runs: `<root>/<runId>/epoch-<n>/` (the run's facts in
 * `run.json` + the model library's checkpoint files). Each is written to a staging folder and
 * renamed, so a crash mid-write leaves the previous checkpoint in place; older epochs are then
 * deleted. A checkpoint is the tail of a run, so it lives only until that run ends.
 */
export class CheckpointStore {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  async save(run: CheckpointRun, checkpoint: TrainingCheckpoint): Promise<string> {
    if (!RUN_ID.test(run.runId)) throw new Error(`invalid run id "${run.runId}"`);
    const runDir = join(this.root, run.runId);
    const name = `epoch-${String(checkpoint.epoch).padStart(5, '0')}`;
    const staging = join(runDir, `.staging-${name}`);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    saveCheckpoint(staging, checkpoint);
    await writeFile(join(staging, 'run.json'), JSON.stringify(run, null, 2));
    const dir = join(runDir, name);
    await rm(dir, { recursive: true, force: true }); // the same epoch again (a resumed run redoing it)
    await rename(staging, dir);
    for (const entry of await readdir(runDir))
      if (entry !== name) await rm(join(runDir, entry), { recursive: true, force: true });
    return dir;
  }

  /** The newest complete checkpoint of the newest run (run ids sort by start time). */
  async latest(): Promise<SavedCheckpoint | undefined> {
    const runs = (await entries(this.root)).filter((r) => RUN_ID.test(r) && !r.startsWith('.')).sort();
    for (const runId of runs.reverse()) {
      const epochs = (await entries(join(this.root, runId))).filter((e) => EPOCH_DIR.test(e)).sort();
      const newest = epochs[epochs.length - 1];
      if (!newest) continue;
      const dir = join(this.root, runId, newest);
      const run = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as CheckpointRun;
      const info = readCheckpointInfo(dir);
      return { run, epoch: info.epoch, info, load: async () => loadCheckpoint(dir) };
    }
    return undefined;
  }

  async remove(runId: string): Promise<void> {
    if (!RUN_ID.test(runId)) return;
    await rm(join(this.root, runId), { recursive: true, force: true });
  }

  /** Deletes every run's checkpoints but `keep`'s (only the latest run can be resumed). */
  async prune(keep?: string): Promise<void> {
    for (const runId of await entries(this.root)) if (runId !== keep) await this.remove(runId);
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
