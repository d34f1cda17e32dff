# syntax=docker/dockerfile:1
# The ledger's HTTP service. Linted by hadolint in the test suite (tests/test_dockerfile.py).
#
#   docker build -t budget-ledger .
#   docker run -p 8000:8000 -e LEDGER_DATABASE_URL=postgresql://USER:PW@HOST:5432/DB budget-ledger
#
# Without LEDGER_DATABASE_URL the service keeps an embedded SQLite store in /var/lib/ledger
# (mount a volume there to keep it).

# Build stage: wheels of the ledger and of exactly the pinned versions of its dependencies.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
COPY projections ./projections
COPY examples ./examples
RUN pip wheel --no-cache-dir --constraint constraints.txt --wheel-dir /wheels .

# Runtime stage: no build tooling, an unprivileged user, installs only the built wheels.
FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEDGER_DATABASE_URL=sqlite:////var/lib/ledger/ledger.sqlite
# A CJK font: PDFium reads a document whose Chinese font is not embedded (common in published
# disclosures) only with a stand-in font on the machine; without one the reader falls back to
# pdfminer for those pages, about 2.5x slower (ingest/pdf.py). Debian bookworm's version.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei=0.2.0-beta-3.1 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 ledger \
    && useradd --system --uid 10001 --gid ledger --home-dir /var/lib/ledger --create-home ledger
COPY --from=build /wheels /wheels
# --no-index: only what the build stage resolved against constraints.txt, nothing fetched anew.
RUN pip install --no-cache-dir --no-index --find-links /wheels /wheels/budget_ledger-*.whl \
    && rm -rf /wheels
USER 10001:10001
WORKDIR /var/lib/ledger
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["ledger"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
