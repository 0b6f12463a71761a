# One image for both exporters and the `infrawatch` CLI.
#   docker build -t infrawatch .
#   docker run infrawatch infrawatch-probe-exporter --config.file=/etc/infrawatch/probe.yml
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporters ./exporters
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 65534 --no-create-home --shell /usr/sbin/nologin infrawatch || true
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY examples /etc/infrawatch/examples
# The reputation exporter's state_file directory: a named volume mounted here (docker-compose.yml)
# takes this owner, so the unprivileged user can write the state.
RUN mkdir -p /var/lib/infrawatch && chown 65534:65534 /var/lib/infrawatch
USER 65534
EXPOSE 9516 9517
ENTRYPOINT []
CMD ["infrawatch-probe-exporter", "--config.file=/etc/infrawatch/probe.yml"]
