"""Server-rendered pages: templates, static files, request helpers."""
