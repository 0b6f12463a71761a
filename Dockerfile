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
USER 65534
EXPOSE 9516 9517
ENTRYPOINT []
CMD ["infrawatch-probe-exporter", "--config.file=/etc/infrawatch/probe.yml"]
