import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// The Kubernetes manifests (k8s/) and the env names every deployment file uses. The image
// and docker/compose.yaml are deploy.test.ts.

const root = new URL('../', import.meta.url).pathname;

test('k8s manifests only set environment variables the config schema knows', async () => {
  const { configSchema, envName } = await import('@tutti/config');
  const known = new Set<string>();
  const walk = (shape: Record<string, unknown>, path: string[]): void => {
    for (const [k, v] of Object.entries(shape)) {
      let s = v as { shape?: Record<string, unknown>; def?: { innerType?: unknown } };
      while (!s.shape && s.def?.innerType) s = s.def.innerType as typeof s;
      if (s.shape) walk(s.shape, [...path, k]);
      else known.add(envName([...path, k]));
    }
  };
  walk(configSchema.shape as Record<string, unknown>, []);
  const manifests = [
    ...readdirSync(`${root}k8s`)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `k8s/${f}`),
    'docker/Dockerfile',
    'docker/compose.yaml',
  ]
    .map((f) => readFileSync(`${root}${f}`, 'utf8'))
    .join('\n');
  // Build-time switches of media-workers/build and the config-file pointer are not settings.
  const buildTime = new Set([
    'TUTTI_CACHE_DIR',
    'TUTTI_SRTP',
    'TUTTI_KEEP_BUILD',
    'TUTTI_MEDIASOUP_DIR',
    'TUTTI_CONFIG',
  ]);
  const used = new Set(manifests.match(/TUTTI_[A-Z0-9_]+/g));
  for (const name of buildTime) used.delete(name);
  for (const name of used) assert.ok(known.has(name), `${name} is not a setting`);
});

// ---- Kubernetes: `kubectl kustomize k8s/` renders offline; every object is checked against
// the Kubernetes schemas (kubernetes-models) and against what a Tutti cluster needs.

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string } } & Record<
  string,
  unknown
