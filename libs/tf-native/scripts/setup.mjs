#!/usr/bin/env node
// Set-up for @reco/tf-native: provides TensorFlow's official shared libraries
// (libtensorflow_cc.so.2 + libtensorflow_framework.so.2 + C API headers) from
// the PyPI wheel pinned in ../tf-native.lock.json, builds tfjs-node's native
// addon against them with node-gyp (no Node header download), and places both
// where @tensorflow/tfjs-node(-gpu) looks for them:
//   <pkg>/lib/napi-v<N>/tfjs_binding.node   (found by @mapbox/node-pre-gyp `find`)
//   <pkg>/deps/lib/libtensorflow*.so.2      (the addon's RUNPATH: $ORIGIN/../../deps/lib)
//   <pkg>/deps/nvidia/<lib>/lib/*           (GPU only: libtensorflow's own RUNPATH
//                                            $ORIGIN/../nvidia/<lib>/lib)
// Idempotent: downloads, extractions and builds are cached under
// <repo>/.cache/tf-native (or $RECO_CACHE_DIR/tf-native); a second run only
// checks a stamp and takes well under a second.
//
// Usage: node scripts/setup.mjs [--device=cpu|gpu] [--force] [--no-verify] [--cuda=pip|system]
//   RECO_TF_DEVICE=gpu     also set up @tensorflow/tfjs-node-gpu (the cpu variant is always set up)
//   RECO_TF_CUDA=system    GPU: use the machine's CUDA/cuDNN instead of the pinned nvidia-* wheels
//   RECO_CACHE_DIR=/dir    cache root (default <repo>/.cache)
//   RECO_TF_WHEELHOUSE=/d  folder with the pinned wheels already downloaded (offline install)
//   RECO_TF_NODEDIR=/dir   Node headers dir for node-gyp (default: auto-detected, never downloaded;
//                          'node-api-headers' = use the npm package node-api-headers)
//
// pnpm hard-links package files from its store: this script never writes into an
// existing file of a package; it only adds new files, and replaces its own files
// by unlink-then-create.

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const STAMP_NAME = 'reco-tf-native.json';
const STAMP_SCHEMA = 1;
const here = dirname(fileURLToPath(import.meta.url));
const pkgRoot = resolve(here, '..');
const lock = JSON.parse(readFileSync(join(pkgRoot, 'tf-native.lock.json'), 'utf8'));
const t0 = Date.now();

// ---------------------------------------------------------------- options
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const opt = (name) => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? undefined : hit.slice(name.length + 3);
};
if (flag('help')) {
  console.log(
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(1, 25)
      .join('\n'),
  );
  process.exit(0);
}
const device = (opt('device') ?? process.env.RECO_TF_DEVICE ?? 'cpu').trim().toLowerCase() || 'cpu';
if (device !== 'cpu' && device !== 'gpu') fail(`RECO_TF_DEVICE/--device must be cpu or gpu, got "${device}"`);
const cudaSource = (opt('cuda') ?? process.env.RECO_TF_CUDA ?? 'pip').trim().toLowerCase();
if (cudaSource !== 'pip' && cudaSource !== 'system')
  fail(`RECO_TF_CUDA/--cuda must be pip or system, got "${cudaSource}"`);
const force = flag('force');
const verify = !flag('no-verify');
const variants = device === 'gpu' ? ['cpu', 'gpu'] : ['cpu'];

const repoRoot = findRepoRoot(pkgRoot);
const cacheRoot = resolve(
  process.env.RECO_CACHE_DIR ? resolve(process.env.RECO_CACHE_DIR) : join(repoRoot, '.cache'),
  'tf-native',
);
const dirs = {
  downloads: join(cacheRoot, 'downloads'),
  tf: join(cacheRoot, 'tf'),
  addon: join(cacheRoot, 'addon'),
  build: join(cacheRoot, 'build'),
};

