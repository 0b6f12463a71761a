// The schema of `_config`: `make build` (and any importer) fails on an unknown field, an unknown
// service kind, a value of the wrong type, a bad duration or a ratio outside 0..1, with one line per
// problem naming the key (`_config.services[1] (smtp).kidn`) and, for names, "did you mean".
// devtools/infrawatch_dev/build.py adds the file and line where the key or value is written.
//
// Declare once: the known fields and their types are derived from the defaults in config.libsonnet
// (a number default is a number, `...For` / `...Interval` keys are durations, a `...Threshold` /
// `...Ratio` default between 0 and 1 is a ratio).  Only what the defaults cannot say is written
// here: maps with free keys, lists of objects (services per kind, SLOs, teams...), optional fields.
local defaults = (import '../config.libsonnet')._config;
local duration = import 'duration.libsonnet';

// ---- Types -----------------------------------------------------------------------------------
local T = {
  any: { t: 'any' },
  string: { t: 'string' },
  number: { t: 'number' },  // >= 0: every numeric knob of the mixin is
  ratio: { t: 'ratio' },  // 0..1
  bool: { t: 'bool' },
  // A Prometheus label name (it goes into matchers and templates); '' too when `orEmpty`.
  labelName: { t: 'labelName', orEmpty: false },
  duration: { t: 'duration' },
  enum(values): { t: 'enum', values: values },
  list(of): { t: 'list', of: of },
  map(of): { t: 'map', of: of },  // free keys, typed values
  // Known fields only; `required` must be present; `open` allows any other field.
  object(fields, required=[], open=false): { t: 'object', fields: fields, required: required, open: open },
  oneOf(types): { t: 'oneOf', types: types },
};
local labels = T.map(T.string);

// ---- Services: fields per kind -----------------------------------------------------------------
local serviceCommon = {
  name: T.string,
  title: T.string,
  kind: T.string,  // checked against serviceKinds below
  probeSelector: T.string,
  latencyThresholdSeconds: T.number,
  errorRatioDegraded: T.ratio,
  errorRatioDown: T.ratio,
  // Interval of the service's scheduled probes: ServiceProbeFailing counts failed probes (alerts/services.libsonnet).
  probeInterval: T.duration,
  // Detail stats under the service card (dashboards/overview.libsonnet).
  details: T.list(T.object({ title: T.string, expr: T.string, unit: T.string }, ['title', 'expr'])),
};
// A new kind is one entry here (plus its alert file in alerts/).
local serviceKinds = {
  // No alerts of its own: a dashboard card fed by `details` (and ServiceDegraded with a probeSelector).
  custom: {},
  http: { appSelector: T.string, upSelector: T.string },
  websocket: { appSelector: T.string, upSelector: T.string },
  smtp: { exporterSelector: T.string },
  postgres: { exporterSelector: T.string },
  redis: { exporterSelector: T.string },
  elasticsearch: {},
};

// ---- SLOs (the `slos` block, owned by jsonnet/slo/) --------------------------------------------
// sloTypes: the fields jsonnet/slo/spec.libsonnet reads from a `_config.slos` entry.  A new SLO
// field is one line in the matching object below.
local sloTypes = {
  events: T.object({
    errorSelector: T.string,
    goodSelector: T.string,
    totalSelector: T.string,
    errorQuery: T.string,
    goodQuery: T.string,
    totalQuery: T.string,
  }),
  latency: T.object({ metric: T.string, selector: T.string, threshold: T.number, buckets: T.list(T.number) }, ['metric', 'threshold']),
  tier: T.object({
    name: T.string,
    severity: T.enum(['page', 'ticket']),
    budgetPercent: T.number,
    factor: T.number,
    long: T.duration,
    short: T.duration,
    'for': T.duration,
    labels: labels,
  }, ['name', 'severity', 'long', 'short']),
  alerting: T.object({
    tiers: T.map(T.bool),
    page: T.bool,
    ticket: T.bool,
    nearlyExhausted: T.bool,
    pageSeverity: T.string,
    ticketSeverity: T.string,
    labels: labels,
    annotations: labels,
    pageLabels: labels,
    ticketLabels: labels,
    pageAnnotations: labels,
    ticketAnnotations: labels,
    name: T.string,
    absent: T.bool,
    absentName: T.string,
  }),
  slo: T.object({
    service: T.string,
    name: T.string,
    objective: T.number,
    period: T.duration,
    description: T.string,
    labels: labels,
    info: labels,
    sli: T.object({ events: sloTypes.events, latency: sloTypes.latency, raw: T.object({ errorRatioQuery: T.string }) }),
    alerting: sloTypes.alerting,
    tiers: T.list(sloTypes.tier),
    test: T.object({ good: T.list(T.string), bad: T.list(T.string) }),
  }, ['service', 'name', 'objective', 'sli']),
};

