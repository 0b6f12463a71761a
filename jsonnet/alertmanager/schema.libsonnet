// What Alertmanager 0.25 (Debian's prometheus-alertmanager) accepts, for the generator check.
// Alertmanager refuses unknown fields and null entries with a terse YAML error at load time; this
// check refuses them at `make build` with the path of the offending field instead.  Inline secrets
// that 0.25 would accept are refused too: the generated file is committed, secrets go in *_file.
//
// A type is: 's' (any scalar), 'map' (object of scalars, e.g. details/headers), a type name below,
// or a one-element array [type] for a list of that type.
local types = {
  config: {
    global: 'global',
    route: 'route',
    receivers: ['receiver'],
    inhibit_rules: ['inhibit_rule'],
    templates: ['s'],
    time_intervals: ['time_interval'],
    mute_time_intervals: ['time_interval'],
  },
  global: {
    resolve_timeout: 's',
    http_config: 'http_config',
    smtp_from: 's',
    smtp_hello: 's',
    smtp_smarthost: 's',
    smtp_auth_username: 's',
    smtp_auth_password_file: 's',
    smtp_auth_identity: 's',
    smtp_require_tls: 's',
    slack_api_url_file: 's',
    pagerduty_url: 's',
    opsgenie_api_url: 's',
    opsgenie_api_key_file: 's',
    victorops_api_url: 's',
    victorops_api_key_file: 's',
    wechat_api_url: 's',
    telegram_api_url: 's',
    webex_api_url: 's',
  },
  route: {
    receiver: 's',
    group_by: ['s'],
    continue: 's',
    matchers: ['s'],
    match: 'map',
    match_re: 'map',
    group_wait: 's',
    group_interval: 's',
    repeat_interval: 's',
    mute_time_intervals: ['s'],
    active_time_intervals: ['s'],
    routes: ['route'],
  },
  inhibit_rule: {
    source_matchers: ['s'],
    target_matchers: ['s'],
    equal: ['s'],
    source_match: 'map',
    source_match_re: 'map',
    target_match: 'map',
    target_match_re: 'map',
  },
  time_interval: { name: 's', time_intervals: ['time_range'] },
  time_range: {
    times: ['time_of_day'],
    weekdays: ['s'],
    days_of_month: ['s'],
    months: ['s'],
    years: ['s'],
    location: 's',
  },
  time_of_day: { start_time: 's', end_time: 's' },
  receiver: {
    name: 's',
    email_configs: ['email_config'],
    pagerduty_configs: ['pagerduty_config'],
    slack_configs: ['slack_config'],
    webhook_configs: ['webhook_config'],
  },
  pagerduty_config: {
    send_resolved: 's',
    http_config: 'http_config',
    routing_key_file: 's',
    service_key_file: 's',
    url: 's',
    client: 's',
    client_url: 's',
    description: 's',
    details: 'map',
    images: ['pagerduty_image'],
    links: ['pagerduty_link'],
    source: 's',
    severity: 's',
    class: 's',
    component: 's',
    group: 's',
  },
  pagerduty_image: { src: 's', alt: 's', href: 's' },
  pagerduty_link: { href: 's', text: 's' },
  slack_config: {
    send_resolved: 's',
    http_config: 'http_config',
    api_url_file: 's',
    channel: 's',
    username: 's',
    color: 's',
    title: 's',
    title_link: 's',
    pretext: 's',
    text: 's',
    fields: ['slack_field'],
    short_fields: 's',
    footer: 's',
    fallback: 's',
    callback_id: 's',
    icon_emoji: 's',
    icon_url: 's',
    image_url: 's',
    thumb_url: 's',
    link_names: 's',
    mrkdwn_in: ['s'],
    actions: ['slack_action'],
  },
  slack_field: { title: 's', value: 's', short: 's' },
  slack_action: { type: 's', text: 's', url: 's', style: 's', name: 's', value: 's' },
  email_config: {
    send_resolved: 's',
    to: 's',
    from: 's',
    hello: 's',
    smarthost: 's',
    auth_username: 's',
    auth_password_file: 's',
    auth_identity: 's',
    headers: 'map',
    html: 's',
    text: 's',
    require_tls: 's',
    tls_config: 'tls_config',
  },
  webhook_config: {
    send_resolved: 's',
    http_config: 'http_config',
    url: 's',
    max_alerts: 's',
  },
  http_config: {
    authorization: 'authorization',
    basic_auth: 'basic_auth',
    tls_config: 'tls_config',
    proxy_url: 's',
    follow_redirects: 's',
    enable_http2: 's',
  },
  authorization: { type: 's', credentials_file: 's' },
  basic_auth: { username: 's', password_file: 's' },
  tls_config: { ca_file: 's', cert_file: 's', key_file: 's', server_name: 's', insecure_skip_verify: 's', min_version: 's' },
};

