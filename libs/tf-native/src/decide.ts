// Pure backend-selection logic: no TensorFlow, no file system. Everything the
// decision needs comes in as plain data (see probe.ts for how it is gathered),
// so every branch is unit-testable on a machine without TF or a GPU.

export type TfDevice = 'cpu' | 'gpu';
export type TfPurpose = 'train' | 'serve';
/** `native` = tfjs-node(-gpu) on TensorFlow's C library; `pure-js` = tfjs' JavaScript cpu backend. */
export type TfBackendChoice = 'native' | 'pure-js';

export const NPM_PACKAGE: Record<TfDevice, string> = {
  cpu: '@tensorflow/tfjs-node',
  gpu: '@tensorflow/tfjs-node-gpu',
};

/** How to (re)build the native addons; quoted in error messages. */
export const SETUP_HINT: Record<TfDevice, string> = {
  cpu: 'run `pnpm --filter @reco/tf-native run setup` (see docs/native-tensorflow.md)',
  gpu: 'run `RECO_TF_DEVICE=gpu pnpm --filter @reco/tf-native run setup` (see docs/gpu.md)',
};

/**
 * Libraries TensorFlow 2.20 dlopen()s to register a GPU (it silently falls back
 * to CPU when one is missing, so they are checked before loading). Sonames for
 * CUDA 12 + cuDNN 9; libnvJitLink is a dependency of cuSPARSE/cuSOLVER.
 */
export const REQUIRED_CUDA_LIBRARIES: readonly string[] = [
  'libcudart.so.12',
  'libcublas.so.12',
  'libcublasLt.so.12',
  'libcufft.so.11',
  'libcusolver.so.11',
  'libcusparse.so.12',
  'libnvJitLink.so.12',
  'libcudnn.so.9',
];
/** The NVIDIA driver's user-space library; comes with the driver, never from pip. */
export const CUDA_DRIVER_LIBRARY = 'libcuda.so.1';

export interface TfSettings {
  device: TfDevice;
  backend: TfBackendChoice;
  allowPureJs: boolean;
}

export interface BackendRequest extends TfSettings {
  purpose: TfPurpose;
}

/** What set-up left in one of the tfjs-node packages. */
export interface AddonFacts {
  npmPackage: string;
  /** true when the addon and the TF shared libraries it links are in place. */
  installed: boolean;
  /** Human-readable reasons why it is not usable (empty when installed). */
  problems: string[];
  /** e.g. "tensorflow-cpu 2.20.0 (PyPI, sha256 cf75…)", from the set-up stamp. */
  source?: string;
}

export interface GpuFacts {
  /** /dev/nvidia* (or /dev/dxg on WSL2) device nodes present. */
  deviceFiles: string[];
  /** Path of libcuda.so.1 if found, else null. */
  driverLibrary: string | null;
  /** soname -> path where found, or null. */
  cudaLibraries: Record<string, string | null>;
  /** Directories searched for the libraries (for the error message). */
  searched: string[];
}

export interface SystemFacts {
  platform: string;
  arch: string;
  addons: Record<TfDevice, AddonFacts>;
  /** Only gathered when a GPU is requested. */
  gpu?: GpuFacts;
}

export type BackendDecision =
  | { kind: 'native'; device: TfDevice; npmPackage: string }
  | { kind: 'pure-js'; reason: string; warn: boolean };

/** Thrown for every refusal; `missing` lists each missing piece on its own. */
export class TfBackendError extends Error {
  readonly missing: string[];
  constructor(message: string, missing: string[] = []) {
    super(message);
    this.name = 'TfBackendError';
    this.missing = missing;
  }
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['', '0', 'false', 'no', 'off']);

/**
 * Reads RECO_TF_DEVICE (cpu|gpu, default cpu), RECO_TF_BACKEND (native|pure-js,
 * default native) and RECO_TF_ALLOW_PURE_JS (1/true to allow training on pure JS).
 */
export function readTfSettings(env: Record<string, string | undefined>): TfSettings {
  const device = (env.RECO_TF_DEVICE ?? '').trim().toLowerCase() || 'cpu';
  if (device !== 'cpu' && device !== 'gpu') {
    throw new TfBackendError(`RECO_TF_DEVICE must be "cpu" or "gpu", got "${env.RECO_TF_DEVICE}"`);
  }
  const backend = (env.RECO_TF_BACKEND ?? '').trim().toLowerCase() || 'native';
  if (backend !== 'native' && backend !== 'pure-js') {
    throw new TfBackendError(`RECO_TF_BACKEND must be "native" or "pure-js", got "${env.RECO_TF_BACKEND}"`);
  }
  const allowRaw = (env.RECO_TF_ALLOW_PURE_JS ?? '').trim().toLowerCase();
  if (!TRUE.has(allowRaw) && !FALSE.has(allowRaw)) {
    throw new TfBackendError(`RECO_TF_ALLOW_PURE_JS must be 1 or 0, got "${env.RECO_TF_ALLOW_PURE_JS}"`);
  }
  return { device, backend, allowPureJs: TRUE.has(allowRaw) };
}

