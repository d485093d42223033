# The daemon as a non-root user. Mount the policy read-only and keep the state
# on a volume:
#   docker build -t dunning-connector .
#   docker run -v $PWD/dunning.yaml:/etc/dunning/dunning.yaml:ro \
#              -v dunning-state:/var/lib/dunning -e MONEYBIRD_TOKEN dunning-connector
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DUNNING_STATE_URL=sqlite:////var/lib/dunning/dunning.db \
    DUNNING_LOG_FORMAT=json

RUN useradd --system --uid 10001 --home-dir /var/lib/dunning --create-home dunning \
    && mkdir -p /etc/dunning /opt/dunning \
    && chown dunning:dunning /var/lib/dunning

WORKDIR /opt/dunning
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY adapters ./adapters
COPY config ./config
RUN pip install --no-cache-dir -e '.[postgres]'

USER dunning
WORKDIR /var/lib/dunning
VOLUME ["/var/lib/dunning"]
ENTRYPOINT ["dunning"]
CMD ["run", "--config", "/etc/dunning/dunning.yaml"]
