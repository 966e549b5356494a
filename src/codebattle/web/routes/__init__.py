"""HTTP and WebSocket routes: each parses, calls a service, renders or sends."""