>;
type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
};
type Container = {
  name: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
};
type PodSpec = {
  hostNetwork?: boolean;
  dnsPolicy?: string;
  terminationGracePeriodSeconds?: number;
  containers: Container[];
};
type Workload = K8sObject & {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

let rendered: K8sObject[] | undefined;
async function renderK8s(): Promise<K8sObject[]> {
  if (rendered) return rendered;
  const { parseAllDocuments } = await import('yaml');
  const text = execFileSync('kubectl', ['kustomize', `${root}k8s`], { encoding: 'utf8' });
  rendered = parseAllDocuments(text).map((d) => d.toJS() as K8sObject);
  return rendered;
}
const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

test('kubectl kustomize k8s/ renders, and every object validates against the Kubernetes schemas', async () => {
  const objects = await renderK8s();
  const kinds = objects.map((o) => o.kind).sort();
  for (const kind of [
    'ConfigMap',
    'DaemonSet',
    'Ingress',
    'Namespace',
    'PodDisruptionBudget',
    'Secret',
    'Service',
    'StatefulSet',
  ])
    assert.ok(kinds.includes(kind), `renders a ${kind}`);
  for (const object of objects) {
    // kubernetes-models/<group>/<version>/<Kind>; the core group is just "v1".
    const module = (await import(
      `kubernetes-models/${object.apiVersion}/${object.kind}`
    )) as Record<string, new (o: unknown) => { validate(): void }>;
    const Model = module[object.kind];
    assert.ok(Model, `no schema for ${object.apiVersion} ${object.kind}`);
    assert.doesNotThrow(
      () => new Model(object).validate(),
      `${object.kind}/${object.metadata.name}`,
    );
    if (object.kind !== 'Namespace')
      assert.equal((object.metadata as { namespace?: string }).namespace, 'tutti');
  }
});

test('media nodes: host network, node IP announced, drain on preStop, readiness while draining, PDB', async () => {
  const objects = await renderK8s();
  const media = find(objects, 'DaemonSet', 'tutti-media') as Workload;
  const pod = media.spec.template.spec;
  const tutti = pod.containers.find((c) => c.name === 'tutti')!;
  assert.equal(pod.hostNetwork, true);
  assert.equal(
    pod.dnsPolicy,
    'ClusterFirstWithHostNet',
    'host network pods still resolve Services',
  );
  const env = new Map(tutti.env!.map((e) => [e.name, e]));
  assert.equal(
    env.get('TUTTI_MEDIA_ANNOUNCED_ADDRESS')?.valueFrom?.fieldRef?.fieldPath,
    'status.hostIP',
  );
  assert.ok(
    env.get('TUTTI_CLUSTER_NODE_ID')?.valueFrom?.fieldRef,
    'one node id per Kubernetes node',
  );
  assert.equal(tutti.readinessProbe?.httpGet?.path, '/api/ready');
  assert.ok(tutti.livenessProbe?.httpGet?.path, 'a liveness probe');
  assert.match(tutti.lifecycle?.preStop?.exec?.command.join(' ') ?? '', /kill -TERM 1/);

  const config = find(objects, 'ConfigMap', 'tutti-config') as K8sObject & {
    data: Record<string, string>;
  };
  const drain = Number(config.data['TUTTI_SERVER_DRAIN_GRACE_SECONDS']);
  assert.ok(drain >= 60, 'a long drain');
  assert.ok(
    (pod.terminationGracePeriodSeconds ?? 30) > drain + 5,
    'Kubernetes waits out the drain',
  );
  assert.notEqual(
    config.data['TUTTI_SERVER_TRUST_PROXY'] ?? 'false',
    'false',
    'behind the Ingress, trust its address',
  );
  assert.notEqual(
    config.data['TUTTI_SERVER_TRUST_PROXY'],
    'true',
    'never trust a forged X-Forwarded-For from anyone',
  );
  assert.equal(config.data['TUTTI_FILES_DRIVER'], 's3', 'files reachable from every node');

  const labels = media.spec.template.metadata.labels;
  const selects = (selector: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);
  const pdb = find(objects, 'PodDisruptionBudget', 'tutti-media') as K8sObject & {
    spec: { selector: { matchLabels: Record<string, string> } };
  };
  assert.ok(selects(pdb.spec.selector.matchLabels), 'the PDB covers the media pods');
  const http = find(objects, 'Service', 'tutti-http') as K8sObject & {
    spec: { selector: Record<string, string>; sessionAffinity?: string };
  };
  assert.ok(selects(http.spec.selector), 'the Service routes to the media pods');
  const ingress = JSON.stringify(find(objects, 'Ingress', 'tutti'));
  assert.match(ingress, /"name":"tutti-http"/, 'the Ingress routes to the Service');
});

test('the env names the cluster issue lists reach every media node', async () => {
  const objects = await renderK8s();
  const media = find(objects, 'DaemonSet', 'tutti-media') as Workload;
  const tutti = media.spec.template.spec.containers[0]!;
  const names = new Set(tutti.env!.map((e) => e.name));
  for (const from of tutti.envFrom ?? []) {
    const cm =
      from.configMapRef &&
      (find(objects, 'ConfigMap', from.configMapRef.name) as K8sObject & {
        data: Record<string, string>;
      });
    for (const key of Object.keys(cm?.data ?? {})) names.add(key);
  }
  for (const name of [
    'TUTTI_SERVER_HOST',
    'PORT',
    'TUTTI_MEDIA_LISTEN_IP',
    'TUTTI_MEDIA_ANNOUNCED_ADDRESS',
    'TUTTI_MEDIA_RTC_MIN_PORT',
    'TUTTI_MEDIA_RTC_MAX_PORT',
    'TUTTI_REDIS_URL',
    'TUTTI_DATABASE_URL',
    'TUTTI_FILES_SECRET',
    'TUTTI_CLUSTER_NODE_ID',
  ])
    assert.ok(names.has(name), `${name} is set`);
});

test('every $(VAR), Secret and ConfigMap a container uses is defined', async () => {
  const objects = await renderK8s();
  const secrets = new Map(
    objects
      .filter((o) => o.kind === 'Secret')
      .map((o) => [
        o.metadata.name,
        Object.keys({ ...(o['stringData'] as object), ...(o['data'] as object) }),
      ]),
  );
  const configs = new Map(
    objects
      .filter((o) => o.kind === 'ConfigMap')
      .map((o) => [o.metadata.name, Object.keys(o['data'] as object)]),
  );
  const workloads = objects.filter((o) =>
    ['DaemonSet', 'StatefulSet', 'Deployment'].includes(o.kind),
  ) as Workload[];
  assert.ok(workloads.length >= 4);
  for (const w of workloads) {
    for (const c of w.spec.template.spec.containers) {
      const where = `${w.kind}/${w.metadata.name}/${c.name}`;
      const defined = new Set<string>();
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) {
          assert.ok(
            configs.has(from.configMapRef.name),
            `${where}: ConfigMap ${from.configMapRef.name}`,
          );
          for (const k of configs.get(from.configMapRef.name)!) defined.add(k);
        }
        if (from.secretRef)
          assert.ok(secrets.has(from.secretRef.name), `${where}: Secret ${from.secretRef.name}`);
      }
      for (const e of c.env ?? []) {
        // Kubernetes expands $(VAR) only from variables defined earlier (or via envFrom).
        for (const [, ref] of (e.value ?? '').matchAll(/\$\(([A-Za-z0-9_]+)\)/g))
          assert.ok(defined.has(ref!), `${where}: ${e.name} uses $(${ref}) before it is defined`);
        const s = e.valueFrom?.secretKeyRef;
        if (s)
          assert.ok(
            secrets.get(s.name)?.includes(s.key),
            `${where}: Secret ${s.name} has ${s.key}`,
          );
        defined.add(e.name);
      }
      for (const arg of (c as { args?: string[] }).args ?? [])
        for (const [, ref] of arg.matchAll(/\$\(([A-Za-z0-9_]+)\)/g))
          assert.ok(defined.has(ref!), `${where}: an argument uses $(${ref})`);
    }
  }
});
