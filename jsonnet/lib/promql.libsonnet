// PromQL rewriting for the knobs: add label matchers to every vector selector of an expression (the
// dashboards' `cluster` variable of showMultiCluster, the tenant variable), as kubernetes-mixin
// writes `%(clusterLabel)s=~"$cluster"` into each query by hand; and keep a label through every
// aggregation and `on (...)` match (the rules' clusterLabel with showMultiCluster, as kubernetes-mixin
// writes `by (%(clusterLabel)s, ...)`).  A small scanner, enough for the
// mixin's own queries: strings, `[...]` ranges and the label lists after by/without/on/ignoring/
// group_left/group_right are copied unchanged; an identifier followed by `(` is a function; any
// other identifier is a metric name and gets the matchers (inside its `{...}` or a new one); a bare
// `{...}` selector gets them too.  tests/dashboards/test_knobs.py parses every rewritten query and
// checks each selector carries the matchers.
local isAlpha(c) = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
local isIdChar(c) = isAlpha(c) || (c >= '0' && c <= '9');
local labelListWords = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'];
// Aggregations are keywords too: `sum by (x) (...)` puts the label list before the parenthesis.
local keywords = ['bool', 'and', 'or', 'unless', 'offset', 'atan2', 'inf', 'nan', 'Inf', 'NaN'] + [
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
];

