// Kubernetes manifests for both exporters (Prometheus Operator flavour): Deployment, Service,
// ServiceMonitor, Probe objects for scheduled probes, and the PrometheusRule objects of the mixin.
// Written by `make build` to deploy/kubernetes/.
{
  local k = self,
  local c = self._config.kubernetes,

  local labels(component) = {
    'app.kubernetes.io/name': 'infrawatch',
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'infrawatch',
  },

  local configMap(component, file, content) = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'infrawatch-%s-config' % component, namespace: c.namespace, labels: labels(component) },
    data: { [file]: content },
  },

  local deployment(component, command, port, file, replicas, extraArgs=[]) = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'infrawatch-' + component, namespace: c.namespace, labels: labels(component) },
    spec: {
      replicas: replicas,
      selector: { matchLabels: labels(component) },
      template: {
        metadata: { labels: labels(component) },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: component,
            image: c.image,
            command: [command],
            args: ['--config.file=/etc/infrawatch/' + file, '--web.listen-address=:%d' % port] + extraArgs,
            ports: [{ name: 'http-metrics', containerPort: port }],
            readinessProbe: { httpGet: { path: '/-/ready', port: 'http-metrics' } },
            livenessProbe: { httpGet: { path: '/-/healthy', port: 'http-metrics' }, periodSeconds: 30 },
            resources: c.resources,
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
            volumeMounts: [{ name: 'config', mountPath: '/etc/infrawatch' }],
          }],
          volumes: [{ name: 'config', configMap: { name: 'infrawatch-%s-config' % component } }],
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

  local serviceMonitor(component) = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'infrawatch-' + component, namespace: c.namespace, labels: labels(component) + c.monitorLabels },
    spec: {
      selector: { matchLabels: labels(component) },
      endpoints: [{ port: 'http-metrics', interval: c.scrapeInterval, path: '/metrics' }],
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
    },
  },

  kubernetesManifests:: {
    'probe-exporter.yaml': [
      configMap('probe', 'probe.yml', c.probeConfig),
      deployment('probe', 'infrawatch-probe-exporter', c.probePort, 'probe.yml', 1),
      service('probe', c.probePort),
      serviceMonitor('probe'),
    ],
    'reputation-exporter.yaml': [
      configMap('reputation', 'reputation.yml', c.reputationConfig),
      // One replica per resolver: blacklist query budgets are per resolver IP (docs/scaling.md).
      deployment('reputation', 'infrawatch-reputation-exporter', c.reputationPort, 'reputation.yml', 1),
      service('reputation', c.reputationPort),
      serviceMonitor('reputation'),
    ],
    'probes.yaml': [probe(p) for p in c.probes],
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
  },
}