// ---- Fields the defaults cannot describe -------------------------------------------------------
local explicit = {
  extraAlertLabels: labels,
  prometheusRuleLabels: labels,
  services: T.list({ t: 'service' }),
  serviceDefaults: T.object(serviceCommon),
  disabledAlertGroups: T.list(T.string),
  disabledAlerts: T.list(T.string),
  majorListTiers: T.list(T.string),
  exporterDownSeverity: T.enum(['critical', 'warning', 'info']),
  absentSeverity: T.enum(['critical', 'warning', 'info']),
  slos: T.list(sloTypes.slo),
  sloImported: T.any,  // validated by slo/spec.libsonnet (the files' own format)
  unknownConfigFields: T.enum(['error', 'ignore']),
  clusterLabel: T.labelName,
  'dashboards.tenantLabel': T.labelName { orEmpty: true },  // '' = no tenant variable
  'sloDefaults.tiers': T.list(sloTypes.tier),
  'sloDefaults.latencyBuckets': T.list(T.number),
  'alertmanager.groupBy': T.list(T.string),
  'alertmanager.p0Alerts': T.list(T.string),
  'alertmanager.teams': T.list(T.object({
    name: T.string,
    services: T.list(T.string),
    slackChannel: T.string,
    pagerdutyRoutingKeyFile: T.string,
    email: T.string,
    warningsTo: T.enum(['slack', 'email']),
  }, ['name', 'slackChannel', 'pagerdutyRoutingKeyFile'])),
  'alertmanager.webhooks': T.list(T.object({
    name: T.string,
    url: T.string,
    credentialsFile: T.string,
    matchers: T.list(T.string),
  }, ['name', 'url', 'credentialsFile', 'matchers'])),
  'alertmanager.timeIntervals': T.map(T.list(T.any)),  // Alertmanager's own syntax (amtool checks it)
  'alertmanager.warningMuteIntervals': T.list(T.string),
  'alertmanager.probeFailingMutes': T.map(T.list(T.string)),
  'alertmanager.probeFailingSupersededBy': T.map(T.list(T.string)),
  'alertmanager.highErrorRateMutes': T.map(T.list(T.string)),
  'dashboards.tags': T.list(T.string),
  'dashboards.defaultTimeRange': T.string,  // Grafana's 'now-6h'
  // A fixed window or one of Grafana's interval variables.
  'dashboards.rateInterval': T.oneOf([T.duration, T.enum(['$__rate_interval', '$__interval'])]),
  'dashboards.tenantDashboards': T.list(T.string),
  dnsblRefusalReasons: T.list(T.string),
  'kubernetes.resources': T.any,  // Kubernetes' own syntax
  'kubernetes.monitorLabels': labels,
  'kubernetes.probeShards': T.number,
  'kubernetes.longTermStorage.resources': T.any,  // Kubernetes' own syntax
  'kubernetes.unbound.resources': T.any,  // Kubernetes' own syntax
  'kubernetes.console.extraConfig': T.any,  // the console's own keys, checked by its --config.check
  'kubernetes.unbound.stubZones': T.list(T.object({ name: T.string, addrs: T.list(T.string) }, ['name', 'addrs'])),
  'kubernetes.longTermStorage.extraArgs': T.list(T.string),
  'kubernetes.probes': T.list(T.object({
    name: T.string,
    module: T.string,
    service: T.string,
    targets: T.list(T.string),
    interval: T.duration,
  }, ['name', 'module', 'service', 'targets'])),
};