{
  // `expr` with `matchers` (e.g. 'cluster=~"$cluster"') added to every vector selector; '' = unchanged.
  withMatchers(expr, matchers)::
    if matchers == '' then expr
    else
      local n = std.length(expr);
      local sub(from, to) = std.substr(expr, from, to - from);
      local skipWs(i) = if i < n && std.member(' \t\n', expr[i]) then skipWs(i + 1) tailstrict else i;
      local idEnd(i) = if i < n && isIdChar(expr[i]) then idEnd(i + 1) tailstrict else i;
      // Index after the closing quote of a string opened at i - 1.
      local strEnd(i, q) =
        if i >= n then n
        else if expr[i] == '\\' && q != '`' then strEnd(i + 2, q) tailstrict
        else if expr[i] == q then i + 1
        else strEnd(i + 1, q) tailstrict;
      // Index after the first `close` from i on, skipping strings.
      local closeEnd(i, close) =
        if i >= n then n
        else if std.member('"\'`', expr[i]) then closeEnd(strEnd(i + 1, expr[i]), close) tailstrict
        else if expr[i] == close then i + 1
        else closeEnd(i + 1, close) tailstrict;
      local selector(inner) =
        '{' + matchers + (if std.stripChars(inner, ' \n\t') == '' then '' else ', ' + inner) + '}';
      local loop(i, out) =
        if i >= n then out
        else
          local c = expr[i];
          if std.member('"\'`', c) then
            local e = strEnd(i + 1, c);
            loop(e, out + sub(i, e)) tailstrict
          else if c == '[' then
            local e = closeEnd(i + 1, ']');
            loop(e, out + sub(i, e)) tailstrict
          else if c == '{' then
            local e = closeEnd(i + 1, '}');
            loop(e, out + selector(sub(i + 1, e - 1))) tailstrict
          else if c == '$' then
            local e = idEnd(i + 1);
            loop(e, out + sub(i, e)) tailstrict
          else if isAlpha(c) && (i == 0 || !isIdChar(expr[i - 1])) then
            local e = idEnd(i);
            local word = sub(i, e);
            local j = skipWs(e);
            local next = if j < n then expr[j] else '';
            if std.member(labelListWords, word) then
              local le = if next == '(' then closeEnd(j + 1, ')') else e;
              loop(le, out + sub(i, le)) tailstrict
            else if std.member(keywords, word) || next == '(' then
              loop(e, out + word) tailstrict
            else if next == '{' then
              local be = closeEnd(j + 1, '}');
              loop(be, out + word + selector(sub(j + 1, be - 1))) tailstrict
            else
              loop(e, out + word + selector('')) tailstrict
          else
            loop(i + 1, out + c) tailstrict;
      loop(0, ''),

  // `expr` with `label` kept by every aggregation and vector match: `by (...)` and `on (...)` lists get
  // it (`on ()` becomes `on (label)`), an aggregation without a grouping clause gets `by (label)`;
  // `without (...)` / `ignoring (...)` keep it already.  Strings, selectors and ranges are copied.
  withGroupingLabel(expr, label)::
    local n = std.length(expr);
    local sub(from, to) = std.substr(expr, from, to - from);
    local skipWs(i) = if i < n && std.member(' \t\n', expr[i]) then skipWs(i + 1) tailstrict else i;
    local idEnd(i) = if i < n && isIdChar(expr[i]) then idEnd(i + 1) tailstrict else i;
    local strEnd(i, q) =
      if i >= n then n
      else if expr[i] == '\\' && q != '`' then strEnd(i + 2, q) tailstrict
      else if expr[i] == q then i + 1
      else strEnd(i + 1, q) tailstrict;
    // Index after the bracket closing the one opened at i - 1 (nesting and strings skipped).
    local closeEnd(i, open, close, depth=1) =
      if i >= n then n
      else if std.member('"\'`', expr[i]) then closeEnd(strEnd(i + 1, expr[i]), open, close, depth) tailstrict
      else if expr[i] == open then closeEnd(i + 1, open, close, depth + 1) tailstrict
      else if expr[i] == close then (if depth == 1 then i + 1 else closeEnd(i + 1, open, close, depth - 1) tailstrict)
      else closeEnd(i + 1, open, close, depth) tailstrict;
    local aggregations = std.filter(function(k) !std.member(['bool', 'and', 'or', 'unless', 'offset', 'atan2', 'inf', 'nan', 'Inf', 'NaN'], k), keywords);
    local withLabel(list) =
      local names = [std.stripChars(x, ' \t\n') for x in std.split(list, ',')];
      if std.member(names, label) then list
      else if std.stripChars(list, ' \t\n') == '' then label
      else label + ', ' + list;
    local loop(i, out) =
      if i >= n then out
      else
        local c = expr[i];
        if std.member('"\'`', c) then
          local e = strEnd(i + 1, c);
          loop(e, out + sub(i, e)) tailstrict
        else if c == '[' then
          local e = closeEnd(i + 1, '[', ']');
          loop(e, out + sub(i, e)) tailstrict
        else if c == '{' then
          local e = closeEnd(i + 1, '{', '}');
          loop(e, out + sub(i, e)) tailstrict
        else if isAlpha(c) && (i == 0 || !isIdChar(expr[i - 1])) then
          local e = idEnd(i);
          local word = sub(i, e);
          local j = skipWs(e);
          local next = if j < n then expr[j] else '';
          if std.member(['by', 'on'], word) && next == '(' then
            local le = closeEnd(j + 1, '(', ')');
            loop(le, out + word + ' (' + withLabel(sub(j + 1, le - 1)) + ')') tailstrict
          else if std.member(['without', 'ignoring', 'group_left', 'group_right'], word) && next == '(' then
            local le = closeEnd(j + 1, '(', ')');
            loop(le, out + sub(i, le)) tailstrict
          else if std.member(aggregations, word) && next == '(' then
            // `sum (...) by (x)`: the trailing clause is handled when the loop reaches it.
            local k = skipWs(closeEnd(j + 1, '(', ')'));
            local trailing = sub(k, idEnd(k));
            if std.member(['by', 'without'], trailing) then loop(e, out + word) tailstrict
            else loop(e, out + word + ' by (' + label + ') ') tailstrict
          else
            loop(e, out + word) tailstrict
        else
          loop(i + 1, out + c) tailstrict;
    loop(0, ''),

  // A Grafana variable query: label_values(<selector>, label) gets the matchers in its selector;
  // label_values(label) becomes label_values({matchers}, label).
  variableWithMatchers(query, matchers)::
    local prefix = 'label_values(';
    if matchers == '' || !std.startsWith(query, prefix) then query
    else
      local body = std.substr(query, std.length(prefix), std.length(query) - std.length(prefix) - 1);
      local commas = std.findSubstr(',', body);
      if std.length(commas) == 0 then '%s{%s}, %s)' % [prefix, matchers, body]
      else
        local cut = commas[std.length(commas) - 1];
        prefix + $.withMatchers(std.substr(body, 0, cut), matchers) + std.substr(body, cut, std.length(body) - cut) + ')',
}
