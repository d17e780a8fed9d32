// Pure backend-selection logic: no TensorFlow loaded here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  type AddonFacts,
  type BackendRequest,
  checkLoadedDevice,
  decideBackend,
  type GpuFacts,
  missingForGpu,
  readTfSettings,
  REQUIRED_CUDA_LIBRARIES,
  type SystemFacts,
  TfBackendError,
} from './decide';

const addon = (npmPackage: string, installed: boolean): AddonFacts => ({
  npmPackage,
  installed,
  problems: installed ? [] : [`/x/${npmPackage}/lib/napi-v8/tfjs_binding.node missing`],
});
const allCuda = Object.fromEntries(REQUIRED_CUDA_LIBRARIES.map((l) => [l, `/cuda/${l}`]));
const goodGpu: GpuFacts = {
  deviceFiles: ['/dev/nvidiactl', '/dev/nvidia0'],
  driverLibrary: '/usr/lib/x86_64-linux-gnu/libcuda.so.1',
  cudaLibraries: allCuda,
  searched: ['/usr/lib/x86_64-linux-gnu'],
};
const facts = (o: { cpu?: boolean; gpu?: boolean; gpuFacts?: GpuFacts } = {}): SystemFacts => ({
  platform: 'linux',
  arch: 'x64',
  addons: {
    cpu: addon('@tensorflow/tfjs-node', o.cpu ?? true),
    gpu: addon('@tensorflow/tfjs-node-gpu', o.gpu ?? true),
  },
  gpu: o.gpuFacts,
});
const req = (o: Partial<BackendRequest> = {}): BackendRequest => ({
  purpose: 'train',
  device: 'cpu',
  backend: 'native',
  allowPureJs: false,
  ...o,
});
const throwsBackendError = (fn: () => unknown, ...patterns: RegExp[]): TfBackendError => {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TfBackendError, `expected TfBackendError, got ${String(caught)}`);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
};

describe('readTfSettings', () => {
  it('defaults to native cpu, pure JS not allowed', () => {
    assert.deepEqual(readTfSettings({}), { device: 'cpu', backend: 'native', allowPureJs: false });
  });
  it('reads RECO_TF_DEVICE / RECO_TF_BACKEND / RECO_TF_ALLOW_PURE_JS', () => {
    assert.deepEqual(
      readTfSettings({ RECO_TF_DEVICE: 'GPU', RECO_TF_BACKEND: 'pure-js', RECO_TF_ALLOW_PURE_JS: '1' }),
      {
        device: 'gpu',
        backend: 'pure-js',
        allowPureJs: true,
      },
    );
    assert.equal(readTfSettings({ RECO_TF_ALLOW_PURE_JS: 'true' }).allowPureJs, true);
    assert.equal(readTfSettings({ RECO_TF_ALLOW_PURE_JS: '0' }).allowPureJs, false);
  });
  it('rejects unknown values instead of guessing', () => {
    throwsBackendError(
      () => readTfSettings({ RECO_TF_DEVICE: 'tpu' }),
      /RECO_TF_DEVICE must be "cpu" or "gpu", got "tpu"/,
    );
    throwsBackendError(() => readTfSettings({ RECO_TF_BACKEND: 'wasm' }), /RECO_TF_BACKEND/);
    throwsBackendError(() => readTfSettings({ RECO_TF_ALLOW_PURE_JS: 'maybe' }), /RECO_TF_ALLOW_PURE_JS/);
  });
});

