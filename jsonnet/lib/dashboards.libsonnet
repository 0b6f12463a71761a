// Small Grafana dashboard/panel helpers (Grafonnet is not installable here).
// Every helper produces JSON that validates against the Grafana foundation-sdk schemas in
// ../shared/schemas/grafana (dashboard model + per-panel-type Options/FieldConfig), Grafana 10/11
// panel types only.  All queries go through the `${datasource}` variable.
local ds = { type: 'prometheus', uid: '${datasource}' };

// Thresholds config from [[value, color], ...]; the first step's value is null (-Infinity).
local thresholds(steps) = {
  mode: 'absolute',
  steps: [{ value: null, color: steps[0][1] }] + [{ value: s[0], color: s[1] } for s in steps[1:]],
};

local base(type, title, description) = {
  type: type,
  title: title,
  [if description != '' then 'description']: description,
  datasource: ds,
  gridPos: { w: 6, h: 8 },
};

local fieldDefaults(unit, mappings, steps, min, max, decimals, noValue) = {
  [if unit != null then 'unit']: unit,
  [if mappings != [] then 'mappings']: mappings,
  [if min != null then 'min']: min,
  [if max != null then 'max']: max,
  [if decimals != null then 'decimals']: decimals,
  [if noValue != null then 'noValue']: noValue,
  thresholds: thresholds(steps),
};

