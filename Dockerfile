# syntax=docker/dockerfile:1
# Build stage: wheels for the ledger and its pinned dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
COPY projections ./projections
COPY examples ./examples
RUN pip wheel --no-cache-dir -c constraints.txt --wheel-dir /wheels .

# Runtime stage: no compilers, a non-root user.
FROM python:3.11-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 ledger
USER ledger
WORKDIR /home/ledger
ENV LEDGER_DATABASE_URL=sqlite:////home/ledger/data/ledger.sqlite
ENTRYPOINT ["ledger"]
CMD ["budgets"]
