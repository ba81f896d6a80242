# hospmon's Python parts (exporters, inventory tools, router) in one image; docker-compose.yml builds it.
FROM python:3.11.11-slim-bookworm AS hospmon
WORKDIR /opt/hospmon
COPY pyproject.toml README.md ./
COPY hospmon ./hospmon
COPY exporters ./exporters
COPY alertrouter ./alertrouter
RUN pip install --no-cache-dir . && useradd --system --uid 10001 hospmon \
    && install -d -o hospmon -m 0700 /var/lib/hospmon-event-receiver
COPY rules ./rules
COPY demo ./demo
COPY deploy ./deploy
USER hospmon

# The simulated hospital (docker-compose.yml's `hospital` service): the same image plus the Debian programs
# the simulated systems run (SNMP agents, MariaDB, PostgreSQL, Orthanc, dcmtk).
FROM hospmon AS hospital
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends snmpd snmp snmpsim mariadb-server mariadb-client \
       postgresql orthanc dcmtk \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o hospmon /var/lib/hospmon/hospital
# The demo parts find demo/ and deploy/ beside the hospmon package: import it from the source tree.
ENV PATH="/usr/lib/postgresql/15/bin:${PATH}" PYTHONPATH=/opt/hospmon
USER hospmon
