"""``infrawatch console``: the seed's Infrastructure Monitoring page on the Prometheus and Alertmanager APIs.

Modules: ``config`` (the console's YAML), ``services`` (service cards read from the mixin's overview
dashboard), ``sources`` (Prometheus / Alertmanager / reputation exporter clients), ``panels`` (the
three panels' data), ``actions`` (acknowledge, ticket, rotation, audit log), ``csrf``, ``app``
(routes and pages), ``main`` (flags and entry point).
"""
