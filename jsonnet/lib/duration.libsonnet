// Prometheus durations ('90s', '1h30m', '5m', '1d', '500ms') in seconds, for checks made at build time.
// parse() returns null for anything that is not a Prometheus duration (the caller names the key).
local units = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
local digits = { [c]: true for c in std.stringChars('0123456789') };
local letters = { [c]: true for c in std.stringChars('msdhwy') };

{
  // Seconds of a duration string, or null when it is not one (e.g. '5min', '2', '', 'm', '1.5h').
  parse(d)::
    if !std.isString(d) || d == '' then null
    else
      local chars = std.stringChars(d);
      // Split into [number, unit] tokens; any other character makes the whole string invalid.
      local step(acc, c) =
        if acc == null then null
        else if std.objectHas(digits, c) then
          if acc.unit != '' then acc { tokens+: [[acc.num, acc.unit]], num: c, unit: '' } else acc { num+: c }
        else if std.objectHas(letters, c) && acc.num != '' then acc { unit+: c }
        else null;
      local st = std.foldl(step, chars, { tokens: [], num: '', unit: '' });
      if st == null || st.unit == '' then null
      else
        local tokens = st.tokens + [[st.num, st.unit]];
        if std.length([t for t in tokens if !std.objectHas(units, t[1])]) > 0 then null
        else std.foldl(function(sum, t) sum + std.parseInt(t[0]) * units[t[1]], tokens, 0),

  isDuration(d):: $.parse(d) != null,

  // A whole number of seconds as a duration in its largest exact unit: 420 -> '7m', 90 -> '90s'.
  format(seconds)::
    local exact = [u for u in [['d', 86400], ['h', 3600], ['m', 60]] if seconds >= u[1] && seconds % u[1] == 0];
    if exact == [] then '%ds' % seconds else '%d%s' % [seconds / exact[0][1], exact[0][0]],

  // Seconds of a duration that must be valid (error naming `what` otherwise).
  seconds(d, what)::
    local s = $.parse(d);
    if s == null then error '%s: %s is not a Prometheus duration (e.g. 30s, 5m, 1h30m)' % [what, std.toString(d)]
    else s,
}
