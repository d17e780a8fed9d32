// Gathers the facts decide.ts needs from this machine (files only; loads no TensorFlow).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

import {
  type AddonFacts,
  CUDA_DRIVER_LIBRARY,
  type GpuFacts,
  NPM_PACKAGE,
  REQUIRED_CUDA_LIBRARIES,
  type SystemFacts,
  type TfDevice,
} from './decide';

/** Written by scripts/setup.mjs into <tfjs-node package>/deps/. */
export const STAMP_FILE = 'reco-tf-native.json';

export interface NativeStamp {
  variant: TfDevice;
  npmPackage: string;
  tfjsNode: string;
  napi: number;
  tensorflow: { registry: string; project: string; version: string; file: string; sha256: string };
  cuda: string[] | 'system';
  installedAt?: string;
}

export interface AddonLocation {
  packageDir: string;
  addonPath: string;
}

/** Where tfjs-node(-gpu) is installed and where its index.js will look for the addon. */
export function locateAddon(device: TfDevice): AddonLocation | { error: string } {
  const npmPackage = NPM_PACKAGE[device];
  let packageJson: string;
  try {
    packageJson = realpathSync(require.resolve(`${npmPackage}/package.json`));
  } catch {
    return { error: `${npmPackage} is not installed (run pnpm install)` };
  }
  const packageDir = dirname(packageJson);
  try {
    // The same lookup tfjs-node's dist/index.js does.
    const preGyp = createRequire(packageJson)('@mapbox/node-pre-gyp') as {
      find: (packageJsonPath: string) => string;
    };
    return { packageDir, addonPath: preGyp.find(packageJson) };
  } catch (e) {
    return { error: `cannot resolve the addon path of ${npmPackage}: ${(e as Error).message}` };
  }
}

export function readStamp(packageDir: string): NativeStamp | undefined {
  try {
    return JSON.parse(readFileSync(join(packageDir, 'deps', STAMP_FILE), 'utf8')) as NativeStamp;
  } catch {
    return undefined;
  }
}

export function describeStamp(stamp: NativeStamp | undefined): string | undefined {
  if (!stamp) return undefined;
  const t = stamp.tensorflow;
  return `${t.project} ${t.version} (${t.registry === 'pypi' ? 'PyPI' : t.registry} ${t.file}, sha256 ${t.sha256})`;
}

export function probeAddon(device: TfDevice): AddonFacts {
  const npmPackage = NPM_PACKAGE[device];
  const loc = locateAddon(device);
  if ('error' in loc) return { npmPackage, installed: false, problems: [loc.error] };
  const problems: string[] = [];
  if (!existsSync(loc.addonPath)) problems.push(`${loc.addonPath} missing`);
  for (const lib of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    const p = join(loc.packageDir, 'deps', 'lib', lib);
    if (!existsSync(p)) problems.push(`${p} missing`);
  }
  const stamp = readStamp(loc.packageDir);
  return { npmPackage, installed: problems.length === 0, problems, source: describeStamp(stamp) };
}

const SYSTEM_LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/cuda/lib64',
  '/usr/local/cuda/targets/x86_64-linux/lib',
  '/usr/local/nvidia/lib64',
  '/usr/lib/wsl/lib',
];

/** soname -> path from `ldconfig -p` (the dynamic loader's cache). */
function ldconfigCache(): Map<string, string> {
  const out = new Map<string, string>();
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    const r = spawnSync(bin, ['-p'], { encoding: 'utf8', timeout: 5000 });
    if (r.status !== 0 || !r.stdout) continue;
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
      if (m && m[2].includes('x86-64') && !out.has(m[1])) out.set(m[1], m[3]);
    }
    break;
  }
  return out;
}

function listNvidiaWheelLibDirs(packageDir: string | undefined): string[] {
  if (!packageDir) return [];
  const root = join(packageDir, 'deps', 'nvidia');
  try {
    return readdirSync(root)
      .map((d) => join(root, d, 'lib'))
      .filter((d) => existsSync(d));
  } catch {
    return [];
  }
}

export function probeGpu(env: Record<string, string | undefined> = process.env): GpuFacts {
  let deviceFiles: string[] = [];
  try {
    deviceFiles = readdirSync('/dev')
      .filter((n) => /^nvidia(ctl|\d+)$/.test(n) || n === 'dxg')
      .map((n) => `/dev/${n}`);
  } catch {
    /* no /dev */
  }
  // Needs the control node and at least one GPU node (or WSL2's /dev/dxg).
  const hasCtl = deviceFiles.includes('/dev/nvidiactl');
  const hasGpu = deviceFiles.some((f) => /^\/dev\/nvidia\d+$/.test(f));
  if (!(hasCtl && hasGpu) && !deviceFiles.includes('/dev/dxg')) deviceFiles = [];

  const gpuPkg = locateAddon('gpu');
  const wheelDirs = listNvidiaWheelLibDirs('error' in gpuPkg ? undefined : gpuPkg.packageDir);
  const ldPath = (env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  const dirs = [...wheelDirs, ...ldPath, ...SYSTEM_LIB_DIRS];
  const cache = ldconfigCache();
  const find = (soname: string, useWheels: boolean): string | null => {
    for (const d of useWheels ? dirs : dirs.filter((x) => !wheelDirs.includes(x))) {
      const p = join(d, soname);
      if (existsSync(p)) return p;
    }
    return cache.get(soname) ?? null;
  };
  const cudaLibraries: Record<string, string | null> = {};
  for (const lib of REQUIRED_CUDA_LIBRARIES) cudaLibraries[lib] = find(lib, true);
  const searched = [
    wheelDirs.length > 0 ? `${NPM_PACKAGE.gpu}/deps/nvidia/*/lib` : `${NPM_PACKAGE.gpu}/deps/nvidia (absent)`,
    ...(ldPath.length > 0 ? ['LD_LIBRARY_PATH'] : []),
    ...SYSTEM_LIB_DIRS.filter((d) => existsSync(d)),
    'ldconfig cache',
  ];
  return { deviceFiles, driverLibrary: find(CUDA_DRIVER_LIBRARY, false), cudaLibraries, searched };
}

export function probeSystem(options: {
  gpu: boolean;
  env?: Record<string, string | undefined>;
}): SystemFacts {
  return {
    platform: process.platform,
    arch: process.arch,
    addons: { cpu: probeAddon('cpu'), gpu: probeAddon('gpu') },
    gpu: options.gpu ? probeGpu(options.env) : undefined,
  };
}
