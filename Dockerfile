# hospmon's Python parts (exporters, inventory tools, router) in one image.
FROM python:3.11.11-slim-bookworm
WORKDIR /opt/hospmon
COPY pyproject.toml README.md ./
COPY hospmon ./hospmon
COPY exporters ./exporters
COPY alertrouter ./alertrouter
RUN pip install --no-cache-dir . && useradd --system --uid 10001 hospmon
COPY rules ./rules
COPY demo ./demo
USER hospmon
