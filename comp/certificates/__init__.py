"""Certificate PDFs (reportlab only): layout, rendering to bytes, numbering, verification codes."""

from comp.certificates.layout import CertificatePage, Sheets, render  # noqa: F401
