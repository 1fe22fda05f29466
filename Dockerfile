# Vivolog web/worker/beat image. The Debian packages are those WeasyPrint needs to render PDFs
# (Pango, HarfBuzz through Pango, fonts) plus poppler-utils for reading PDFs back.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VIVOLOG_STATIC_ROOT=/app/var/static \
    VIVOLOG_MEDIA_ROOT=/app/var/media

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core poppler-utils curl \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 vivolog
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY config ./config
COPY planner ./planner
COPY labnotes ./labnotes
RUN pip install -c constraints.txt .
COPY manage.py ./
COPY templates ./templates
COPY static ./static
# collectstatic only needs a syntactically valid configuration, not a database or broker.
RUN VIVOLOG_SECRET_KEY=build-only-not-a-secret-0123456789abcdef \
    DATABASE_URL=postgresql://build@localhost/build \
    CELERY_BROKER_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput -v 0 \
 && mkdir -p /app/var/media && chown -R vivolog /app/var
USER vivolog
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
