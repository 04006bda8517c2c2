"""The live API: FastAPI app, WebSocket hub, token check and the live state it serves."""
