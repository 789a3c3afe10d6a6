"""Fixtures of certificates: published competitions past their notice period, workers, PDFs to read."""

from __future__ import annotations

import copy
import io
import os
import shutil
import subprocess
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw

from comp.extensions import db
from comp.models import Entrant, Worker
from comp.services import exchange
from comp.services.setup import lifecycle
from tests.conftest import SMALL, valid_id

NAMES = ["张三", "李四", "王堃", "陈喆", "林珺", "黄昇", "吴玥", "蔡犇", "郑燚", "许彧"]


def competition_doc(code: str, entrants: int = 10, names=NAMES) -> dict:
    """Return a complete competition of `entrants` entrants with distinct totals, in the exchange format."""
    doc = copy.deepcopy(SMALL)
    doc["competition"]["code"] = code
    doc["entrants"], doc["marks"] = [], []
    for n in range(1, entrants + 1):
        ref = f"E{n}"
        doc["entrants"].append(
            {
                "ref": ref,
                "name": names[(n - 1) % len(names)] + ("" if n <= len(names) else str(n)),
                "id_number": valid_id(100 + n),
                "employer": f"泉州第{n % 3 + 1}公司",
                "team": "",
                "status": "ok",
                "time_seconds": 600 + n,
            }
        )
        exam = str(100 - n)
        doc["marks"].append({"entrant": ref, "judge": "J1", "criterion": "theory.exam", "value": exam})
        for judge in ("J1", "J2", "J3"):
            doc["marks"].append(
                {"entrant": ref, "judge": judge, "criterion": "practical.route", "value": str(40 - n % 20)}
            )
        doc["marks"].append({"entrant": ref, "judge": "J2", "criterion": "practical.safety", "value": "9"})
    return doc


@pytest.fixture()
def published():
    """Return a factory of published competitions; `days` since publication (default 6: notice over)."""
    count = iter(range(1, 1000))

    def make(entrants: int = 10, days: float = 6, **header):
        doc = competition_doc(f"C-2026-{next(count):03d}", entrants)
        doc["competition"].update(header)
        competition = exchange.import_competition(doc)
        lifecycle.publish(competition)
        competition.published_at -= timedelta(days=days)
        db.session.commit()
        return competition

    return make


@pytest.fixture()
def issued(published):
    """Return a published competition whose certificates are issued, and the new certificates."""
    from comp.services import certs as certificates

    def make(entrants: int = 10, **header):
        competition = published(entrants, **header)
        return competition, certificates.issue(competition)

    return make


@pytest.fixture()
def worker_login(make_user, auth):
    """Return a helper giving an entrant's worker an account and logging it in."""

    def login(entrant: Entrant, username: str | None = None):
        username = username or f"w-{entrant.ref.lower()}-{entrant.competition_id}"
        make_user(username, "worker", worker_id=entrant.worker_id, display_name=entrant.name)
        auth.login(username)
        return db.session.get(Worker, entrant.worker_id)

    return login


@pytest.fixture()
def organizer(make_user, auth):
    """Log an organizer in (a city organizer without a unit manages every competition)."""
    make_user("organizer1", "organizer")
    auth.login("organizer1")


def seal_png(size: int = 300, color=(200, 20, 20, 230)) -> bytes:
    """Return a red, round seal with a star on a transparent background."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, size - 4, size - 4), outline=color, width=size // 25)
    s = size / 400
    star = [
        (200, 110),
        (225, 180),
        (300, 180),
        (240, 225),
        (262, 300),
        (200, 255),
        (138, 300),
        (160, 225),
        (100, 180),
        (175, 180),
    ]
    draw.polygon([(x * s, y * s) for x, y in star], fill=color)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pdftoppm() -> str:
    """Return poppler's pdftoppm; without it skip, or fail where CI requires the browser tools."""
    path = shutil.which("pdftoppm")
    if path is None:
        reason = "pdftoppm is missing: apt-get install poppler-utils (.ci/run installs it)"
        if os.environ.get("JIANGXIN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def rasterize(pdf: bytes, folder, dpi: int = 100, name: str = "page"):
    """Render page 1 of a PDF to a PNG with poppler's pdftoppm and return the image path."""
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [pdftoppm(), "-r", str(dpi), "-png", "-singlefile", "-f", "1", "-l", "1", str(source), str(folder / name)],
        check=True,
    )
    return folder / f"{name}.png"
