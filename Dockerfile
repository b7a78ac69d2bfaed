# syntax=docker/dockerfile:1
# One image for every process of every service; docker-compose.yml picks the process with `command`
# (the entrypoint is the `cs` CLI, so `command: ["serve", "intake"]` runs `cs serve intake`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Non-root user. /var/run/cs-metrics is where compose mounts each service's metrics volume
# (CS_METRICS_DIR); it is created here owned by the user so a fresh volume is writable.
RUN groupadd --system --gid 10001 cs \
 && useradd --system --uid 10001 --gid cs --no-create-home --home-dir /app \
      --shell /usr/sbin/nologin cs \
 && mkdir -p /var/run/cs-metrics \
 && chown cs:cs /var/run/cs-metrics

WORKDIR /app

# Dependencies first, in their own layer, so a code change does not reinstall them all.
# (All of them are wheels — psycopg[binary] included — so no compilers are needed.)
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Then the project itself. README.md is optional (the glob lets the build go on without it).
COPY Procfile README.md* ./
COPY shared/ shared/
COPY services/ services/
COPY demo/ demo/
RUN pip install --no-deps . \
 && rm -rf build ./*.egg-info

USER cs

ENTRYPOINT ["cs"]
CMD ["--help"]
