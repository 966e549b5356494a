"""Live events: the pub/sub seam and the WebSocket endpoints."""