local durationNames = ['period', 'refresh', 'alertsFeedRange', 'reputationHistoryRange', 'scrapeInterval'];
local endsWithAny(s, suffixes) = std.length([x for x in suffixes if std.endsWith(s, x)]) > 0;

// The type of a field from its default value and its name.
local derive(path, key, v) =
  if std.objectHas(explicit, path) then explicit[path]
  else if std.isBoolean(v) then T.bool
  else if std.isNumber(v) then
    if endsWithAny(key, ['Threshold', 'Ratio', 'Quantile']) && v > 0 && v < 1 then T.ratio else T.number
  else if std.isString(v) then
    if std.startsWith(path, 'alertFor.') || std.member(durationNames, key) || endsWithAny(key, ['For', 'Interval', 'Wait', 'Timeout'])
    then T.duration else T.string
  else if std.isArray(v) then T.list(T.any)
  else if std.isObject(v) then
    T.object({ [k]: derive(path + '.' + k, k, v[k]) for k in std.objectFields(v) })
  else T.any;

local configType = T.object(
  { [k]: derive(k, k, defaults[k]) for k in std.objectFields(defaults) }
  + { [k]: explicit[k] for k in std.objectFields(explicit) if std.length(std.findSubstr('.', k)) == 0 }
);

// ---- Did you mean ------------------------------------------------------------------------------
local levenshtein(a, b) =
  local la = std.length(a), lb = std.length(b);
  local row0 = std.range(0, lb);
  local step(prev, i) =
    std.foldl(
      function(row, j)
        local v = std.min(std.min(row[j - 1] + 1, prev[j] + 1), prev[j - 1] + (if a[i - 1] == b[j - 1] then 0 else 1));
        // Force v now: a lazy chain of thunks through every cell would exhaust the stack.
        if v < 0 then error 'unreachable' else row + [v],
      std.range(1, lb),
      [i]
    );
  std.foldl(step, std.range(1, la), row0)[lb];

local suggest(word, candidates) =
  local lw = std.asciiLower(word);
  local scored = std.sort(
    [{ c: c, d: levenshtein(lw, std.asciiLower(c)) } for c in candidates],
    function(x) x.d
  );
  if std.length(scored) > 0 && scored[0].d <= std.max(2, std.floor(std.length(word) / 3))
  then "; did you mean '%s'?" % scored[0].c
  else if std.length(candidates) <= 8 then '; expected one of: ' + std.join(', ', candidates)
  else '';

// ---- Checking ----------------------------------------------------------------------------------
local digitChars = std.stringChars('0123456789');
local labelChars = std.stringChars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_') + digitChars;
local show(v) = if std.isString(v) then "'%s'" % v else std.manifestJsonMinified(v);
local typeName(v) = std.type(v);