// Fields 0.25 knows but that would put a secret into the committed file: what to use instead.
local inlineSecrets = {
  global: {
    smtp_auth_password: 'smtp_auth_password_file',
    smtp_auth_secret: 'smtp_auth_password_file',
    slack_api_url: 'slack_api_url_file',
    opsgenie_api_key: 'opsgenie_api_key_file',
    victorops_api_key: 'victorops_api_key_file',
    wechat_api_secret: 'a secret file outside the repository',
  },
  pagerduty_config: { routing_key: 'routing_key_file', service_key: 'service_key_file' },
  slack_config: { api_url: 'api_url_file' },
  email_config: { auth_password: 'auth_password_file', auth_secret: 'auth_password_file' },
  http_config: { bearer_token: 'authorization.credentials_file', bearer_token_file: 'authorization.credentials_file' },
  authorization: { credentials: 'credentials_file' },
  basic_auth: { password: 'password_file' },
};

// Fields of later Alertmanager versions that 0.25 refuses (checked against amtool 0.25 in the tests).
local newerFields = {
  webhook_config: { url_file: 'a later Alertmanager' },
  receiver: { msteams_configs: 'Alertmanager 0.26' },
};

// Written for speed (the C++ interpreter is slow): primitiveEquals, comprehensions, no std.flattenArrays.
local problems(type, v, path) =
  local t = std.type(v);
  local fieldProblems(k) =
    local secrets = if std.objectHas(inlineSecrets, type) then inlineSecrets[type] else {};
    local newer = if std.objectHas(newerFields, type) then newerFields[type] else {};
    local known = types[type];
    if std.objectHas(known, k) then problems(known[k], v[k], path + '.' + k)
    else if std.objectHas(secrets, k) then
      ['%s.%s: inline secret refused (the generated file is committed); use %s' % [path, k, secrets[k]]]
    else if std.objectHas(newer, k) then
      ['%s.%s: not accepted by Alertmanager 0.25 (field of %s)' % [path, k, newer[k]]]
    else
      ['%s.%s: unknown field in a %s for Alertmanager 0.25 (known: %s)' % [path, k, type, std.join(', ', std.objectFields(known))]];
  local is(a, b) = std.primitiveEquals(a, b);  // `==` is std.equals, slow in the C++ interpreter
  if is(t, 'null') then
    ['%s: null value (omit the field instead)' % path]
  else if std.isArray(type) then
    if !is(t, 'array') then ['%s: expected a list, got %s' % [path, t]]
    else [
      p
      for i in std.range(0, std.length(v) - 1)
      for p in (
        if is(std.type(v[i]), 'null') then
          ['%s[%d]: null list entry (Alertmanager 0.25 rejects it; an `if` without `else` in a list comprehension makes one)' % [path, i]]
        else problems(type[0], v[i], '%s[%d]' % [path, i])
      )
    ]
  else if is(type, 's') then
    if is(t, 'object') || is(t, 'array') then ['%s: expected a scalar, got %s' % [path, t]] else []
  else if !is(t, 'object') then
    ['%s: expected an object (%s), got %s' % [path, type, t]]
  else if is(type, 'map') then
    ['%s.%s: expected a string value' % [path, k] for k in std.objectFields(v) if std.isObject(v[k]) || std.isArray(v[k]) || v[k] == null]
  else [p for k in std.objectFields(v) for p in fieldProblems(k)];

{
  types:: types,
  // All problems of an Alertmanager configuration, one message per problem ([] = valid).
  problems(config):: problems('config', config, 'alertmanager.yml'),
  // The configuration itself, or a build error listing every problem.
  checked(config)::
    local p = self.problems(config);
    if std.length(p) == 0 then config
    else error 'alertmanager config rejected by the generator check (jsonnet/alertmanager/schema.libsonnet):\n  ' + std.join('\n  ', p),
}
