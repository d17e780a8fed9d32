// The one place services get TensorFlow.js from. It picks the backend (native
// TensorFlow via tfjs-node / tfjs-node-gpu, or, where allowed, tfjs' pure-JS cpu
// backend), refuses what must not happen (training on pure JS, a GPU that is not
// there), and logs what it loaded.
import { createRequire } from 'node:module';
import { cpus } from 'node:os';

import {
  type BackendDecision,
  checkLoadedDevice,
  decideBackend,
  readTfSettings,
  type SystemFacts,
  TfBackendError,
  type TfBackendChoice,
  type TfDevice,
  type TfPurpose,
} from './decide';
import { probeSystem } from './probe';

export * from './decide';
export { probeSystem, probeGpu, probeAddon, readStamp, type NativeStamp } from './probe';

/** The tf namespace. tfjs-node's extras (`tf.node.*`) are there on the native backends only. */
export type TensorFlow = typeof import('@tensorflow/tfjs') &
  Partial<Pick<typeof import('@tensorflow/tfjs-node'), 'node'>>;

export interface TfLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface LoadTensorFlowOptions {
  purpose: TfPurpose;
  /** Default: RECO_TF_DEVICE, else 'cpu'. */
  device?: TfDevice;
  /** Default: RECO_TF_BACKEND, else 'native'. 'pure-js' forces tfjs' JavaScript cpu backend. */
  backend?: TfBackendChoice;
  /** Allow training on the pure-JS backend (tiny tests only). Default: RECO_TF_ALLOW_PURE_JS=1. */
  allowPureJs?: boolean;
  logger?: TfLogger;
  /** Environment to read settings from (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface TfRuntimeInfo {
  backend: string;
  kind: 'native' | 'pure-js';
  device: TfDevice;
  purpose: TfPurpose;
  npmPackage: string;
  tfjsVersion: string;
  /** TensorFlow C library version reported by the addon (TF_Version()), null on pure JS. */
  nativeTensorFlowVersion: string | null;
  /** Where the native library came from (set-up stamp), when known. */
  nativeSource?: string;
  devices: string[];
  reason?: string;
}

const consoleLogger: TfLogger = {
  info: (message, fields) => console.log(JSON.stringify({ level: 'info', msg: message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: 'warn', msg: message, ...fields })),
};

interface Loaded {
  tf: TensorFlow;
  info: TfRuntimeInfo;
}
let loaded: Loaded | undefined;
/** TensorFlow is loaded on demand (never at import), and which package is decided at run time. */
const dynamicRequire = createRequire(__filename);

/** Resolves the options + environment into a request (exported for tests). */
export function resolveRequest(options: LoadTensorFlowOptions) {
  const fromEnv = readTfSettings(options.env ?? process.env);
  return {
    purpose: options.purpose,
    device: options.device ?? fromEnv.device,
    backend: options.backend ?? fromEnv.backend,
    allowPureJs: options.allowPureJs ?? fromEnv.allowPureJs,
  };
}

/**
 * Loads TensorFlow.js with the backend this process must use and returns the tf
 * namespace. Throws TfBackendError with the exact reason when it must not run.
 * One backend per process: a later call with another device/backend throws.
 */
