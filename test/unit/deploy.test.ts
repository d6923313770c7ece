/**
 * deploy/ runs the worker as src/config.ts reads it. No container engine runs here, so this checks
 * what can be checked without one: every manifest and the compose file parse, and the env, ports,
 * probes, drain times and task queues they give each role are the worker's own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadWorkerConfig, WORKER_ENV_NAMES, WORKER_ROLES, type WorkerConfig } from '../../src/config';
import { searchAttributes } from '../../src/contract';
import { DEFAULT_TASK_QUEUE } from '../../src/defaults';

const REPO = join(__dirname, '..', '..');
const DEPLOY = join(REPO, 'deploy');

/** The roles deploy/ runs, each in its own Deployment, ScaledObject and compose service. */
const ROLES = ['workflows', 'model', 'tools'] as const;
type Role = (typeof ROLES)[number];

// ---- reading YAML ----

function yamlFiles(): string[] {
  return readdirSync(DEPLOY, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
}

/** Every document of a file (multi-document files included), as plain values; a parse error throws. */
function documents(file: string): unknown[] {
  const parsed = parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'), { merge: true });
  return parsed.map((document) => {
    const [error] = document.errors;
    if (error) throw new Error(`${file}: ${error.message}`);
    return document.toJS() as unknown;
  });
}

// ---- Kubernetes and KEDA ----

interface Metadata {
  name: string;
  annotations?: Record<string, string>;
}
interface KeyRef {
  name: string;
  key: string;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef };
}
interface Probe {
  httpGet: { path: string; port: number | string };
}
interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
interface Deployment {
  kind: 'Deployment';
  metadata: Metadata;
  spec: {
    template: {
      metadata: Metadata;
      spec: {
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
      };
    };
  };
}
interface ConfigMap {
  kind: 'ConfigMap';
  metadata: Metadata;
  data: Record<string, string>;
}
interface Secret {
  kind: 'Secret';
  metadata: Metadata;
  stringData: Record<string, string>;
}
interface Trigger {
  type: string;
  metadata: Record<string, string>;
  authenticationRef?: { name: string };
}
interface ScaledObject {
  kind: 'ScaledObject';
  metadata: Metadata;
  spec: { scaleTargetRef: { name: string }; minReplicaCount?: number; triggers: Trigger[] };
}
interface TriggerAuthentication {
  kind: 'TriggerAuthentication';
  metadata: Metadata;
  spec: { secretTargetRef: { parameter: string; name: string; key: string }[] };
}
type KubernetesObject = Deployment | ConfigMap | Secret | ScaledObject | TriggerAuthentication;

const kubernetesFiles = () => yamlFiles().filter((file) => /^(k8s|keda)\//.test(file));

function objectsIn(file: string): KubernetesObject[] {
  return documents(file) as KubernetesObject[];
}

function objectOf<K extends KubernetesObject['kind']>(kind: K, name: string): Extract<KubernetesObject, { kind: K }> {
  const found = kubernetesFiles()
    .flatMap(objectsIn)
    .filter((object) => object.kind === kind && object.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name} in deploy/, found ${found.length}`);
  return found[0] as Extract<KubernetesObject, { kind: K }>;
}

/** The one object of `kind` in a file. */
function onlyOf<K extends KubernetesObject['kind']>(file: string, kind: K): Extract<KubernetesObject, { kind: K }> {
  const found = objectsIn(file).filter((object) => object.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} in ${file}, found ${found.length}`);
  return found[0] as Extract<KubernetesObject, { kind: K }>;
}

const deploymentOf = (role: Role) => onlyOf(`k8s/worker-${role}.yaml`, 'Deployment');
const scaledObjectOf = (role: Role) => onlyOf(`keda/scaledobject-${role}.yaml`, 'ScaledObject');
const exampleSecret = () => onlyOf('k8s/secret.example.yaml', 'Secret');

function workerContainer(deployment: Deployment): Container {
  const container = deployment.spec.template.spec.containers.find(({ name }) => name === 'worker');
  if (!container) throw new Error(`${deployment.metadata.name} has no container named worker`);
  return container;
}

