"""Published results for everyone: the notice period, objections, and no ID or phone numbers ever."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Objection, Worker
from comp.services import results
from comp.services.setup import lifecycle
from tests.chief.helpers import entrant, htmx_post, login_judge
from tests.conftest import csrf_token


@pytest.fixture()
def published(make_competition):
    """A published competition whose entrant E1 has a phone number on file."""
    competition = make_competition(status="locked")
    worker = db.session.get(Worker, entrant(competition, "E1").worker_id)
    worker.phone = "13905951234"
    db.session.commit()
    lifecycle.publish(competition)
    return competition


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def lodge(client, competition, **fields):
    data = {"name": "王五", "contact": "13800000000", "text": "第2名的实操成绩有误，请复核。"} | fields
    data["csrf_token"] = csrf_token(client, f"/c/{competition.code}/results")
    return client.post(f"/c/{competition.code}/objections", data=data)


def test_results_are_404_before_publication(client, make_competition):
    for status in ("running", "locked"):
        competition = make_competition(status=status)
        assert client.get(f"/c/{competition.code}/results").status_code == 404
    assert client.get("/c/NO-SUCH/results").status_code == 404


def test_published_results_show_names_employers_and_the_notice_period(client, published):
    response = client.get(f"/c/{published.code}/results")
    assert response.status_code == 200
    page = text(response)
    for name in ("张三", "李四", "晋江无人机公司", "石狮无人机公司"):
        assert name in page
    assert {r["award"] for r in results.document(published)["results"]} - {None} <= {"二等奖", "三等奖"}
    assert '<span class="award">二等奖</span>' in page
    ends = lifecycle.notice_ends(published)
    assert f'<time datetime="{ends.isoformat()}Z"' in page
    # One sentence with the date inside it, in the ISO form every page uses, and its own full stop.
    assert re.search(r"The notice period ends on <time [^>]+>\d{4}-\d\d-\d\d \d\d:\d\d</time>\.</p>", page)
    assert "5 days left" in page
    assert 'action="/c/' + published.code + '/objections"' in page


def test_public_pages_never_show_id_or_phone_numbers(client, published):
    worker = db.session.get(Worker, entrant(published, "E1").worker_id)
    assert worker.id_masked and worker.phone
    for url in (f"/c/{published.code}/results", f"/c/{published.code}/live", f"/c/{published.code}/live?screen=1"):
        page = text(client.get(url))
        assert worker.id_masked not in page and worker.id_masked[-4:] not in page
        assert worker.phone not in page


def test_archived_results_stay_public_without_the_form(client, published):
    published.status = "archived"
    db.session.commit()
    page = text(client.get(f"/c/{published.code}/results"))
    assert "张三" in page and 'id="objection"' not in page


def test_a_valid_objection_is_stored_audited_and_reaches_the_chief(client, auth, published):
    response = lodge(client, published)
    assert response.status_code == 303
    assert f"/c/{published.code}/objections/" in response.headers["Location"]  # its status page
    assert "Your objection has been received" in text(client.get(response.headers["Location"]))
    objection = db.session.scalar(sa.select(Objection))
    assert (objection.name, objection.contact, objection.status) == ("王五", "13800000000", "open")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "objection.lodged"))
    assert event.object_id == objection.id and "13800000000" not in str(event.detail)
    login_judge(auth, published, "J1")
    page = text(client.get(f"/chief/{published.code}"))
    assert "第2名的实操成绩有误" in page and "王五" in page and "13800000000" in page


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"text": "  "}, "Write what you object to."),
        ({"text": "长" * 2001}, "Keep the objection to 2000 characters."),
        ({"name": ""}, "Give your name."),
        ({"contact": "tomorrow"}, "Give a phone number or e-mail address we can reach you at."),
    ],
)
def test_an_invalid_objection_is_refused_with_its_message(client, published, fields, message):
    response = lodge(client, published, **fields)
    assert response.status_code == 422
    assert message in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Objection)) == 0


def test_an_e_mail_contact_is_accepted(client, published):
    assert lodge(client, published, contact="wang@example.com").status_code == 303


def test_objections_need_the_csrf_token(client, published):
    data = {"name": "x", "contact": "13800000000", "text": "y"}
    response = client.post(f"/c/{published.code}/objections", data=data)
    assert response.status_code == 400


def test_objections_are_rate_limited_per_address(client, published):
    for _ in range(5):
        assert lodge(client, published).status_code == 303
    assert lodge(client, published).status_code == 429
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Objection)) == 5


def test_no_objection_after_the_notice_period(client, published):
    published.published_at -= timedelta(days=6)
    db.session.commit()
    page = text(client.get(f"/c/{published.code}/results"))
    assert 'id="objection"' not in page and "The notice period is over" in page
    response = lodge(client, published)
    assert response.status_code == 422
    assert "Objections are accepted only during the notice period." in text(response)


# ------------------------------------------------------------------ rulings on the console


def test_the_chief_records_a_ruling_once(client, auth, published):
    lodge(client, published)
    objection = db.session.scalar(sa.select(Objection))
    chief = login_judge(auth, published, "J1")
    url = f"/chief/{published.code}/objections/{objection.id}"
    assert "Write the ruling" in text(htmx_post(client, url, {"status": "dismissed", "ruling": ""}))
    response = htmx_post(client, url, {"status": "dismissed", "ruling": "经复核，成绩无误。"})
    assert "The ruling is recorded." in text(response)
    db.session.refresh(objection)
    assert (objection.status, objection.ruling, objection.ruled_by_id) == ("dismissed", "经复核，成绩无误。", chief.id)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "objection.dismissed"))
    assert event.actor_id == chief.id and event.detail["ruling"] == "经复核，成绩无误。"
    again = htmx_post(client, url, {"status": "upheld", "ruling": "改判"})
    assert "ruled on already" in text(again)


def test_only_the_chief_rules(client, auth, make_user, published):
    lodge(client, published)
    objection = db.session.scalar(sa.select(Objection))
    make_user("boss", "organizer", locale="en")
    auth.login("boss")
    url = f"/chief/{published.code}/objections/{objection.id}"
    assert "王五" in text(client.get(f"/chief/{published.code}"))
    assert htmx_post(client, url, {"status": "upheld", "ruling": "x"}).status_code == 403


def test_a_ruling_names_an_objection_of_this_competition(client, auth, published):
    login_judge(auth, published, "J1")
    response = htmx_post(client, f"/chief/{published.code}/objections/999", {"status": "upheld", "ruling": "x"})
    assert "No such objection" in text(response)
