"""Renderers of maintenance reports: Markdown and a self-contained HTML page with inline SVG charts."""