/** What a secret's value stands for in a resolved env: set, and not written in the manifests. */
const secretValue = ({ name, key }: KeyRef) => `<secret ${name}/${key}>`;

/** The worker container's env as Kubernetes resolves it: envFrom first, then env, which wins. */
function podEnv(role: Role): Record<string, string> {
  const container = workerContainer(deploymentOf(role));
  const env: Record<string, string> = {};
  for (const { configMapRef, secretRef } of container.envFrom ?? []) {
    if (configMapRef) Object.assign(env, objectOf('ConfigMap', configMapRef.name).data);
    if (secretRef) {
      for (const key of Object.keys(objectOf('Secret', secretRef.name).stringData)) {
        env[key] = secretValue({ name: secretRef.name, key });
      }
    }
  }
  for (const { name, value, valueFrom } of container.env ?? []) {
    if (value !== undefined) env[name] = value;
    else if (valueFrom?.secretKeyRef) env[name] = secretValue(valueFrom.secretKeyRef);
    else if (valueFrom?.configMapKeyRef) {
      const { name: map, key } = valueFrom.configMapKeyRef;
      env[name] = objectOf('ConfigMap', map).data[key];
    }
  }
  return env;
}

/** A probe's or annotation's port: a number, or the name of one of the container's ports. */
function portNumber(container: Container, port: number | string): number {
  if (typeof port === 'number' || /^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find(({ name }) => name === port);
  if (!named) throw new Error(`container ${container.name} has no port named ${port}`);
  return named.containerPort;
}

// ---- compose ----

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { test: string[] | string };
  stop_grace_period?: string;
  expose?: (string | number)[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const composeServices = () => (documents('compose.yaml')[0] as { services: Record<string, ComposeService> }).services;

function composeService(name: string): ComposeService {
  const service = composeServices()[name];
  if (!service) throw new Error(`compose.yaml has no service ${name}`);
  return service;
}

/** The services built from deploy/Dockerfile: the workers. */
const workerServiceNames = () =>
  Object.entries(composeServices())
    .filter(([, service]) => service.build?.dockerfile === 'deploy/Dockerfile')
    .map(([name]) => name)
    .sort();

/** A service's environment as written, before interpolation. */
function rawComposeEnv(service: ComposeService): Record<string, string> {
  const { environment = {} } = service;
  const entries = Array.isArray(environment)
    ? environment.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
    : Object.entries(environment).map(([name, value]) => [name, value === null ? '' : String(value)]);
  return Object.fromEntries(entries);
}

/** As compose interpolates it with nothing set in the shell: `${NAME:-default}` is the default, `$$` is `$`. */
const interpolate = (value: string) =>
  value.replace(/\$\$|\$\{\w+(?::?-([^}]*))?\}/g, (match, fallback: string | undefined) =>
    match === '$$' ? '$' : (fallback ?? ''),
  );

const composeEnv = (name: string) =>
  Object.fromEntries(
    Object.entries(rawComposeEnv(composeService(name))).map(([key, value]) => [key, interpolate(value)]),
  );

/** Compose durations: `45s`, `1m30s`, `500ms`. */
function seconds(duration: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000_001 };
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)];
  if (parts.map(([part]) => part).join('') !== duration) throw new Error(`not a duration: ${duration}`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * units[unit], 0);
}