function log(msg) {
  const s = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
  console.log(`[tf-native ${s}s] ${msg}`);
}
function fail(msg) {
  console.error(`[tf-native] ERROR: ${msg}`);
  process.exit(1);
}
function findRepoRoot(start) {
  let d = start;
  for (;;) {
    if (existsSync(join(d, 'pnpm-workspace.yaml'))) return d;
    const up = dirname(d);
    if (up === d) return resolve(start, '..', '..');
    d = up;
  }
}
function run(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', ...options });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${cmdArgs.join(' ')} exited with ${r.status}`);
  return r;
}
async function sha256File(path) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest('hex');
}
function sha256Text(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
/** Replace `dest` with `src`'s content without ever writing into an existing file. */
function placeFile(src, dest) {
  mkdirSync(dirname(dest), { recursive: true });
  if (existsSync(dest)) {
    const a = statSync(src);
    const b = lstatSync(dest);
    if (a.ino === b.ino && a.dev === b.dev) return;
    unlinkSync(dest);
  } else {
    try {
      lstatSync(dest); // dangling symlink
      unlinkSync(dest);
    } catch {
      /* absent */
    }
  }
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}
function listFiles(root) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (lstatSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

// ------------------------------------------------------------ wheels (PyPI)
function pipPlatformArgs() {
  const a = ['--only-binary=:all:', '--no-deps', '--python-version', lock.pythonTag.pythonVersion];
  for (const p of lock.pythonTag.platforms) a.push('--platform', p);
  return a;
}
function findPython() {
  for (const py of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    const r = spawnSync(py, ['-m', 'pip', '--version'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  fail(
    'pip is needed to download the pinned TensorFlow wheel (python3 -m pip). Install python3-pip, or ' +
      'put the wheels listed in libs/tf-native/tf-native.lock.json into RECO_TF_WHEELHOUSE (see docs/native-tensorflow.md).',
  );
}
/** Ensures every pinned wheel is in the download cache with the pinned sha256. */
async function ensureWheels(pins) {
  mkdirSync(dirs.downloads, { recursive: true });
  const missing = [];
  for (const pin of pins) {
    const path = join(dirs.downloads, pin.file);
    if (existsSync(path) && (await verifiedWheel(pin, path))) continue;
    const house = process.env.RECO_TF_WHEELHOUSE;
    if (house && existsSync(join(house, pin.file))) {
      log(`copying ${pin.file} from RECO_TF_WHEELHOUSE`);
      copyFileSync(join(house, pin.file), `${path}.part`);
      renameSync(`${path}.part`, path);
      if (await verifiedWheel(pin, path)) continue;
    }
    missing.push(pin);
  }
  if (missing.length === 0) return;
  const py = findPython();
  const tmp = join(dirs.downloads, `.pip-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const req = join(tmp, 'requirements.txt');
  writeFileSync(req, missing.map((p) => `${p.project}==${p.version} --hash=sha256:${p.sha256}\n`).join(''));
  log(`downloading from PyPI with pip: ${missing.map((p) => `${p.project}==${p.version}`).join(', ')}`);
  run(py, [
    '-m',
    'pip',
    'download',
    '--no-cache-dir',
    '--disable-pip-version-check',
    '--progress-bar',
    'off',
    ...pipPlatformArgs(),
    '--require-hashes',
    '-r',
    req,
    '-d',
    tmp,
  ]);
  for (const pin of missing) {
    const got = join(tmp, pin.file);
    if (!existsSync(got)) fail(`pip did not produce ${pin.file} (got: ${readdirSync(tmp).join(', ')})`);
    const path = join(dirs.downloads, pin.file);
    rmSync(path, { force: true });
    renameSync(got, path);
    if (!(await verifiedWheel(pin, path))) fail(`sha256 mismatch for ${pin.file}`);
  }
  rmSync(tmp, { recursive: true, force: true });
}
/** sha256 check, remembered in <file>.verified (keyed by size+mtime) so re-runs don't re-hash. */
async function verifiedWheel(pin, path) {
  const st = statSync(path);
  const marker = `${path}.verified`;
  const key = `${st.size}:${st.mtimeMs}:${pin.sha256}`;
  if (existsSync(marker) && readFileSync(marker, 'utf8') === key) return true;
  log(`verifying sha256 of ${pin.file}`);
  const got = await sha256File(path);
  if (got !== pin.sha256) {
    log(`sha256 MISMATCH for ${pin.file}: expected ${pin.sha256}, got ${got}; discarding it`);
    rmSync(path, { force: true });
    rmSync(marker, { force: true });
    return false;
  }
  writeFileSync(marker, key);
  return true;
}

// ---------------------------------------------------------------- extract
const EXTRACT_PY = String.raw`
import sys, zipfile, os, json
wheel, dest, rules = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.is_dir():
            continue
        name = info.filename
        for rule in rules:
            if name.startswith(rule["prefix"]) and not any(x in name for x in rule.get("exclude", [])):
                out = os.path.join(dest, rule["to"] + name[len(rule["strip"]):])
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with z.open(info) as src, open(out, "wb") as dst:
                    while True:
                        b = src.read(1 << 22)
                        if not b:
                            break
                        dst.write(b)
                mode = (info.external_attr >> 16) & 0o777
                os.chmod(out, mode if mode else 0o644)
                n += 1
                break
print(n)
`;
function extract(py, wheelPath, dest, rules) {
  const r = spawnSync(py, ['-c', EXTRACT_PY, wheelPath, dest, JSON.stringify(rules)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) fail(`extracting ${wheelPath} failed`);
  return Number(r.stdout.trim());
}
const TF_RULES = [
  { prefix: 'tensorflow/libtensorflow_cc.so.2', strip: 'tensorflow/', to: 'lib/' },
  { prefix: 'tensorflow/libtensorflow_framework.so.2', strip: 'tensorflow/', to: 'lib/' },
  // The C API headers and what they include (checked by the compile).
  { prefix: 'tensorflow/include/tensorflow/c/', strip: 'tensorflow/include/', to: 'include/' },
  {
    prefix: 'tensorflow/include/tensorflow/core/platform/ctstring',
    strip: 'tensorflow/include/',
    to: 'include/',
  },
  { prefix: 'tensorflow/include/tsl/platform/ctstring', strip: 'tensorflow/include/', to: 'include/' },
  { prefix: 'tensorflow/include/tsl/c/', strip: 'tensorflow/include/', to: 'include/' },
  { prefix: 'tensorflow/include/xla/tsl/c/', strip: 'tensorflow/include/', to: 'include/' },
  { prefix: 'tensorflow/include/LICENSE', strip: 'tensorflow/include/', to: 'include/' },
];
const CUDA_RULES = [
  {
    prefix: 'nvidia/',
    strip: 'nvidia/',
    to: 'nvidia/',
    exclude: ['/include/', '__init__.py', '__pycache__'],
  },
];

/** Extracts the TF libs + headers (and for GPU the CUDA wheels) once into the cache. */
function cudaPinsFor(name, v) {
  return name === 'gpu' && cudaSource === 'pip' ? v.cuda : [];
}
function tfIdFor(name, v) {
  const cudaPins = cudaPinsFor(name, v);
  return `${v.tensorflow.project}-${v.tensorflow.version}${cudaPins.length ? `+cuda-${sha256Text(JSON.stringify(cudaPins)).slice(0, 10)}` : ''}`;
}
async function ensureTensorFlow(name, v) {
  const cudaPins = cudaPinsFor(name, v);
  const id = tfIdFor(name, v);
  const dest = join(dirs.tf, id);
  const doneMarker = join(dest, '.complete');
  if (!force && existsSync(doneMarker)) return { dir: dest, id };
  await ensureWheels([v.tensorflow, ...cudaPins]);
  const py = findPython();
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`extracting ${v.tensorflow.file}`);
  const n = extract(py, join(dirs.downloads, v.tensorflow.file), tmp, TF_RULES);
  for (const lib of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    if (!existsSync(join(tmp, 'lib', lib))) fail(`${v.tensorflow.file} has no tensorflow/${lib}`);
  }
  if (!existsSync(join(tmp, 'include/tensorflow/c/c_api.h')))
    fail(`${v.tensorflow.file} has no C API headers`);
  log(`  ${n} files`);
  for (const pin of cudaPins) {
    log(`extracting ${pin.file}`);
    extract(py, join(dirs.downloads, pin.file), tmp, CUDA_RULES);
  }
  writeFileSync(
    join(tmp, '.complete'),
    JSON.stringify({ tensorflow: v.tensorflow, cuda: cudaPins }, null, 2),
  );
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dirname(dest), { recursive: true });
  renameSync(tmp, dest);
  return { dir: dest, id };
}

// ------------------------------------------------------------ node headers
/** A Node headers dir for node-gyp --nodedir; never downloaded. */
function findNodeDir() {
  const forceFallback = process.env.RECO_TF_NODEDIR === 'node-api-headers';
  const ok = (d) =>
    d && existsSync(join(d, 'include/node/common.gypi')) && existsSync(join(d, 'include/node/node_api.h'));
  const candidates = [
    process.env.RECO_TF_NODEDIR,
    resolve(dirname(process.execPath), '..'), // node's own install prefix (nodejs.org tarballs, nvm, Debian /usr)
    '/usr',
    '/usr/local',
  ];
  for (const c of forceFallback ? [] : candidates)
    if (ok(c))
      return { dir: c, how: c === process.env.RECO_TF_NODEDIR ? 'RECO_TF_NODEDIR' : 'installed headers' };
  // Fallback: N-API headers from the npm package node-api-headers plus a minimal
  // common.gypi; tfjs-node uses N-API only, so this is enough.
  const req = createRequire(join(pkgRoot, 'package.json'));
  let inc;
  try {
    inc = req('node-api-headers').include_dir;
  } catch {
    fail(
      'no Node headers found (looked in RECO_TF_NODEDIR, node prefix, /usr, /usr/local) and node-api-headers is not installed: run pnpm install',
    );
  }
  const dir = join(cacheRoot, 'nodedir', `node-api-headers-${req('node-api-headers/package.json').version}`);
  if (!ok(dir)) {
    mkdirSync(join(dir, 'include/node'), { recursive: true });
    for (const f of readdirSync(inc)) copyFileSync(join(inc, f), join(dir, 'include/node', f));
    writeFileSync(join(dir, 'include/node/config.gypi'), "{ 'target_defaults': {}, 'variables': {} }\n");
    writeFileSync(
      join(dir, 'include/node/common.gypi'),
      `{ 'variables': { 'node_shared': 'true', 'node_module_version': '', 'node_use_openssl': 'false', 'clang': 0 },
  'target_defaults': { 'default_configuration': 'Release',
    'configurations': { 'Release': { 'cflags': ['-O3'], 'cflags_cc': ['-O3'] }, 'Debug': { 'cflags': ['-g', '-O0'] } },
    'cflags': ['-pthread', '-Wall', '-Wextra', '-Wno-unused-parameter', '-fPIC'],
    'cflags_cc': ['-fno-rtti', '-fno-exceptions', '-std=gnu++17'],
    'ldflags': ['-pthread', '-rdynamic'] } }\n`,
    );
  }
  return { dir, how: 'node-api-headers' };
}

// ------------------------------------------------------------ npm package
function locatePackage(npmName) {
  const req = createRequire(join(pkgRoot, 'package.json'));
  let pj;
  try {
    pj = realpathSync(req.resolve(`${npmName}/package.json`));
  } catch {
    fail(`${npmName} is not installed: run \`pnpm install\` at the repo root first`);
  }
  const dir = dirname(pj);
  const meta = JSON.parse(readFileSync(pj, 'utf8'));
  if (meta.version !== lock.tfjsNode)
    fail(`${npmName} is ${meta.version}, tf-native.lock.json pins ${lock.tfjsNode}`);
  // Ask node-pre-gyp (what tfjs-node's dist/index.js uses) where it will look.
  const preGyp = createRequire(pj)('@mapbox/node-pre-gyp');
  const addonPath = preGyp.find(pj);
  const m = /napi-v(\d+)/.exec(addonPath);
  if (!m) fail(`unexpected addon path from node-pre-gyp: ${addonPath}`);
  const sourcesHash = sha256Text(
    readFileSync(join(dir, 'binding.gyp')),
    ...readdirSync(join(dir, 'binding'))
      .sort()
      .map((f) => readFileSync(join(dir, 'binding', f))),
  ).slice(0, 12);
  return { dir, version: meta.version, addonPath, napi: Number(m[1]), sourcesHash };
}

// ------------------------------------------------------------ build addon
function addonKeyFor(v, pkg) {
  return `${v.npmPackage.replace('@', '').replace('/', '+')}-${pkg.version}_${v.tensorflow.project}-${v.tensorflow.version}_napi${pkg.napi}_${pkg.sourcesHash}`;
}
function ensureAddon(name, v, pkg, tf) {
  const key = addonKeyFor(v, pkg);
  const out = join(dirs.addon, key, 'tfjs_binding.node');
  if (!force && existsSync(out)) return { path: out, key };
  const nodeDir = findNodeDir();
  const build = join(dirs.build, key);
  rmSync(build, { recursive: true, force: true });
  mkdirSync(join(build, 'deps', 'lib'), { recursive: true });
  copyFileSync(join(pkg.dir, 'binding.gyp'), join(build, 'binding.gyp'));
  mkdirSync(join(build, 'binding'));
  for (const f of readdirSync(join(pkg.dir, 'binding')))
    copyFileSync(join(pkg.dir, 'binding', f), join(build, 'binding', f));
  symlinkSync(join(tf.dir, 'include'), join(build, 'deps', 'include'));
  // binding.gyp links -ltensorflow -ltensorflow_framework; the DT_NEEDED entries
  // become the real sonames (libtensorflow_cc.so.2, libtensorflow_framework.so.2).
  symlinkSync(join(tf.dir, 'lib', 'libtensorflow_cc.so.2'), join(build, 'deps', 'lib', 'libtensorflow.so'));
  symlinkSync(
    join(tf.dir, 'lib', 'libtensorflow_framework.so.2'),
    join(build, 'deps', 'lib', 'libtensorflow_framework.so'),
  );
  const req = createRequire(join(pkgRoot, 'package.json'));
  let gyp;
  try {
    gyp = req.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    fail('node-gyp is not installed (devDependency of @reco/tf-native): run `pnpm install`');
  }
  log(
    `building ${v.npmPackage} addon (napi-v${pkg.napi}) against ${v.tensorflow.project} ${v.tensorflow.version}; node headers: ${nodeDir.dir} (${nodeDir.how})`,
  );
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (/^npm_config_(nodedir|dist_url|disturl|tarball)$/i.test(k)) delete env[k];
  run(
    process.execPath,
    [
      gyp,
      'rebuild',
      `--nodedir=${nodeDir.dir}`,
      `--jobs=${Math.max(1, cpus().length)}`,
      '--',
      '-Dmodule_name=tfjs_binding',
      `-Dmodule_path=${join(build, 'out')}`,
      `-Dnapi_build_version=${pkg.napi}`,
    ],
    { cwd: build, env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const built = join(build, 'build', 'Release', 'tfjs_binding.node');
  if (!existsSync(built)) fail(`node-gyp produced no ${built}`);
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(built, `${out}.part`);
  renameSync(`${out}.part`, out);
  rmSync(build, { recursive: true, force: true });
  return { path: out, key };
}

// ------------------------------------------------------------ install
function expectedStamp(name, v, pkg, tf, addonKey) {
  return {
    schema: STAMP_SCHEMA,
    variant: name,
    npmPackage: v.npmPackage,
    tfjsNode: pkg.version,
    napi: pkg.napi,
    tensorflow: v.tensorflow,
    cuda:
      name === 'gpu'
        ? cudaSource === 'pip'
          ? v.cuda.map((c) => `${c.project}==${c.version}`)
          : 'system'
        : [],
    tfDir: tf.id,
    addon: addonKey,
  };
}
function stampIsCurrent(pkg, stamp) {
  const cur = readJson(join(pkg.dir, 'deps', STAMP_NAME));
  if (!cur) return false;
  const { files, installedAt: _installedAt, ...rest } = cur;
  if (JSON.stringify(rest) !== JSON.stringify(stamp)) return false;
  for (const [rel, size] of Object.entries(files ?? {})) {
    try {
      if (statSync(join(pkg.dir, rel)).size !== size) return false;
    } catch {
      return false;
    }
  }
  return existsSync(pkg.addonPath);
}
function install(pkg, tf, addon) {
  const files = {};
  const put = (src, rel) => {
    placeFile(src, join(pkg.dir, rel));
    files[rel] = statSync(src).size;
  };
  put(join(tf.dir, 'lib', 'libtensorflow_cc.so.2'), 'deps/lib/libtensorflow_cc.so.2');
  put(join(tf.dir, 'lib', 'libtensorflow_framework.so.2'), 'deps/lib/libtensorflow_framework.so.2');
  const nv = join(tf.dir, 'nvidia');
  // Our own folder: drop CUDA libraries of an earlier set-up (e.g. pip -> system CUDA).
  rmSync(join(pkg.dir, 'deps', 'nvidia'), { recursive: true, force: true });
  for (const f of listFiles(nv)) put(f, join('deps', 'nvidia', relative(nv, f)));
  put(addon.path, relative(pkg.dir, pkg.addonPath));
  return files;
}
function writeStamp(pkg, stamp, files) {
  const stampPath = join(pkg.dir, 'deps', STAMP_NAME);
  rmSync(stampPath, { force: true });
  writeFileSync(
    stampPath,
    `${JSON.stringify({ ...stamp, installedAt: new Date().toISOString(), files }, null, 2)}\n`,
  );
}
function verifyLoad(v) {
  const code = `
    process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL || '2';
    const tf = require(${JSON.stringify(v.npmPackage)});
    const b = tf.backend();
    const y = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).sum().dataSync()[0]);
    console.log(JSON.stringify({ backend: tf.getBackend(), tf: b.binding.TF_Version, gpu: b.isUsingGpuDevice, y }));`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: pkgRoot, encoding: 'utf8' });
  const line = (r.stdout || '').trim().split('\n').pop() || '';
  let info;
  try {
    info = JSON.parse(line);
  } catch {
    fail(`loading ${v.npmPackage} failed:\n${r.stdout}\n${r.stderr}`);
  }
  if (info.backend !== 'tensorflow' || info.tf !== v.tensorflow.version || info.y !== 12) {
    fail(`${v.npmPackage} loaded but looks wrong: ${line}`);
  }
  log(
    `verified: require('${v.npmPackage}') -> backend ${info.backend}, TensorFlow ${info.tf}, GPU in use: ${info.gpu}`,
  );
}

// ------------------------------------------------------------ lock
/** One set-up at a time per cache (CI and a developer, or two terminals, may run it together). */
async function withLock(fn) {
  mkdirSync(cacheRoot, { recursive: true });
  const lockDir = join(cacheRoot, '.lock');
  const deadline = Date.now() + 30 * 60 * 1000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const pid = Number(readJson(join(lockDir, 'pid')) ?? 0);
      let alive = false;
      if (pid > 0) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch {
          alive = false;
        }
      }
      const age = Date.now() - statSync(lockDir).mtimeMs;
      if (!alive && age > 5000) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) fail(`another set-up holds ${lockDir} (pid ${pid}) for too long`);
      log(`waiting for another set-up (pid ${pid}) to finish`);
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------ main
function isCurrent(name) {
  const v = lock.variants[name];
  const pkg = locatePackage(v.npmPackage);
  const wanted = expectedStamp(name, v, pkg, { id: tfIdFor(name, v) }, addonKeyFor(v, pkg));
  if (force || !stampIsCurrent(pkg, wanted)) return false;
  log(
    `${v.npmPackage}: up to date (TensorFlow ${v.tensorflow.version} from PyPI ${v.tensorflow.project}; ${relative(repoRoot, pkg.addonPath)})`,
  );
  return true;
}

async function setUp(name) {
  const v = lock.variants[name];
  const pkg = locatePackage(v.npmPackage);
  log(
    `${v.npmPackage}: setting up TensorFlow ${v.tensorflow.version} (PyPI ${v.tensorflow.file}, sha256 ${v.tensorflow.sha256})`,
  );
  const stampPath = join(pkg.dir, 'deps', STAMP_NAME);
  rmSync(stampPath, { force: true });
  const tf = await ensureTensorFlow(name, v);
  const addon = ensureAddon(name, v, pkg, tf);
  const files = install(pkg, tf, addon);
  log(`${v.npmPackage}: installed ${relative(repoRoot, pkg.addonPath)} and deps/lib (cache: ${cacheRoot})`);
  if (verify) verifyLoad(v);
  writeStamp(pkg, expectedStamp(name, v, pkg, tf, addon.key), files);
}

// Fast path without the lock; the lock only around real work (re-checked inside it).
const todo = variants.filter((name) => !isCurrent(name));
if (todo.length > 0) {
  await withLock(async () => {
    for (const name of todo) if (force || !isCurrent(name)) await setUp(name);
  });
}
log('done');
