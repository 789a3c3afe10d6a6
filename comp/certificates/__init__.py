"""Certificate PDFs (reportlab only): layout, rendering to bytes, numbering, verification codes."""
