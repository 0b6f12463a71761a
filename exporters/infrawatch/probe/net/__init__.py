"""Network helpers the probers share: ``dial`` (TCP connect, STARTTLS), ``tls`` (TLS metrics,
unverified chain reading), ``resolve`` (address family choice) and ``health`` (JSON health
documents).  They sit beneath ``probers/`` and import only ``probe/context.py``, ``sink.py``,
``failures.py``, ``families.py`` and ``core/``; never a prober or the prober table."""
