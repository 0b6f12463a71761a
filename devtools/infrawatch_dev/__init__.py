"""infrawatch's development package: what builds, demos and tests the product, kept out of it.

- ``build``: ``make build`` / ``infrawatch build`` (Jsonnet mixin -> rules/, dashboards/, alertmanager/).
- ``slo_import``: Sloth / OpenSLO / Pyrra SLO specs read for the build.
- ``devstack``: the local stack behind ``make demo`` and the end-to-end tests.

The product (``infrawatch``: the two exporters and the console) never imports this package; the
``infrawatch build`` subcommand loads it lazily and says how to install it when it is missing.
"""
