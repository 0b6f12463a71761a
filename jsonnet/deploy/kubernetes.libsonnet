// Kubernetes manifests for both exporters and the console (Prometheus Operator flavour): Deployment,
// Service, ServiceMonitor, Probe objects for `/probe` targets, and the PrometheusRule objects of the mixin.
// Written by `make build` to deploy/kubernetes/ (one file per part, several YAML documents each);
// knobs in config.libsonnet `_config.kubernetes`, guide in docs/deployment.md.
{
  local k = self,
  local c = self._config.kubernetes,

  local labels(component) = {
    'app.kubernetes.io/name': 'infrawatch',
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'infrawatch',
  },

  local configName(component) = 'infrawatch-%s-config' % component,

  local configMap(component, file, content) = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: configName(component), namespace: c.namespace, labels: labels(component) },
    data: { [file]: content },
  },

  // With basic auth on, kubelet cannot send credentials from a Secret: health checks fall back to TCP.
  local healthCheck(path) =
    if c.webConfigSecret == '' then { httpGet: { path: path, port: 'http-metrics' } }
    else { tcpSocket: { port: 'http-metrics' } },

  local webConfigMountPath = '/etc/infrawatch/web',

  local containerSecurity = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  },

  // One exporter Deployment.  `secret` ('' = none) is mounted at secretsMountPath for `*_file` keys;
  // `volumes` / `mounts` add more (the reputation state).
  local deployment(name, component, command, port, file, secret, podLabels={}, extraArgs=[], volumes=[], mounts=[], sidecars=[]) = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: name, namespace: c.namespace, labels: labels(component) + podLabels },
    spec: {
      replicas: 1,
      // Never two pods of one exporter at once: they would probe (or spend query budget) twice.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: labels(component) + podLabels },
      template: {
        metadata: { labels: labels(component) + podLabels },
        spec: {
          // fsGroup: a PersistentVolumeClaim for the reputation state is writable by the exporter's user.
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            runAsGroup: 65534,
            fsGroup: 65534,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [{
            name: component,
            image: c.image,
            imagePullPolicy: c.imagePullPolicy,
            command: [command],
            args: [
              '--config.file=%s/%s' % [c.configMountPath, file],
              '--web.listen-address=:%d' % port,
            ] + (
              if c.webConfigSecret != '' then ['--web.config.file=%s/web-config.yml' % webConfigMountPath] else []
            ) + extraArgs,
            ports: [{ name: 'http-metrics', containerPort: port }],
            readinessProbe: healthCheck('/-/ready'),
            livenessProbe: healthCheck('/-/healthy') + { periodSeconds: 30 },
            resources: c.resources,
            securityContext: containerSecurity,
            volumeMounts: [{ name: 'config', mountPath: c.configMountPath, readOnly: true }] + (
              if secret != '' then [{ name: 'secrets', mountPath: c.secretsMountPath, readOnly: true }] else []
            ) + (
              if c.webConfigSecret != '' then [{ name: 'web-config', mountPath: webConfigMountPath, readOnly: true }]
              else []
            ) + mounts,
          }] + sidecars,
          volumes: [{ name: 'config', configMap: { name: configName(component) } }] + (
            if secret != '' then [{ name: 'secrets', secret: { secretName: secret } }] else []
          ) + (
            if c.webConfigSecret != '' then [{
              name: 'web-config',
              secret: { secretName: c.webConfigSecret, items: [{ key: 'web-config.yml', path: 'web-config.yml' }] },
            }] else []
          ) + volumes,
        },
      },
    },
  },

  local service(component, port) = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'infrawatch-' + component, namespace: c.namespace, labels: labels(component) },
    spec: {
      selector: labels(component),
      ports: [{ name: 'http-metrics', port: port, targetPort: 'http-metrics' }],
    },
  },

  // Scrape credentials for the exporters' basic auth, from the web config Secret.
  local basicAuth =
    if c.webConfigSecret == '' then {}
    else { basicAuth: {
      username: { name: c.webConfigSecret, key: 'username' },
      password: { name: c.webConfigSecret, key: 'password' },
    } },

  // Prometheus names the job after the Service (infrawatch-probe, infrawatch-reputation), which the
  // pipeline alerts' `infrawatchSelector` matches.
  local serviceMonitor(component, name='infrawatch-' + component, objLabels=labels(component), auth=basicAuth) = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: name, namespace: c.namespace, labels: objLabels + c.monitorLabels },
    spec: {
      selector: { matchLabels: objLabels },
      endpoints: [{ port: 'http-metrics', interval: c.scrapeInterval, path: '/metrics' } + auth],
    },
  },

  local probe(p) = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'Probe',
    metadata: { name: 'infrawatch-' + p.name, namespace: c.namespace, labels: labels('probe') + c.monitorLabels },
    spec: {
      jobName: 'infrawatch-probe-' + p.name,
      interval: std.get(p, 'interval', c.scrapeInterval),
      module: p.module,
      prober: { url: 'infrawatch-probe.%s.svc:%d' % [c.namespace, c.probePort], path: '/probe' },
      targets: { staticConfig: { static: p.targets, labels: { service: p.service } } },
    } + basicAuth,
  },

  local probeDeployments =
    if c.probeShards <= 1 then
      [deployment('infrawatch-probe', 'probe', 'infrawatch-probe-exporter', c.probePort, 'probe.yml', c.probeSecret)]
    else [
      deployment(
        'infrawatch-probe-shard-%d' % i,
        'probe',
        'infrawatch-probe-exporter',
        c.probePort,
        'probe.yml',
        c.probeSecret,
        podLabels={ 'infrawatch.io/shard': '%d' % i },
        extraArgs=['--shard', '%d/%d' % [i, c.probeShards]],
      )
      for i in std.range(0, c.probeShards - 1)
    ],

  // ---- The reputation exporter's resolver: Debian's unbound in the same pod (`c.unbound`) ----
  // The exporter asks 127.0.0.1:<port>; unbound resolves from the root servers (or the stub zones'
  // mirrors) on the pod's address.  Kubelet checks its TCP port (it answers only the pod: access-control).
  local u = c.unbound,
  local unboundMountPath = '/etc/infrawatch/unbound',
  local unboundConfigText =
    u.config + '\nserver:\n  port: %d\n  directory: "%s"\n' % [u.port, unboundMountPath] + std.join('', [
      // A mirror serves the zone unsigned: no DNSSEC validation below its name.
      'server:\n  domain-insecure: "%s."\nstub-zone:\n  name: "%s."\n' % [z.name, z.name]
      + std.join('', ['  stub-addr: %s\n' % a for a in z.addrs])
      for z in u.stubZones
    ]),
  local unboundContainer = {
    name: 'unbound',
    image: u.image,
    imagePullPolicy: u.imagePullPolicy,
    // -d: foreground, -p: no pidfile (read-only root filesystem)
    command: ['unbound', '-d', '-p', '-c', unboundMountPath + '/unbound.conf'],
    ports: [
      { name: 'dns-udp', containerPort: u.port, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: u.port, protocol: 'TCP' },
    ],
    readinessProbe: { tcpSocket: { port: 'dns-tcp' } },
    livenessProbe: { tcpSocket: { port: 'dns-tcp' }, periodSeconds: 30 },
    resources: u.resources,
    securityContext: containerSecurity,
    volumeMounts: [{ name: 'unbound-config', mountPath: unboundMountPath, readOnly: true }],
  },
  local reputationNameserver = '127.0.0.1:%d' % u.port,
  local nameserverMessage =
    ('_config.kubernetes.reputationConfig: resolver.nameservers must be ["%s"] (the unbound container'
     + ' of the pod, _config.kubernetes.unbound.port), or set unbound.enabled: false') % reputationNameserver,

  // ---- Long-term history: single-node VictoriaMetrics (`c.longTermStorage`, off by default) ----
  local lts = c.longTermStorage,
  local ltsLabels = {
    'app.kubernetes.io/name': 'victoria-metrics',
    'app.kubernetes.io/component': 'long-term-storage',
    'app.kubernetes.io/part-of': 'infrawatch',
  },
  local ltsDataPath = '/victoria-metrics-data',
  local ltsClaim = lts.name + '-data',
  local longTermObjects = [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: ltsClaim, namespace: c.namespace, labels: ltsLabels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: lts.storageSize } },
      } + (if lts.storageClassName != '' then { storageClassName: lts.storageClassName } else {}),
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: lts.name, namespace: c.namespace, labels: ltsLabels },
      spec: {
        replicas: 1,
        // One writer of the ReadWriteOnce volume: the old pod stops before the new one starts.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: ltsLabels },
        template: {
          metadata: { labels: ltsLabels },
          spec: {
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65534,
              runAsGroup: 65534,
              fsGroup: 65534,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [{
              name: 'victoria-metrics',
              image: lts.image,
              imagePullPolicy: lts.imagePullPolicy,
              args: [
                '-storageDataPath=' + ltsDataPath,
                '-retentionPeriod=' + lts.retention,
                '-httpListenAddr=:%d' % lts.port,
              ] + lts.extraArgs,
              ports: [{ name: 'http-metrics', containerPort: lts.port }],
              readinessProbe: { httpGet: { path: '/health', port: 'http-metrics' } },
              livenessProbe: { httpGet: { path: '/health', port: 'http-metrics' }, periodSeconds: 30 },
              resources: lts.resources,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'data', mountPath: ltsDataPath }],
            }],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: ltsClaim } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: lts.name, namespace: c.namespace, labels: ltsLabels },
      spec: {
        selector: ltsLabels,
        ports: [{ name: 'http-metrics', port: lts.port, targetPort: 'http-metrics' }],
      },
    },
    // Its own metrics (ingestion rate, disk use); not the exporters' basic auth.
    serviceMonitor('victoria-metrics', name=lts.name, objLabels=ltsLabels, auth={}),
  ],

  // `spec.remoteWrite` of the Prometheus Operator `Prometheus` object sending every sample to the
  // VictoriaMetrics above (kube-prometheus: merge it into `prometheus.prometheus.spec`).
  kubernetesPrometheusRemoteWrite:: [
    { url: 'http://%s.%s.svc:%d/api/v1/write' % [lts.name, c.namespace, lts.port] },
  ],

  // The console: its configuration from the knobs, the overview dashboard it reads its cards from.
  local cc = c.console,
  local dashboardsMountPath = '/etc/infrawatch/dashboards',
  local consoleConfig = {
    prometheus_url: cc.prometheusURL,
    alertmanager_url: cc.alertmanagerURL,
    reputation_url: 'http://infrawatch-reputation.%s.svc:%d' % [c.namespace, c.reputationPort],
    dashboard_file: dashboardsMountPath + '/infrawatch-overview.json',
    audit_log: '/var/lib/infrawatch/console-audit.jsonl',
  } + cc.extraConfig,
  local consoleObjects = [
    // JSON (valid YAML): the engines quote YAML strings differently, JSON they write alike.
    configMap('console', 'console.yml', std.manifestJsonEx(consoleConfig, '  ') + '\n'),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'infrawatch-console-dashboard', namespace: c.namespace, labels: labels('console') },
      data: { 'infrawatch-overview.json': std.manifestJsonMinified(k.grafanaDashboards['infrawatch-overview.json']) },
    },
    deployment(
      'infrawatch-console',
      'console',
      'infrawatch-console',
      cc.port,
      'console.yml',
      cc.secret,
      volumes=[
        { name: 'dashboard', configMap: { name: 'infrawatch-console-dashboard' } },
        { name: 'audit', emptyDir: {} },
      ],
      mounts=[
        { name: 'dashboard', mountPath: dashboardsMountPath, readOnly: true },
        { name: 'audit', mountPath: '/var/lib/infrawatch' },
      ],
    ),
    service('console', cc.port),
    serviceMonitor('console'),
  ],

  kubernetesManifests::
    assert !u.enabled || std.length(std.findSubstr('"%s"' % reputationNameserver, c.reputationConfig)) > 0 : nameserverMessage;
    {
      'probe-exporter.yaml': [
        configMap('probe', 'probe.yml', c.probeConfig),
      ] + probeDeployments + [
        service('probe', c.probePort),
        serviceMonitor('probe'),
      ],
      'reputation-exporter.yaml': [
        configMap('reputation', 'reputation.yml', c.reputationConfig),
      ] + (if u.enabled then [configMap('unbound', 'unbound.conf', unboundConfigText)] else []) + [
        // One exporter per resolver: blacklist query budgets are per resolver IP (docs/scaling.md).
        deployment(
          'infrawatch-reputation',
          'reputation',
          'infrawatch-reputation-exporter',
          c.reputationPort,
          'reputation.yml',
          c.reputationSecret,
          volumes=[
            if c.reputationStateClaim == '' then { name: 'state', emptyDir: {} }
            else { name: 'state', persistentVolumeClaim: { claimName: c.reputationStateClaim } },
          ] + (if u.enabled then [{ name: 'unbound-config', configMap: { name: configName('unbound') } }] else []),
          mounts=[{ name: 'state', mountPath: '/var/lib/infrawatch' }],
          sidecars=if u.enabled then [unboundContainer] else [],
        ),
        service('reputation', c.reputationPort),
        serviceMonitor('reputation'),
      ],
      'prometheusrules.yaml': [
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'PrometheusRule',
          metadata: {
            name: 'infrawatch-' + area,
            namespace: c.namespace,
            labels: labels(area) + k._config.prometheusRuleLabels,
          },
          spec: k.ruleFiles[area],
        }
        for area in std.objectFields(k.ruleFiles)
      ],
    } + (if std.length(c.probes) > 0 then { 'probes.yaml': [probe(p) for p in c.probes] } else {})
    + (if cc.enabled then { 'console.yaml': consoleObjects } else {})
    + (
      if lts.enabled then { 'victoria-metrics.yaml': longTermObjects } else {}
    ),

  // Patches of objects the manifests do not own, written to deploy/kubernetes/patches/ (a subfolder:
  // `kubectl apply -f deploy/kubernetes/` skips it).  A merge patch for the Prometheus object:
  //   kubectl -n monitoring patch prometheus k8s --type merge \
  //     --patch-file deploy/kubernetes/patches/prometheus-remote-write.yaml
  kubernetesPatches:: (
    if lts.enabled then {
      'prometheus-remote-write.yaml': { spec: { remoteWrite: k.kubernetesPrometheusRemoteWrite } },
    } else {}
  ),
}
