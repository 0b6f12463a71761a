# One image for both exporters and the `infrawatch` CLI.
#   docker build -t infrawatch .
#   docker run -p 9516:9516 infrawatch          # the probe exporter with the default config below
#   docker run -v "$PWD/probe.yml:/etc/infrawatch/probe.yml:ro" -p 9516:9516 infrawatch
#   docker run -v "$PWD/reputation.yml:/etc/infrawatch/reputation.yml:ro" -p 9517:9517 infrawatch \
#     infrawatch-reputation-exporter --config.file=/etc/infrawatch/reputation.yml
# tests/deploy/test_image.py checks, without an engine, that the default command's config is in the
# image and valid, and starts the exporter on it.
# The base image (a Python 3.11 with pip on Debian); tests/deploy/test_compose.py, where no registry
# is reachable, passes a local Debian image built with debootstrap instead.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporters ./exporters
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 65534 --no-create-home --shell /usr/sbin/nologin infrawatch || true
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY examples /etc/infrawatch/examples
# Default configurations (deploy/image/): the image starts without a mount; mount yours over them.
COPY deploy/image/probe.yml deploy/image/reputation.yml /etc/infrawatch/
# The reputation exporter's state_file directory: a named volume mounted here (docker-compose.yml)
# takes this owner, so the unprivileged user can write the state.
RUN mkdir -p /var/lib/infrawatch && chown 65534:65534 /var/lib/infrawatch
USER 65534
EXPOSE 9516 9517 9518
ENTRYPOINT []
CMD ["infrawatch-probe-exporter", "--config.file=/etc/infrawatch/probe.yml"]