local check(t, v, path) =
  if t.t == 'any' then []
  else if t.t == 'string' then (if std.isString(v) then [] else ['%s: must be a string, not %s %s' % [path, typeName(v), show(v)]])
  else if t.t == 'labelName' then
    local chars = if std.isString(v) then std.stringChars(v) else [];
    local ok = std.length(chars) > 0 && std.length([c for c in chars if !std.member(labelChars, c)]) == 0 && !std.member(digitChars, chars[0]);
    if ok || (t.orEmpty && v == '') then []
    else ['%s: %s is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)%s' % [path, show(v), if t.orEmpty then " or ''" else '']]
  else if t.t == 'bool' then (if std.isBoolean(v) then [] else ['%s: must be true or false, not %s' % [path, show(v)]])
  else if t.t == 'number' then
    if !std.isNumber(v) then ['%s: must be a number, not %s %s' % [path, typeName(v), show(v)]]
    else if v < 0 then ['%s: must not be negative (%s)' % [path, show(v)]]
    else []
  else if t.t == 'ratio' then
    if !std.isNumber(v) then ['%s: must be a ratio between 0 and 1, not %s %s' % [path, typeName(v), show(v)]]
    else if v < 0 || v > 1 then ['%s: must be a ratio between 0 and 1 (%s; 5%% is 0.05)' % [path, show(v)]]
    else []
  else if t.t == 'duration' then
    if duration.isDuration(v) then []
    else ['%s: %s is not a Prometheus duration (e.g. 30s, 5m, 1h30m)' % [path, show(v)]]
  else if t.t == 'enum' then
    if std.member(t.values, v) then []
    else ['%s: %s is not one of %s%s' % [path, show(v), std.join(', ', t.values), if std.isString(v) then suggest(v, t.values) else '']]
  else if t.t == 'list' then
    if !std.isArray(v) then ['%s: must be a list, not %s' % [path, typeName(v)]]
    else std.flattenArrays([check(t.of, v[i], '%s[%d]' % [path, i]) for i in std.range(0, std.length(v) - 1)])
  else if t.t == 'map' then
    if !std.isObject(v) then ['%s: must be an object, not %s' % [path, typeName(v)]]
    else std.flattenArrays([check(t.of, v[k], '%s.%s' % [path, k]) for k in std.objectFields(v)])
  else if t.t == 'object' then
    if !std.isObject(v) then ['%s: must be an object, not %s %s' % [path, typeName(v), show(v)]]
    else
      local known = std.objectFields(t.fields);
      [
        '%s.%s: unknown field%s' % [path, k, suggest(k, known)]
        for k in std.objectFields(v)
        if !t.open && !std.objectHas(t.fields, k)
      ]
      + ['%s: missing field %s' % [path, k] for k in t.required if !std.objectHas(v, k)]
      + std.flattenArrays([check(t.fields[k], v[k], '%s.%s' % [path, k]) for k in std.objectFields(v) if std.objectHas(t.fields, k)])
  else if t.t == 'service' then
    local where = if std.isObject(v) && std.objectHas(v, 'name') && std.isString(v.name) then '%s (%s)' % [path, v.name] else path;
    if !std.isObject(v) then ['%s: must be an object, not %s' % [path, typeName(v)]]
    else if !std.objectHas(v, 'kind') then ['%s: missing field kind (one of %s)' % [where, std.join(', ', std.objectFields(serviceKinds))]]
    else if !std.objectHas(serviceKinds, v.kind) then
      ['%s.kind: unknown kind %s%s' % [where, show(v.kind), if std.isString(v.kind) then suggest(v.kind, std.objectFields(serviceKinds)) else '']]
    else check(T.object(serviceCommon + serviceKinds[v.kind], ['name', 'kind']), v, where)
  else if t.t == 'oneOf' then
    local results = [check(x, v, path) for x in t.types];
    if std.member(results, []) then [] else [std.join('; or ', [r[0] for r in results])]
  else error 'config_schema: unknown type ' + t.t;

{
  types:: T,
  sloTypes:: sloTypes,
  serviceKinds:: serviceKinds,

  // The problems of a `_config`, one string each (empty when it is valid).
  // The problems of everything but `slos`.  The SLO list is checked separately (sloProblems): the
  // default SLOs read services[...].appSelector of the `api` service, so evaluating them for a
  // config without one fails in the slos block itself (an issue of that block, owned by slo/); the
  // mixin checks the rest whenever an output is read, build.jsonnet checks the SLOs too.
  problems(config)::
    local lenient = std.get(config, 'unknownConfigFields', 'error') == 'ignore';
    local rest = configType { open: lenient, fields: { [k]: configType.fields[k] for k in std.objectFields(configType.fields) if k != 'slos' } };
    check(rest, { [k]: config[k] for k in std.objectFields(config) if k != 'slos' }, '_config'),

  sloProblems(config)::
    if std.objectHas(config, 'slos') then check(configType.fields.slos, config.slos, '_config.slos') else [],

  local raise(p) =
    error 'invalid _config (%d problem%s):\n  %s' % [std.length(p), if std.length(p) == 1 then '' else 's', std.join('\n  ', p)],

  // `config` itself, or a build error listing every problem (with the SLOs when withSlos).
  checked(config, withSlos=false)::
    local p = $.problems(config);
    local all = if std.length(p) == 0 && withSlos then $.sloProblems(config) else p;
    if std.length(all) == 0 then config else raise(all),
}
