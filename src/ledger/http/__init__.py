"""The HTTP entrypoint: the JSON API and the web page (FastAPI, served by uvicorn)."""