// ---- the Dockerfile ----

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's stages, each its instructions (continuation lines joined, comments dropped). */
function dockerfileStages(): Instruction[][] {
  const lines = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of lines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

const finalStage = () => dockerfileStages().at(-1) ?? [];

/** The images the stages start from, `${ARG}`s replaced by their defaults (earlier stages by name excluded). */
function dockerfileBaseImages(): string[] {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const args = Object.fromEntries([...text.matchAll(/^ARG (\w+)=(\S+)$/gm)].map(([, name, value]) => [name, value]));
  const froms = [...text.matchAll(/^FROM (\S+)(?: AS (\w+))?$/gim)];
  const stageNames = froms.flatMap(([, , name]) => (name ? [name] : []));
  return froms
    .map(([, image]) => image.replace(/\$\{(\w+)\}/g, (_match, name: string) => args[name] ?? ''))
    .filter((image) => !stageNames.includes(image));
}

/** Pinned by digest, or tagged with a version down to the minor one (`16.10`, not `16`, `20-slim` or `latest`). */
const isPinned = (image: string) => /@sha256:[0-9a-f]{64}$/.test(image) || /:[^:/]*\d+\.\d+[^:/]*$/.test(image);

/** `ENV A=1 B=2` instructions of a stage, as one record. */
function dockerEnv(stage: Instruction[]): Record<string, string> {
  const pairs = stage
    .filter(({ keyword }) => keyword === 'ENV')
    .flatMap(({ args }) => [...args.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map(([, name, value]) => [name, value]));
  return Object.fromEntries(pairs);
}

// ---- what the worker makes of it ----

/** The configuration a worker with this env runs with (what `node dist/worker.js` reads). */
const configOf = (env: Record<string, string>): WorkerConfig => loadWorkerConfig(env);

function queueOf(config: WorkerConfig, role: Role): string {
  return { workflows: config.TASK_QUEUE, model: config.MODEL_TASK_QUEUE, tools: config.TOOL_TASK_QUEUE }[role];
}

const queues = (config: WorkerConfig) => ROLES.map((role) => queueOf(config, role));

const unknownNames = (names: string[]) => names.filter((name) => !WORKER_ENV_NAMES.includes(name));

/** The variables that hold secrets: the example secret's keys. */
const secretNames = () => Object.keys(exampleSecret().stringData);

describe('deploy/ parses', () => {
  it('has the manifests, the KEDA objects and the compose file', () => {
    expect(yamlFiles()).toEqual(
      expect.arrayContaining([
        'compose.yaml',
        'k8s/configmap.yaml',
        'k8s/secret.example.yaml',
        ...ROLES.map((role) => `k8s/worker-${role}.yaml`),
        ...ROLES.map((role) => `keda/scaledobject-${role}.yaml`),
      ]),
    );
  });

  it.each(yamlFiles())('%s parses, each document to a value', (file) => {
    const parsed = documents(file);
    expect(parsed.length).toBeGreaterThan(0);
    expect(parsed).not.toContain(null);
  });

  it('kustomization.yaml applies every manifest of k8s/ except the example secret', () => {
    const { resources } = documents('k8s/kustomization.yaml')[0] as { resources: string[] };
    const manifests = yamlFiles()
      .filter((file) => file.startsWith('k8s/') && !/kustomization|\.example\./.test(file))
      .map((file) => relative('k8s', file));
    expect([...resources].sort()).toEqual(manifests.sort());
  });
});

describe('each role, on Kubernetes', () => {
  it('runs only roles the worker knows', () => {
    expect(WORKER_ROLES).toEqual(expect.arrayContaining([...ROLES]));
  });

  it.each(ROLES)('the %s Deployment runs that role', (role) => {
    expect(podEnv(role).WORKER_ROLE).toBe(role);
  });

  it.each(ROLES)('the %s Deployment sets only variables the worker reads', (role) => {
    expect(unknownNames(Object.keys(podEnv(role)))).toEqual([]);
  });

  it.each(ROLES)("the %s Deployment's env is a valid worker configuration", (role) => {
    expect(() => configOf(podEnv(role))).not.toThrow();
  });

  it.each(ROLES)('the %s Deployment probes /healthz and /readyz on HEALTH_PORT', (role) => {
    const container = workerContainer(deploymentOf(role));
    const { HEALTH_PORT } = configOf(podEnv(role));
    const probe = (target?: Probe) => target && [target.httpGet.path, portNumber(container, target.httpGet.port)];
    expect({
      startup: probe(container.startupProbe),
      liveness: probe(container.livenessProbe),
      readiness: probe(container.readinessProbe),
    }).toEqual({
      startup: ['/healthz', HEALTH_PORT],
      liveness: ['/healthz', HEALTH_PORT],
      readiness: ['/readyz', HEALTH_PORT],
    });
  });

  it.each(ROLES)(
    'the %s Deployment names its health and metrics ports, open beyond loopback, and Prometheus scrapes the metrics one',
    (role) => {
      const deployment = deploymentOf(role);
      const container = workerContainer(deployment);
      const { HEALTH_PORT, METRICS_PORT, HEALTH_HOST, METRICS_HOST } = configOf(podEnv(role));
      expect(HEALTH_PORT).toBeDefined();
      expect(METRICS_PORT).toBeDefined();
      // The kubelet's probes and Prometheus come from outside the pod: loopback, the default, would refuse them.
      expect({ HEALTH_HOST, METRICS_HOST }).toEqual({ HEALTH_HOST: '0.0.0.0', METRICS_HOST: '0.0.0.0' });
      expect(portNumber(container, 'health')).toBe(HEALTH_PORT);
      expect(portNumber(container, 'metrics')).toBe(METRICS_PORT);
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(Number(annotations['prometheus.io/port'])).toBe(METRICS_PORT);
    },
  );

  it.each(ROLES)('the %s Deployment gives the worker longer than SHUTDOWN_GRACE_SECONDS to drain', (role) => {
    const { SHUTDOWN_GRACE_SECONDS } = configOf(podEnv(role));
    // Kubernetes' default is 30 s.
    const { terminationGracePeriodSeconds = 30 } = deploymentOf(role).spec.template.spec;
    expect(terminationGracePeriodSeconds).toBeGreaterThan(SHUTDOWN_GRACE_SECONDS);
  });

  it.each(ROLES)('the %s Deployment runs as a user other than root', (role) => {
    const { securityContext = {} } = deploymentOf(role).spec.template.spec;
    expect(securityContext.runAsNonRoot).toBe(true);
    expect(securityContext.runAsUser).not.toBe(0);
  });

  it('every role runs the same image', () => {
    const images = new Set(ROLES.map((role) => workerContainer(deploymentOf(role)).image));
    expect(images.size).toBe(1);
  });

  it('secrets come from the Secret, never written in a manifest', () => {
    const names = secretNames();
    expect(names).toEqual(expect.arrayContaining(['OPENAI_API_KEY', 'TEMPORAL_API_KEY', 'PAYLOAD_KEYS']));
    const configMaps = kubernetesFiles()
      .flatMap(objectsIn)
      .filter((object): object is ConfigMap => object.kind === 'ConfigMap');
    expect(configMaps.flatMap(({ data }) => Object.keys(data)).filter((key) => names.includes(key))).toEqual([]);
    const written = ROLES.flatMap((role) => workerContainer(deploymentOf(role)).env ?? []).filter(
      ({ name, value }) => names.includes(name) && value !== undefined,
    );
    expect(written).toEqual([]);
  });

  it('the secret holds only variables the worker reads', () => {
    expect(unknownNames(secretNames())).toEqual([]);
  });

  it('only the model role receives the model key', () => {
    const withKey = ROLES.filter((role) => podEnv(role).OPENAI_API_KEY !== undefined);
    expect(withKey).toEqual(['model']);
  });
});

describe('KEDA', () => {
  it.each(ROLES)("the %s ScaledObject scales that role's Deployment on the task queue it polls", (role) => {
    const scaled = scaledObjectOf(role);
    const config = configOf(podEnv(role));
    expect(scaled.spec.scaleTargetRef.name).toBe(deploymentOf(role).metadata.name);
    const temporal = scaled.spec.triggers.filter(({ type }) => type === 'temporal');
    expect(temporal.map(({ metadata }) => metadata)).toEqual([
      expect.objectContaining({
        taskQueue: queueOf(config, role),
        queueTypes: role === 'workflows' ? 'workflow' : 'activity',
        endpoint: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
      }),
    ]);
  });

  it.each(ROLES)('the %s ScaledObject authenticates with the API key the workers use', (role) => {
    const [trigger] = scaledObjectOf(role).spec.triggers.filter(({ type }) => type === 'temporal');
    const authentication = objectOf('TriggerAuthentication', trigger.authenticationRef?.name ?? '(none)');
    const apiKey = authentication.spec.secretTargetRef.find(({ parameter }) => parameter === 'apiKey');
    expect(apiKey && secretValue(apiKey)).toBe(podEnv(role).TEMPORAL_API_KEY);
  });

  it('scales the tools role to zero, and keeps the others running', () => {
    const minimum = Object.fromEntries(ROLES.map((role) => [role, scaledObjectOf(role).spec.minReplicaCount ?? 1]));
    expect(minimum).toEqual({ workflows: expect.any(Number), model: expect.any(Number), tools: 0 });
    expect(minimum.workflows).toBeGreaterThan(0);
    expect(minimum.model).toBeGreaterThan(0);
  });
});

describe('the compose fleet', () => {
  it('runs one worker service per role, and no other', () => {
    expect(workerServiceNames()).toEqual(ROLES.map((role) => `worker-${role}`).sort());
  });

  it.each(ROLES)('worker-%s runs that role', (role) => {
    expect(composeEnv(`worker-${role}`).WORKER_ROLE).toBe(role);
  });

  it.each(ROLES)('worker-%s sets only variables the worker reads, to a valid configuration', (role) => {
    const env = composeEnv(`worker-${role}`);
    expect(unknownNames(Object.keys(env))).toEqual([]);
    expect(() => configOf(env)).not.toThrow();
  });

  it.each(ROLES)('worker-%s is built from the repository root', (role) => {
    const { build } = composeService(`worker-${role}`);
    expect(build && resolve(DEPLOY, build.context)).toBe(REPO);
  });

  it.each(ROLES)('worker-%s checks /readyz on HEALTH_PORT and exposes its ports, open beyond loopback', (role) => {
    const service = composeService(`worker-${role}`);
    const { HEALTH_PORT, METRICS_PORT, HEALTH_HOST, METRICS_HOST } = configOf(composeEnv(`worker-${role}`));
    // A scraper on the compose network comes from outside the container.
    expect({ HEALTH_HOST, METRICS_HOST }).toEqual({ HEALTH_HOST: '0.0.0.0', METRICS_HOST: '0.0.0.0' });
    const test = [service.healthcheck?.test ?? []].flat().join(' ');
    expect(test).toContain('/readyz');
    expect(test).toContain('process.env.HEALTH_PORT');
    expect((service.expose ?? []).map(Number)).toEqual(expect.arrayContaining([HEALTH_PORT, METRICS_PORT]));
  });

  it.each(ROLES)('worker-%s gets longer than SHUTDOWN_GRACE_SECONDS to drain', (role) => {
    const { SHUTDOWN_GRACE_SECONDS } = configOf(composeEnv(`worker-${role}`));
    // Docker's default is 10 s.
    expect(seconds(composeService(`worker-${role}`).stop_grace_period ?? '10s')).toBeGreaterThan(
      SHUTDOWN_GRACE_SECONDS,
    );
  });

  it('takes secrets from the shell, never writes them', () => {
    const names = secretNames();
    const written = workerServiceNames().flatMap((service) =>
      Object.entries(rawComposeEnv(composeService(service)))
        .filter(([name, value]) => names.includes(name) && !/^\$\{\w+(:?-)?\}$/.test(value))
        .map(([name, value]) => `${service}: ${name}=${value}`),
    );
    expect(written).toEqual([]);
  });

  it('gives the model key to the model role only', () => {
    const withKey = workerServiceNames().filter((service) => composeEnv(service).OPENAI_API_KEY !== undefined);
    expect(withKey).toEqual(['worker-model']);
  });

  it('runs Temporal on PostgreSQL with the Web UI on port 8233', () => {
    expect(composeService('postgresql').image).toMatch(/^postgres:/);
    expect(composeEnv('temporal').DB).toBe('postgres12');
    expect(composeService('temporal-ui').ports).toContain('8233:8080');
  });

  it("registers exactly the contract's search attributes before any worker starts", () => {
    const expected = Object.values(searchAttributes)
      .map(({ name, type }) => `${name}=${cliTypeName(type)}`)
      .sort();
    expect(composeEnv('temporal-setup').SEARCH_ATTRIBUTES.split(/\s+/).sort()).toEqual(expected);
    for (const service of workerServiceNames()) {
      expect(composeService(service).depends_on?.['temporal-setup']).toEqual({
        condition: 'service_completed_successfully',
      });
    }
  });

  it('pins every image it pulls to a version', () => {
    const pulled = Object.values(composeServices())
      .filter(({ build }) => !build)
      .map(({ image }) => image ?? '(no image)');
    expect(pulled.length).toBeGreaterThan(0);
    expect(pulled.filter((image) => !isPinned(image))).toEqual([]);
  });
});

describe('one fleet', () => {
  it("Kubernetes and compose workers agree on the task queues, the workflow queue being the clients' default", () => {
    const fleets = [
      ...ROLES.map((role) => queues(configOf(podEnv(role)))),
      ...workerServiceNames().map((service) => queues(configOf(composeEnv(service)))),
    ];
    expect(fleets.length).toBe(2 * ROLES.length);
    for (const fleet of fleets) expect(fleet).toEqual(fleets[0]);
    expect(fleets[0][0]).toBe(DEFAULT_TASK_QUEUE);
    expect(new Set(fleets[0]).size).toBe(ROLES.length);
  });
});

describe('the Dockerfile', () => {
  it('starts from a pinned base image', () => {
    const bases = dockerfileBaseImages();
    expect(bases.length).toBeGreaterThan(0);
    expect(bases.filter((image) => !isPinned(image))).toEqual([]);
  });

  it('builds in one stage and runs from another, which copies the compiled dist/', () => {
    const stages = dockerfileStages();
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const copies = finalStage().filter(({ keyword, args }) => keyword === 'COPY' && args.startsWith('--from='));
    expect(copies.map(({ args }) => args)).toEqual(expect.arrayContaining([expect.stringMatching(/ \/app\/dist /)]));
  });

  it('runs as a user other than root', () => {
    const users = finalStage().filter(({ keyword }) => keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)?.args.split(':')[0];
    expect(user).not.toMatch(/^(root|0)$/);
  });

  it('runs the compiled worker', () => {
    const commands = finalStage().filter(({ keyword }) => keyword === 'CMD');
    expect(commands.map(({ args }) => JSON.parse(args) as string[])).toEqual([['node', 'dist/worker.js']]);
  });

  it('sets only variables the worker reads (and NODE_ENV), with the ports and listen addresses the manifests use', () => {
    const env = dockerEnv(finalStage());
    expect(unknownNames(Object.keys(env).filter((name) => name !== 'NODE_ENV'))).toEqual([]);
    const { HEALTH_PORT, METRICS_PORT, HEALTH_HOST, METRICS_HOST, WORKFLOW_BUNDLE } = configOf(podEnv('workflows'));
    expect(configOf(env)).toMatchObject({ HEALTH_PORT, METRICS_PORT, HEALTH_HOST, METRICS_HOST, WORKFLOW_BUNDLE });
    const exposed = finalStage()
      .filter(({ keyword }) => keyword === 'EXPOSE')
      .flatMap(({ args }) => args.split(/\s+/).map(Number));
    expect(exposed).toEqual(expect.arrayContaining([HEALTH_PORT, METRICS_PORT]));
  });
});

/** The `temporal` CLI's name of a search attribute type (`KEYWORD` → `Keyword`, `KEYWORD_LIST` → `KeywordList`). */
function cliTypeName(type: string): string {
  return type
    .toLowerCase()
    .split('_')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
}
