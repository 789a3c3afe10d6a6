"""A ZIP of single-certificate PDFs, written one certificate at a time."""

from __future__ import annotations

import zipfile

from comp.certificates.layout import CertificatePage, render


class Archive:
    """A ZIP file on disk holding one PDF per certificate; memory holds one certificate at a time."""

    def __init__(self, path: str):
        # Stored, not deflated: the PDFs inside are compressed already.
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED)
        self.pages = 0

    def add(self, page: CertificatePage) -> None:
        """Render one certificate and write it into the archive."""
        self.zip.writestr(f"{page.number}.pdf", render(page))
        self.pages += 1

    def close(self) -> None:
        """Finish the archive."""
        self.zip.close()
