// Grafana provisioning: a file dashboard provider for the generated JSON files and the Prometheus data
// source the dashboards' `datasource` variable defaults to.
{
  grafanaProvisioning+:: {
    local dcfg = $._config.dashboards,
    'dashboards.yaml': {
      apiVersion: 1,
      providers: [{
        name: 'infrawatch',
        orgId: 1,
        // The mixin's grafanaDashboardFolder (dashboards.grafanaFolder unless an importer sets the
        // field itself, as kube-prometheus users do), so Grafana and the importer agree.
        folder: if std.objectHasAll($, 'grafanaDashboardFolder') then $.grafanaDashboardFolder else dcfg.grafanaFolder,
        type: 'file',
        // The dashboards are generated: edits belong in jsonnet/, not in the Grafana UI.
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: dcfg.grafanaDashboardsPath, foldersFromFilesStructure: false },
      }],
    },
    'datasources.yaml': {
      apiVersion: 1,
      datasources: [{
        name: dcfg.prometheusDatasourceName,
        uid: dcfg.prometheusDatasourceUID,
        type: 'prometheus',
        access: 'proxy',
        url: dcfg.prometheusURL,
        isDefault: true,
        editable: false,
        jsonData: { timeInterval: $._config.scrapeInterval },
      }],
    },
  },
}
