"""No public page or API ever shows an ID number, full or masked, or a phone number, to anyone."""

from __future__ import annotations

import copy
import html
import re

import pytest

from comp.extensions import db
from comp.services import certs as certificates
from comp.services import people
from comp.services.results import objections
from comp.services.setup import lifecycle
from tests.conftest import SMALL, valid_id

PHONES = ["13905951234", "15880001111", "18659590000", "17750502222", "13600003333", "19959594444"]
MASKED = re.compile(r"\d{4}\*+\d{3}[\dX]")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def competition_doc(code: str, workers) -> dict:
    """Return a complete competition of the workers in two teams, with distinct totals."""
    doc = copy.deepcopy(SMALL)
    doc["competition"].update(code=code, name=f"{code} 无人机驾驶员竞赛")
    doc["entrants"], doc["marks"] = [], []
    for n, worker in enumerate(workers, 1):
        ref = f"E{n}"
        doc["entrants"].append(
            {
                "ref": ref,
                "name": worker.name,
                "id_number": people.id_number(worker),
                "employer": f"泉州第{n % 2 + 1}公司",
                "team": f"第{n % 2 + 1}队",
                "status": "ok",
                "time_seconds": 600 + n,
            }
        )
        doc["marks"].append({"entrant": ref, "judge": "J1", "criterion": "theory.exam", "value": str(100 - n)})
        doc["marks"] += [
            {"entrant": ref, "judge": j, "criterion": "practical.route", "value": str(40 - n)}
            for j in ("J1", "J2", "J3")
        ]
        doc["marks"].append({"entrant": ref, "judge": "J2", "criterion": "practical.safety", "value": "9"})
    return doc


@pytest.fixture()
def workers(make_worker):
    """Workers with ID numbers and phone numbers on file."""
    names = ["张三", "李四", "王堃", "陈喆", "林珺", "黄昇"]
    return [
        make_worker(name, id_number=valid_id(500 + n, birth="19850615"), phone=phone)
        for n, (name, phone) in enumerate(zip(names, PHONES))
    ]


@pytest.fixture()
def pages(workers):
    """Every public page of a published competition (certificates issued) and of a running one."""
    from comp.services import exchange

    published = exchange.import_competition(competition_doc("PUB-2026-001", workers))
    lifecycle.publish(published)
    running = exchange.import_competition(competition_doc("RUN-2026-001", workers))
    running.status = "running"
    db.session.commit()
    issued = certificates.issue(published, actor=None, now=True)
    assert issued
    objections.lodge(published, "王五", "13800138000", "第2名的实操成绩有误，请复核。")
    entrants = {e.worker_id for e in published.entrants}
    assert entrants == {w.id for w in workers}  # the imported entrants are these workers
    urls = [
        "/c/",
        f"/c/{published.code}/results",
        f"/c/{published.code}/live",
        f"/c/{published.code}/live?screen=1",
        f"/c/{running.code}/live",
        f"/c/{running.code}/live?screen=1",
        f"/api/v1/competitions/{published.code}/results",
    ]
    for certificate in issued:
        urls += [
            f"/verify/{certificate.number}",
            f"/verify/{certificate.number}?c={certificate.verify_code}",
            f"/api/v1/certificates/{certificate.number}?c={certificate.verify_code}",
        ]
    return urls


def test_workers_have_the_private_data_to_hide(workers):
    for worker, phone in zip(workers, PHONES):
        assert worker.phone == phone and MASKED.fullmatch(worker.id_masked) and ID.fullmatch(people.id_number(worker))


def test_no_public_page_shows_an_id_number_or_a_phone_number(client, workers, pages):
    secrets = [people.id_number(w) for w in workers] + [w.id_masked for w in workers] + PHONES + ["13800138000"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = html.unescape(response.get_data(as_text=True))
        assert not MASKED.search(body), url
        assert not PHONE.search(body), url
        assert not ID.search(body), url
        for secret in secrets:
            assert secret not in body, (url, secret)


def test_the_pages_checked_show_the_results(client, workers, pages):
    """The pages above are the real ones: names on the results, the verdict on the verification."""
    results = html.unescape(client.get(pages[1]).get_data(as_text=True))
    assert all(w.name in results for w in workers) and 'id="teams-heading"' in results
    assert "PUB-2026-001" in client.get("/c/").get_data(as_text=True)
    assert "verdict-valid" in client.get(next(u for u in pages if "/verify/" in u and "?c=" in u)).get_data(
        as_text=True
    )
    assert client.get(next(u for u in pages if u.startswith("/api/v1/certificates/"))).get_json()["status"] == "valid"