export function loadTensorFlow(options: LoadTensorFlowOptions): TensorFlow {
  const logger = options.logger ?? consoleLogger;
  const req = resolveRequest(options);
  if (loaded) {
    const compatible =
      loaded.info.device === req.device && (req.backend !== 'pure-js' || loaded.info.kind === 'pure-js');
    if (!compatible) {
      throw new TfBackendError(
        `TensorFlow is already loaded in this process as ${loaded.info.kind}/${loaded.info.device}; ` +
          `cannot switch to ${req.backend}/${req.device}`,
      );
    }
    if (req.purpose === 'train' && loaded.info.kind === 'pure-js' && !req.allowPureJs) {
      throw new TfBackendError(
        `Refusing to train on the pure-JS TensorFlow.js backend loaded earlier in this process (${loaded.info.reason ?? 'pure JS'}); ` +
          'set RECO_TF_ALLOW_PURE_JS=1 (or allowPureJs: true) only for tiny tests.',
      );
    }
    return loaded.tf;
  }
  const facts = probeSystem({ gpu: req.device === 'gpu' && req.backend === 'native', env: options.env });
  let decision: BackendDecision = decideBackend(req, facts);
  let tf: TensorFlow;
  if (decision.kind === 'native') {
    try {
      tf = requireNative(decision.npmPackage);
    } catch (e) {
      const msg = `loading ${decision.npmPackage} failed: ${(e as Error).message.split('\n')[0]}`;
      if (decision.device === 'gpu')
        throw new TfBackendError(`GPU requested (RECO_TF_DEVICE=gpu) but ${msg}`, [msg]);
      const withoutNative: SystemFacts = {
        ...facts,
        addons: { ...facts.addons, cpu: { ...facts.addons.cpu, installed: false, problems: [msg] } },
      };
      decision = decideBackend(req, withoutNative); // throws for training unless allowed
      tf = requirePureJs();
    }
  } else {
    tf = requirePureJs();
  }
  const info = describe(tf, req.device, req.purpose, decision, facts);
  if (info.kind === 'native')
    checkLoadedDevice(
      req.device,
      info.devices.some((d) => d.startsWith('GPU')),
    );
  loaded = { tf, info };
  const fields = { ...info } as unknown as Record<string, unknown>;
  if (decision.kind === 'pure-js' && decision.warn)
    logger.warn('tensorflow: using the SLOW pure-JS backend', fields);
  else logger.info('tensorflow backend ready', fields);
  return tf;
}

/** What loadTensorFlow loaded in this process (undefined before the first call). */
export function tensorFlowInfo(): TfRuntimeInfo | undefined {
  return loaded ? { ...loaded.info, devices: [...loaded.info.devices] } : undefined;
}

function requireNative(npmPackage: string): TensorFlow {
  // Hide TensorFlow's C++ INFO lines (oneDNN notices); warnings and errors still show.
  if (process.env.TF_CPP_MIN_LOG_LEVEL === undefined) process.env.TF_CPP_MIN_LOG_LEVEL = '1';
  const tf = dynamicRequire(npmPackage) as TensorFlow;
  if (tf.getBackend() !== 'tensorflow') {
    throw new Error(`${npmPackage} loaded but the active backend is "${tf.getBackend()}"`);
  }
  return tf;
}

function requirePureJs(): TensorFlow {
  const tf = dynamicRequire('@tensorflow/tfjs') as TensorFlow;
  // file:// save/load as on the native backends (tfjs-node's file-system IO is plain JS).
  try {
    const fsIo = dynamicRequire('@tensorflow/tfjs-node/dist/io/file_system') as {
      nodeFileSystemRouter: Parameters<typeof tf.io.registerSaveRouter>[0];
    };
    if (tf.io.getSaveHandlers('file:///x').length === 0) {
      tf.io.registerSaveRouter(fsIo.nodeFileSystemRouter);
      tf.io.registerLoadRouter(fsIo.nodeFileSystemRouter);
    }
  } catch {
    /* tfjs-node missing: no file:// IO */
  }
  if (!tf.setBackend('cpu')) throw new TfBackendError('could not initialise the tfjs cpu backend');
  return tf;
}

interface NativeBackendLike {
  binding?: { TF_Version?: string };
  isUsingGpuDevice?: boolean;
}

function describe(
  tf: TensorFlow,
  device: TfDevice,
  purpose: TfPurpose,
  decision: BackendDecision,
  facts: SystemFacts,
): TfRuntimeInfo {
  const backend = tf.getBackend();
  const tfjsVersion = tf.version.tfjs;
  if (decision.kind === 'native') {
    const b = tf.backend() as unknown as NativeBackendLike;
    const usingGpu = b.isUsingGpuDevice === true;
    return {
      backend,
      kind: 'native',
      device,
      purpose,
      npmPackage: decision.npmPackage,
      tfjsVersion,
      nativeTensorFlowVersion: b.binding?.TF_Version ?? null,
      nativeSource: facts.addons[decision.device].source,
      devices: usingGpu ? ['GPU:0', `CPU:0 (${cpus().length} cores)`] : [`CPU:0 (${cpus().length} cores)`],
    };
  }
  return {
    backend,
    kind: 'pure-js',
    device,
    purpose,
    npmPackage: '@tensorflow/tfjs',
    tfjsVersion,
    nativeTensorFlowVersion: null,
    devices: ['CPU (JavaScript, single thread)'],
    reason: decision.reason,
  };
}