{
  datasource:: ds,
  thresholds:: thresholds,

  // Greens/yellows/reds used for traffic lights.
  colors:: { ok: 'green', warn: 'yellow', bad: 'red', unknown: 'text', info: 'blue' },

  // Seconds in a Prometheus duration with one unit ('5m', '1h', '30d').
  durationSeconds(d)::
    local units = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
    std.parseInt(std.substr(d, 0, std.length(d) - 1)) * units[std.substr(d, std.length(d) - 1, 1)],

  // ---- Queries --------------------------------------------------------------------------------
  // A Prometheus query.  `instant` for stats/tables, range for time series.
  target(expr, legend='', refId='A', instant=false, format='time_series'):: {
    datasource: ds,
    editorMode: 'code',
    expr: expr,
    legendFormat: legend,
    refId: refId,
    instant: instant,
    range: !instant,
    format: format,
  },
  // `sum [by (by)] (rate(metric{selector}[$__rate_interval]))`: the panel rate the dashboards share
  // (the rateInterval knob rewrites the window).
  sumRate(metric, selector, by='')::
    'sum%s (rate(%s%s[$__rate_interval]))' % [if by == '' then '' else ' by (%s)' % by, metric, selector],
  // Instant query in table format (one row per series, labels as columns).
  tableTarget(expr, refId='A'):: self.target(expr, '', refId, true, 'table'),

  // ---- Value mappings ------------------------------------------------------------------------
  // Exact values -> {text, color}: valueMap({ '2': ['Healthy', 'green'], ... }).
  valueMap(m):: {
    type: 'value',
    options: {
      [k]: { text: m[k][0], color: m[k][1], index: i }
      for i in std.range(0, std.length(std.objectFields(m)) - 1)
      for k in [std.objectFields(m)[i]]
    },
  },
  rangeMap(from, to, text, color):: {
    type: 'range',
    options: { from: from, to: to, result: { text: text, color: color } },
  },
  specialMap(match, text, color='text'):: {
    type: 'special',
    options: { match: match, result: { text: text, color: color } },
  },

  // ---- Panels --------------------------------------------------------------------------------
  // A traffic-light/big-number stat.  `steps` are threshold [value, color] pairs.
  stat(title,
       targets,
       unit=null,
       description='',
       mappings=[],
       steps=[[null, 'green']],
       colorMode='value',
       graphMode='none',
       min=null,
       max=null,
       decimals=null,
       noValue=null,
       textMode='auto',
       calc='lastNotNull')::
    base('stat', title, description) {
      targets: targets,
      options: {
        graphMode: graphMode,
        colorMode: colorMode,
        justifyMode: 'auto',
        textMode: textMode,
        wideLayout: true,
        showPercentChange: false,
        percentChangeColorMode: 'standard',
        orientation: 'auto',
        reduceOptions: { calcs: [calc], fields: '', values: false },
      },
      fieldConfig: {
        defaults: fieldDefaults(unit, mappings, steps, min, max, decimals, noValue) {
          color: { mode: 'thresholds' },
        },
        overrides: [],
      },
    },

  timeseries(title,
             targets,
             unit,
             description='',
             min=null,
             max=null,
             stack=false,
             steps=[[null, 'green']],
             drawStyle='line',
             fillOpacity=10,
             legendCalcs=[],
             mappings=[],
             decimals=null)::
    base('timeseries', title, description) {
      targets: targets,
      options: {
        legend: {
          displayMode: if legendCalcs == [] then 'list' else 'table',
          placement: 'bottom',
          showLegend: true,
          calcs: legendCalcs,
        },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
      fieldConfig: {
        defaults: fieldDefaults(unit, mappings, steps, min, max, decimals, null) {
          color: { mode: 'palette-classic' },
          custom: {
            drawStyle: drawStyle,
            lineWidth: 1,
            fillOpacity: fillOpacity,
            showPoints: 'never',
            spanNulls: false,
            stacking: { mode: if stack then 'normal' else 'none', group: 'A' },
            thresholdsStyle: { mode: 'off' },
          },
        },
        overrides: [],
      },
    },

  // Discrete states over time (probe up/down, list health, health-check components).
  stateTimeline(title, targets, mappings, description='', unit=null, steps=[[null, 'green']])::
    base('state-timeline', title, description) {
      targets: targets,
      options: {
        showValue: 'auto',
        rowHeight: 0.9,
        mergeValues: true,
        alignValue: 'left',
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
        tooltip: { mode: 'single', sort: 'none' },
      },
      fieldConfig: {
        defaults: fieldDefaults(unit, mappings, steps, null, null, null, null) {
          color: { mode: 'thresholds' },
          custom: { lineWidth: 0, fillOpacity: 70 },
        },
        overrides: [],
      },
    },

  // A table of instant queries.  `transformations` join/rename the frames; cells are coloured per column
  // with byName(column, { 'custom.cellOptions': { type: 'color-text' } }) overrides (the schema's
  // cellOptions oneOf cannot tell the cell types apart, so the defaults leave cellOptions out).
  table(title,
        targets,
        unit=null,
        description='',
        transformations=[],
        mappings=[],
        steps=[[null, 'green']],
        links=[],
        sortBy=[],
        overrides=[],
        decimals=null,
        noValue=null)::
    base('table', title, description) {
      targets: targets,
      transformations: transformations,
      options: {
        frameIndex: 0,
        showHeader: true,
        cellHeight: 'sm',
        footer: { show: false, reducer: ['sum'], countRows: false },
        [if sortBy != [] then 'sortBy']: sortBy,
      },
      fieldConfig: {
        defaults: fieldDefaults(unit, mappings, steps, null, null, decimals, noValue) {
          color: { mode: 'thresholds' },
          [if links != [] then 'links']: links,
          custom: { align: 'auto', inspect: false },
        },
        overrides: overrides,
      },
    },

  text(title, content)::
    base('text', title, '') {
      options: { mode: 'markdown', content: content },
    } + { datasource:: null },

  // A data link (field or panel).  The schema types field links as DashboardLink, hence the extra keys.
  link(title, url, targetBlank=true):: {
    title: title,
    type: 'link',
    url: url,
    icon: 'external link',
    tooltip: '',
    tags: [],
    asDropdown: false,
    targetBlank: targetBlank,
    includeVars: false,
    keepTime: false,
  },

  // A field override by column/series name.  Values must be objects (the schema's DynamicConfigValue),
  // so per-column units are not possible: tables keep one unit and use mappings/cell colours.
  // The schema wants object matcher options, hence `byNames` rather than `byName`.
  byName(name, props):: {
    matcher: { id: 'byNames', options: { mode: 'include', names: [name] } },
    properties: [{ id: k, value: props[k] } for k in std.objectFields(props)],
  },

  // ---- Transformations ------------------------------------------------------------------------
  // Join all table frames on their common label columns.
  merge:: { id: 'merge', options: {} },
  // Hide / rename / order columns: organize({ Time: null, 'Value #A': 'Score' }, ['target', ...]).
  organize(renames, order=[]):: {
    id: 'organize',
    options: {
      excludeByName: { [k]: true for k in std.objectFields(renames) if renames[k] == null },
      renameByName: { [k]: renames[k] for k in std.objectFields(renames) if renames[k] != null },
      indexByName: { [order[i]]: i for i in std.range(0, std.length(order) - 1) },
    },
  },

  // ---- Layout -----------------------------------------------------------------------------------
  // A collapsed=false row header.
  row(title):: { type: 'row', title: title, collapsed: false, panels: [], gridPos: { w: 24, h: 1 } },

  // Lay sections out top to bottom.  A section is a row header, an array of panels (placed left to
  // right with their gridPos.w/h, wrapping at 24 columns), or { block: [...], h: N } whose panels
  // already carry x and a relative y (for the overview's card-with-details columns).
  // Panel ids are assigned in order, so they are unique and stable.
  layout(sections)::
    local placeLine(state, p) =
      local wrap = state.x + p.gridPos.w > 24;
      local x = if wrap then 0 else state.x;
      local y = if wrap then state.y + state.lineH else state.y;
      local lineH = if wrap then p.gridPos.h else std.max(state.lineH, p.gridPos.h);
      state { x: x + p.gridPos.w, y: y, lineH: lineH, out+: [p { gridPos+: { x: x, y: y } }] };
    local placeSection(state, s) =
      if std.isArray(s) then
        local st = std.foldl(placeLine, s, { x: 0, y: state.y, lineH: 0, out: [] });
        state { y: st.y + st.lineH, out+: st.out }
      else if std.objectHas(s, 'block') then
        state { y: state.y + s.h, out+: [p { gridPos+: { y: state.y + p.gridPos.y } } for p in s.block] }
      else
        state { y: state.y + 1, out+: [s { gridPos+: { x: 0, y: state.y } }] };
    local placed = std.foldl(placeSection, sections, { y: 0, out: [] }).out;
    [placed[i] { id: i + 1 } for i in std.range(0, std.length(placed) - 1)],

  // Set a panel's size: lib.size(panel, w, h) or panel + lib.size(w, h).
  size(w, h):: { gridPos+: { w: w, h: h } },

  // ---- Variables --------------------------------------------------------------------------------
  datasourceVariable:: {
    type: 'datasource',
    name: 'datasource',
    label: 'Data source',
    query: 'prometheus',
    current: { text: 'default', value: 'default' },
    hide: 0,
    refresh: 1,
    regex: '',
    includeAll: false,
    multi: false,
    options: [],
  },

  // A label_values() variable, refreshed when the time range changes (refresh: 2).
  // allValue=null: "All" expands to the listed values, so a variable chained to another one (target
  // after pool) keeps the first one's filter.
  queryVariable(name, label, query, multi=true, includeAll=true, allValue='.*'):: {
    type: 'query',
    name: name,
    label: label,
    datasource: ds,
    query: query,
    definition: query,
    refresh: 2,
    sort: 1,
    multi: multi,
    includeAll: includeAll,
    [if includeAll && allValue != null then 'allValue']: allValue,
    current: if includeAll then { text: 'All', value: '$__all' } else { text: '', value: '' },
    options: [],
    hide: 0,
    regex: '',
  },

  // ---- Dashboard ----------------------------------------------------------------------------------
  dashboard(uid, title, description, panels, variables=[], tags=[], time='now-6h', refresh='1m', links=[]):: {
    uid: uid,
    title: title,
    description: description,
    tags: ['infrawatch'] + tags,
    editable: false,
    graphTooltip: 1,
    timezone: 'utc',
    time: { from: time, to: 'now' },
    refresh: refresh,
    schemaVersion: 39,
    version: 1,
    links: links,
    annotations: {
      list: [{
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      }],
    },
    templating: { list: [$.datasourceVariable] + variables },
    panels: panels,
  },

  // Links across the infrawatch dashboards (by tag), shown on every dashboard.
  dashboardLinks:: [{
    title: 'infrawatch',
    type: 'dashboards',
    icon: 'external link',
    tooltip: '',
    tags: ['infrawatch'],
    asDropdown: true,
    targetBlank: false,
    includeVars: false,
    keepTime: true,
  }],
}
