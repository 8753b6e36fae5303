# syntax=docker/dockerfile:1
# Build stage: a wheel and its dependencies, compiled where needed.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY inferia ./inferia
RUN python -m venv /opt/inferia && /opt/inferia/bin/pip install --no-cache-dir .

# Runtime stage: the venv only, as a non-root user.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/inferia --create-home inferia
COPY --from=build /opt/inferia /opt/inferia
COPY inferia.toml /etc/inferia/inferia.toml
ENV PATH=/opt/inferia/bin:$PATH \
    INFERIA_CONFIG=/etc/inferia/inferia.toml \
    INFERIA_DATA_DIR=/var/lib/inferia \
    INFERIA_SERVER__HOST=0.0.0.0
USER inferia
VOLUME ["/var/lib/inferia"]
EXPOSE 8000 8001 8080 3001 50051
ENTRYPOINT ["inferia"]
CMD ["serve"]