/** Everything that stops TensorFlow from using a GPU here, one item per missing piece. */
export function missingForGpu(facts: SystemFacts): string[] {
  const missing: string[] = [];
  if (facts.platform !== 'linux' || facts.arch !== 'x64') {
    missing.push(`GPU builds exist for linux x64 only (this is ${facts.platform} ${facts.arch})`);
  }
  const addon = facts.addons.gpu;
  if (!addon.installed) {
    missing.push(
      `${addon.npmPackage} native addon not built (${addon.problems.join('; ')}): ${SETUP_HINT.gpu}`,
    );
  }
  const gpu = facts.gpu;
  if (!gpu) {
    missing.push('GPU facts were not gathered');
    return missing;
  }
  if (gpu.deviceFiles.length === 0) {
    missing.push(
      'no NVIDIA device files (/dev/nvidiactl, /dev/nvidia0, ...): no GPU visible or the NVIDIA kernel driver is not loaded',
    );
  }
  if (gpu.driverLibrary === null) {
    missing.push(
      `NVIDIA driver library ${CUDA_DRIVER_LIBRARY} not found (install the NVIDIA driver, >= 525)`,
    );
  }
  const absent = REQUIRED_CUDA_LIBRARIES.filter((lib) => !gpu.cudaLibraries[lib]);
  if (absent.length > 0) {
    missing.push(
      `CUDA/cuDNN libraries not found: ${absent.join(', ')} (searched ${gpu.searched.join(', ') || 'nothing'}; ` +
        `setup with RECO_TF_CUDA=pip installs them from the nvidia-* wheels)`,
    );
  }
  return missing;
}

/**
 * Chooses the backend or throws a TfBackendError that says exactly why not.
 * - GPU requested: native tfjs-node-gpu or an error naming what is missing (never a silent CPU fallback).
 * - CPU: native tfjs-node; when it is not available, serving falls back to pure JS with a
 *   warning, training refuses unless pure JS is explicitly allowed.
 * - `backend: 'pure-js'` forces the JS backend: fine for serving, training needs `allowPureJs`.
 */
export function decideBackend(req: BackendRequest, facts: SystemFacts): BackendDecision {
  if (req.purpose !== 'train' && req.purpose !== 'serve') {
    throw new TfBackendError(`purpose must be "train" or "serve", got "${String(req.purpose)}"`);
  }
  if (req.device !== 'cpu' && req.device !== 'gpu') {
    throw new TfBackendError(`device must be "cpu" or "gpu", got "${String(req.device)}"`);
  }
  if (req.backend === 'pure-js') {
    if (req.device === 'gpu') {
      throw new TfBackendError(
        'RECO_TF_BACKEND=pure-js cannot use a GPU: set RECO_TF_DEVICE=cpu or RECO_TF_BACKEND=native',
      );
    }
    if (req.purpose === 'train' && !req.allowPureJs) {
      throw new TfBackendError(
        pureJsTrainingRefusal('the pure-JS backend was requested (RECO_TF_BACKEND=pure-js)'),
      );
    }
    return { kind: 'pure-js', reason: 'requested (RECO_TF_BACKEND=pure-js)', warn: req.purpose === 'train' };
  }
  if (req.device === 'gpu') {
    const missing = missingForGpu(facts);
    if (missing.length > 0) {
      throw new TfBackendError(
        `GPU requested (RECO_TF_DEVICE=gpu) but it cannot be used:\n  - ${missing.join('\n  - ')}`,
        missing,
      );
    }
    return { kind: 'native', device: 'gpu', npmPackage: facts.addons.gpu.npmPackage };
  }
  const cpu = facts.addons.cpu;
  if (cpu.installed) return { kind: 'native', device: 'cpu', npmPackage: cpu.npmPackage };
  const why = `native TensorFlow (${cpu.npmPackage}) is not available: ${cpu.problems.join('; ')}`;
  if (req.purpose === 'train' && !req.allowPureJs) {
    throw new TfBackendError(`${pureJsTrainingRefusal(why)}\nTo fix: ${SETUP_HINT.cpu}`, cpu.problems);
  }
  return { kind: 'pure-js', reason: `${why}; ${SETUP_HINT.cpu}`, warn: true };
}

function pureJsTrainingRefusal(why: string): string {
  return (
    `Refusing to train on the pure-JS TensorFlow.js backend: ${why}. ` +
    'It is 50-1,600x slower than native TensorFlow (docs/benchmarks.md); set RECO_TF_ALLOW_PURE_JS=1 (or allowPureJs: true) only for tiny tests.'
  );
}

/** After loading tfjs-node-gpu: TF silently falls back to CPU when it cannot register a GPU. */
export function checkLoadedDevice(device: TfDevice, usingGpu: boolean): void {
  if (device === 'gpu' && !usingGpu) {
    throw new TfBackendError(
      'GPU requested (RECO_TF_DEVICE=gpu): tfjs-node-gpu loaded but TensorFlow registered no GPU device ' +
        '(driver too old for CUDA 12, unsupported compute capability, or a CUDA library failed to load: ' +
        'run with TF_CPP_MIN_LOG_LEVEL=0 to see TensorFlow\'s "Cannot dlopen" lines). See docs/gpu.md.',
      ['usable GPU device'],
    );
  }
}
