# hospmon's Python parts (exporters, inventory tools, router) in one image; docker-compose.yml builds it.
# The image installs the wheel, as an operator would (docs/operator.md), with the dependencies pinned in
# requirements-image.txt (`make lock` writes it with pip-compile).
FROM python:3.11.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY hospmon ./hospmon
COPY exporters ./exporters
COPY alertrouter ./alertrouter
COPY demo ./demo
COPY rules ./rules
COPY dashboards ./dashboards
COPY deploy ./deploy
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11.11-slim-bookworm AS hospmon
COPY --from=wheel /dist /opt/hospmon/dist
COPY requirements-image.txt /opt/hospmon/
RUN pip install --no-cache-dir --constraint /opt/hospmon/requirements-image.txt \
        "$(ls /opt/hospmon/dist/hospmon-*.whl)[all]" \
    && useradd --system --uid 10001 hospmon \
    && install -d -o hospmon -m 0700 /var/lib/hospmon-event-receiver
USER hospmon

# The simulated hospital (docker-compose.yml's `hospital` service): the same image plus the demo's Python
# parts and the Debian programs the simulated systems run (SNMP agents, MariaDB, PostgreSQL, Orthanc, dcmtk).
FROM hospmon AS hospital
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends snmpd snmp snmpsim mariadb-server mariadb-client \
       postgresql orthanc dcmtk \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir --constraint /opt/hospmon/requirements-image.txt \
        "$(ls /opt/hospmon/dist/hospmon-*.whl)[demo]" \
    && install -d -o hospmon /var/lib/hospmon/hospital
ENV PATH="/usr/lib/postgresql/15/bin:${PATH}"
USER hospmon
