// Small helpers of the SLO generator: durations, decimal printing, selector parsing.
{
  // Seconds in a Prometheus duration with one unit ('5m', '1h', '30d', '4w').
  units:: { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 },

  seconds(d)::
    local unit = std.substr(d, std.length(d) - 1, 1);
    local num = std.substr(d, 0, std.length(d) - 1);
    if std.type(d) != 'string' || std.length(d) < 2 || !std.objectHas(self.units, unit)
       || std.length(std.filter(function(c) std.codepoint(c) < 48 || std.codepoint(c) > 57, std.stringChars(num))) > 0
    then null
    else std.parseInt(num) * self.units[unit],

  // Prometheus' own duration text (model.Duration.String): weeks and years only when exact, then
  // d/h/m/s (2419200 -> '4w', 604800 -> '1w', 2592000 -> '30d', 5400 -> '1h30m').
  promDuration(s)::
    local step(acc, u) =
      local size = acc.units[u];
      if (u == 'y' || u == 'w') && acc.rest % size != 0 then acc
      else if std.floor(acc.rest / size) > 0 then
        acc { text+: std.toString(std.floor(acc.rest / size)) + u, rest: acc.rest % size }
      else acc;
    std.foldl(step, ['y', 'w', 'd', 'h', 'm', 's'], { units: $.units, text: '', rest: s }).text,

  // Human form of a number of seconds ('52s', '2m 10s', '1h', '2.1 days').
  human(s)::
    if s < 120 then std.toString(std.floor(s + 0.5)) + 's'
    else if s < 7200 then $.fmt(std.floor(s / 6 + 0.5) / 10) + ' min'
    else if s < 172800 then $.fmt(std.floor(s / 360 + 0.5) / 10) + ' h'
    else $.fmt(std.floor(s / 8640 + 0.5) / 10) + ' days',

  // A number printed without float artefacts: rounded to 10 decimals (fewer for large numbers), no
  // trailing zeros (14.4 * 28 / 30 -> '13.44', 1 - 0.999 -> '0.001', 1 -> '1').  Integer arithmetic
  // only: std.format('%.10f') is far too slow for the thousands of values the tests hold.
  fmt(x)::
    local a = std.abs(x);
    local d0 = if a < 1e5 then 10 else if a < 1e9 then 6 else 0;
    local scale0 = std.pow(10, d0);
    local n = std.floor(a * scale0 + 0.5);
    local ip = std.floor(n / scale0);
    // Drop trailing zero digits of the fraction.
    local trim(f, d) = if d > 0 && f % 10 == 0 then trim(f / 10, d - 1) else { f: f, d: d };
    local t = trim(n - ip * scale0, d0);
    local fs = std.toString(t.f);
    local frac = if t.d == 0 then '' else '.' + std.join('', ['0' for i in std.range(1, t.d - std.length(fs))]) + fs;
    local body = std.toString(ip) + frac;
    if x < 0 && body != '0' then '-' + body else body,

  // An objective in percent as integer millionths of a percent, so 99.9 -> budget 0.001 exactly.
  objectiveMicros(p):: std.floor(p * 1e6 + 0.5),

  // Sloth-style query template: '{{.window}}' (or '{{ .window }}') replaced by the window.
  window(template, w)::
    std.strReplace(std.strReplace(template, '{{ .window }}', w), '{{.window}}', w),

  // ---- Selectors ------------------------------------------------------------------------------
  // 'metric{a="x", b=~"5.."}' -> { metric: 'metric', matchers: [{label, op, value}] }.
  // Splits on double quotes (values with escaped quotes are not supported): only used to
  // synthesise test input series, where a failing parse shows up as a failing generated test.
  parseSelector(sel)::
    local brace = std.findSubstr('{', sel);
    local close = std.findSubstr('}', sel);
    local metric = std.stripChars(if brace == [] then sel else std.substr(sel, 0, brace[0]), ' ');
    local body = if brace == [] || close == [] then '' else
      std.substr(sel, brace[0] + 1, close[std.length(close) - 1] - brace[0] - 1);
    local parts = std.split(body, '"');
    local matcher(head, value) =
      local h = std.stripChars(head, ', \n\t');
      local op = if std.endsWith(h, '=~') then '=~' else if std.endsWith(h, '!~') then '!~'
      else if std.endsWith(h, '!=') then '!=' else '=';
      { label: std.stripChars(std.substr(h, 0, std.length(h) - std.length(op)), ' '), op: op, value: value };
    {
      metric: metric,
      matchers: [matcher(parts[2 * i], parts[2 * i + 1]) for i in std.range(0, std.floor(std.length(parts) / 2) - 1)],
    },

  // A label value matching a (simple) regex: first alternative, '.'/\d -> '0', quantifiers dropped
  // ('(5..|429)' -> '500').  Heuristic: used only to synthesise test input series.
  sampleFor(re)::
    local r0 = std.lstripChars(std.rstripChars(re, '$'), '^');
    local r1 = if std.startsWith(r0, '(') && std.endsWith(r0, ')') then std.substr(r0, 1, std.length(r0) - 2) else r0;
    local alt = std.split(r1, '|')[0];
    local noClass = std.strReplace(std.strReplace(alt, '\\d', '0'), '\\.', '#');
    local chars = std.stringChars(noClass);
    std.strReplace(std.join('', [
      if c == '.' then '0' else if std.member('*+?()[]{}', c) then '' else c
      for c in chars
    ]), '#', '.'),

  // A label value assumed not to match the error matchers.
  otherValue:: 'infrawatch_test_other',

  // Concrete labels satisfying a matcher (positive) or not satisfying it (negative).
  valueFor(m, satisfy)::
    local positive = (m.op == '=' || m.op == '=~');
    if satisfy == positive then (if m.op == '=' || m.op == '!=' then m.value else $.sampleFor(m.value))
    else (if std.member(['=', '!='], m.op) && m.value == $.otherValue then 'x' else $.otherValue),

  // Render { __name__, labels } as a promtool series string.
  series(metric, labels)::
    metric + '{' + std.join(', ', [k + '="' + labels[k] + '"' for k in std.objectFields(labels)]) + '}',
}
