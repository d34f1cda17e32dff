"""The baseline of the API benchmark: a FastAPI endpoint that returns a constant.

Plain `def`, like the ledger's routes (the event store is synchronous), so both pay the
same thread-pool hop and the ratio shows what reading and rendering a table costs.
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/constant")
def constant() -> dict[str, str]:
    return {"status": "ok"}