describe('decideBackend: cpu', () => {
  it('uses native tfjs-node when its addon is installed', () => {
    assert.deepEqual(decideBackend(req(), facts()), {
      kind: 'native',
      device: 'cpu',
      npmPackage: '@tensorflow/tfjs-node',
    });
  });
  it('refuses to train on pure JS when the native addon is missing', () => {
    const e = throwsBackendError(
      () => decideBackend(req(), facts({ cpu: false })),
      /Refusing to train on the pure-JS/,
      /tfjs_binding\.node missing/,
      /RECO_TF_ALLOW_PURE_JS=1/,
      /pnpm --filter @reco\/tf-native run setup/,
    );
    assert.equal(e.missing.length, 1);
  });
  it('trains on pure JS only when explicitly allowed, with a warning', () => {
    const d = decideBackend(req({ allowPureJs: true }), facts({ cpu: false }));
    assert.equal(d.kind, 'pure-js');
    assert.ok(d.kind === 'pure-js' && d.warn);
  });
  it('serving falls back to pure JS with a warning when native is missing', () => {
    const d = decideBackend(req({ purpose: 'serve' }), facts({ cpu: false }));
    assert.ok(d.kind === 'pure-js' && d.warn && /not available/.test(d.reason));
  });
  it('forced pure JS: refused for training, fine for serving or when allowed', () => {
    throwsBackendError(
      () => decideBackend(req({ backend: 'pure-js' }), facts()),
      /Refusing to train on the pure-JS/,
      /RECO_TF_BACKEND=pure-js/,
    );
    assert.equal(decideBackend(req({ backend: 'pure-js', purpose: 'serve' }), facts()).kind, 'pure-js');
    assert.equal(decideBackend(req({ backend: 'pure-js', allowPureJs: true }), facts()).kind, 'pure-js');
  });
  it('rejects a bad purpose', () => {
    throwsBackendError(() => decideBackend(req({ purpose: 'eval' as never }), facts()), /purpose must be/);
  });
});

describe('decideBackend: gpu', () => {
  it('uses tfjs-node-gpu when the addon, device nodes, driver and CUDA libraries are all there', () => {
    assert.deepEqual(decideBackend(req({ device: 'gpu' }), facts({ gpuFacts: goodGpu })), {
      kind: 'native',
      device: 'gpu',
      npmPackage: '@tensorflow/tfjs-node-gpu',
    });
  });
  it('names every missing piece on a machine without a GPU', () => {
    const none: GpuFacts = {
      deviceFiles: [],
      driverLibrary: null,
      cudaLibraries: {},
      searched: ['/usr/lib/x86_64-linux-gnu'],
    };
    const e = throwsBackendError(
      () => decideBackend(req({ device: 'gpu', purpose: 'serve' }), facts({ gpu: false, gpuFacts: none })),
      /GPU requested \(RECO_TF_DEVICE=gpu\)/,
      /@tensorflow\/tfjs-node-gpu native addon not built/,
      /no NVIDIA device files \(\/dev\/nvidiactl/,
      /libcuda\.so\.1 not found/,
      /libcudart\.so\.12, libcublas\.so\.12, .*libcudnn\.so\.9/,
    );
    assert.equal(e.missing.length, 4);
  });
  it('names only the CUDA libraries that are missing', () => {
    const partial: GpuFacts = { ...goodGpu, cudaLibraries: { ...allCuda, 'libcudnn.so.9': null } };
    const missing = missingForGpu(facts({ gpuFacts: partial }));
    assert.equal(missing.length, 1);
    assert.match(missing[0], /CUDA\/cuDNN libraries not found: libcudnn\.so\.9 \(searched/);
    assert.doesNotMatch(missing[0], /libcudart/);
  });
  it('never falls back to CPU, even for serving or with pure JS allowed', () => {
    const noDev: GpuFacts = { ...goodGpu, deviceFiles: [] };
    throwsBackendError(
      () =>
        decideBackend(
          req({ device: 'gpu', purpose: 'serve', allowPureJs: true }),
          facts({ gpuFacts: noDev }),
        ),
      /no NVIDIA device files/,
    );
    throwsBackendError(
      () => decideBackend(req({ device: 'gpu', backend: 'pure-js', allowPureJs: true }), facts()),
      /pure-js cannot use a GPU/,
    );
  });
  it('a GPU build that registered no GPU device is an error', () => {
    throwsBackendError(() => checkLoadedDevice('gpu', false), /registered no GPU device/);
    checkLoadedDevice('gpu', true);
    checkLoadedDevice('cpu', false);
  });
});
