"""The approval queue, decisions one by one and in bulk, exports, and who may reach these pages."""

from __future__ import annotations

import html
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from comp.extensions import db
from comp.models import AuditEvent, Entrant
from comp.services import people
from tests.conftest import valid_id
from tests.registration.conftest import login, organizer_of, post

HTMX = {"HX-Request": "true"}


def text(response) -> str:
    """Return the page with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def audits(action: str) -> list[AuditEvent]:
    """Return the audit events of one action."""
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


@pytest.fixture()
def registered(open_competition, make_worker, tree):
    """Return a factory: a competition with `count` pending registrations R0001…"""

    def make(count: int = 3, **kwargs):
        competition = open_competition(**kwargs)
        for n in range(1, count + 1):
            worker = make_worker(
                f"工人{n:03d}",
                id_number=valid_id(n),
                employer_id=tree.aviation.id,
                trade="无人机驾驶员",
                skill_grade=3,
                phone=f"1390000{n:04d}",
            )
            db.session.add(
                Entrant(
                    competition_id=competition.id,
                    ref=f"R{n:04d}",
                    name=worker.name,
                    worker_id=worker.id,
                    employer_id=tree.aviation.id,
                )
            )
        db.session.commit()
        return competition

    return make


def rows(competition) -> dict[str, Entrant]:
    """Return ref → entrant, fresh from the database."""
    db.session.expire_all()
    return {e.ref: e for e in db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id))}


@pytest.fixture()
def organizer(auth, make_user, tree):
    """Log in an organizer of the city union."""
    user = organizer_of(make_user, tree.city)
    login(auth, "organizer")
    return user


def test_queue_shows_masked_ids_employer_trade_grade(client, organizer, registered):
    competition = registered()
    page = text(client.get(f"/competitions/{competition.code}/registrations"))
    assert valid_id(1)[:4] + "**********" + valid_id(1)[-4:] in page and valid_id(1) not in page
    assert "晋江翔鹭航空科技有限公司" in page and "无人机驾驶员" in page and "三级/高级工 (3)" in page
    assert page.count('name="ids"') == 3


def test_queue_filters_by_status_and_answers_htmx_with_the_table(client, organizer, registered):
    competition = registered()
    rows(competition)["R0002"].status = "approved"
    db.session.commit()
    response = client.get(f"/competitions/{competition.code}/registrations?status=approved", headers=HTMX)
    page = text(response)
    assert "<html" not in page and 'id="queue"' in page
    assert "R0002" in page and "R0001" not in page


def test_approve_one_swaps_its_row(client, organizer, registered):
    competition = registered()
    version = competition.version
    entrant = rows(competition)["R0001"]
    response = post(client, f"/competitions/{competition.code}/registrations/{entrant.id}/approve", headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "registration-decided"
    page = text(response)
    assert "<html" not in page and page.strip().startswith(f'<tr id="reg-{entrant.id}"') and "Approved" in page
    assert rows(competition)["R0001"].status == "approved"
    [event] = audits("registration.approved")
    assert (event.object_id, event.actor_id, event.detail["previous"]) == (entrant.id, organizer.id, "pending")
    db.session.refresh(competition)
    assert competition.version == version + 1


def test_reject_needs_a_reason_and_the_worker_sees_it(client, auth, organizer, registered, make_user):
    competition = registered()
    entrant = rows(competition)["R0001"]
    url = f"/competitions/{competition.code}/registrations/{entrant.id}/reject"
    response = post(client, url, {"reason": "  "}, headers=HTMX)
    assert response.status_code == 200 and "Give the reason for the rejection" in text(response)
    assert rows(competition)["R0001"].status == "pending" and not audits("registration.rejected")
    response = post(client, url, {"reason": "缺少技能等级证书"}, headers=HTMX)
    assert "缺少技能等级证书" in text(response)
    assert (rows(competition)["R0001"].status, rows(competition)["R0001"].status_reason) == (
        "rejected",
        "缺少技能等级证书",
    )
    assert audits("registration.rejected")[0].detail["reason"] == "缺少技能等级证书"
    auth.logout()
    user = make_user("w1", "worker", locale="en")
    user.worker_id = entrant.worker_id
    db.session.commit()
    login(auth, "w1")
    home = text(client.get("/"))
    assert "Rejected" in home and "缺少技能等级证书" in home


def test_decision_without_htmx_goes_back_to_the_queue(client, organizer, registered):
    competition = registered()
    entrant = rows(competition)["R0003"]
    response = post(client, f"/competitions/{competition.code}/registrations/{entrant.id}/approve")
    assert response.status_code == 302 and response.location.endswith("/registrations")
    assert rows(competition)["R0003"].status == "approved"


def test_bulk_approve_and_reject_with_audit_rows(client, organizer, registered):
    competition = registered(5)
    ids = {ref: e.id for ref, e in rows(competition).items()}
    url = f"/competitions/{competition.code}/registrations/decide"
    response = post(client, url, {"verdict": "approve", "ids": [ids["R0001"], ids["R0002"], ids["R0003"]]})
    assert response.status_code == 302
    assert [e.status for _, e in sorted(rows(competition).items())] == ["approved"] * 3 + ["pending"] * 2
    assert len(audits("registration.approved")) == 3 and all(e.detail["bulk"] for e in audits("registration.approved"))
    post(client, url, {"verdict": "reject", "ids": [ids["R0004"], ids["R0005"]]})
    assert "Give the reason" in text(client.get(f"/competitions/{competition.code}/registrations"))
    assert rows(competition)["R0004"].status == "pending"
    post(client, url, {"verdict": "reject", "reason": "名额已满", "ids": [ids["R0004"], ids["R0005"]]})
    assert {rows(competition)[r].status_reason for r in ("R0004", "R0005")} == {"名额已满"}
    assert len(audits("registration.rejected")) == 2


def test_bulk_decision_is_all_or_nothing(client, organizer, registered):
    competition = registered(3)
    entrants = rows(competition)
    entrants["R0003"].status = "withdrawn"
    db.session.commit()
    response = post(
        client,
        f"/competitions/{competition.code}/registrations/decide",
        {"verdict": "approve", "ids": [e.id for e in entrants.values()]},
    )
    assert response.status_code == 302
    assert "These registrations cannot be changed: R0003 (Withdrawn)" in text(client.get(response.location))
    assert {e.status for e in rows(competition).values()} == {"pending", "withdrawn"}
    assert not audits("registration.approved")


def test_approving_a_rejected_registration_needs_a_free_place(client, organizer, registered):
    competition = registered(2, capacity=2)
    entrants = rows(competition)
    entrants["R0001"].status = "rejected"
    db.session.commit()
    db.session.add(Entrant(competition_id=competition.id, ref="R0003", name="后来者"))
    db.session.commit()
    response = post(
        client, f"/competitions/{competition.code}/registrations/{entrants['R0001'].id}/approve", headers=HTMX
    )
    assert "The competition is full" in text(response)
    assert rows(competition)["R0001"].status == "rejected"


def test_decisions_stop_once_the_competition_runs(client, organizer, registered):
    competition = registered(1)
    competition.status = "running"
    db.session.commit()
    entrant = rows(competition)["R0001"]
    response = post(client, f"/competitions/{competition.code}/registrations/{entrant.id}/approve", headers=HTMX)
    assert "only while registration is open or just closed" in text(response)


def test_ids_of_another_competition_are_refused(client, organizer, registered):
    mine, other = registered(1), registered(0)
    foreign = rows(mine)["R0001"]
    response = post(
        client, f"/competitions/{other.code}/registrations/decide", {"verdict": "approve", "ids": [foreign.id]}
    )
    assert "do not belong to this competition" in text(client.get(response.location))
    assert post(client, f"/competitions/{other.code}/registrations/{foreign.id}/approve").status_code == 404


def sheet_rows(response) -> list[tuple]:
    """Return the rows of a downloaded workbook."""
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


def test_export_masks_id_numbers_and_neutralises_formulas(client, organizer, registered):
    competition = registered(2)
    rows(competition)["R0002"].name = '=HYPERLINK("http://x")'
    db.session.commit()
    response = client.get(f"/competitions/{competition.code}/registrations.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    data = sheet_rows(response)
    assert data[0][:4] == ("Ref", "Number", "Name", "ID number")
    assert data[1][3] == people.idcard.mask(valid_id(1)) and data[1][5] == "139****0001"
    assert data[2][2] == '\'=HYPERLINK("http://x")'
    assert not audits("registrations.exported_full")


def test_full_export_shows_numbers_and_is_audited(client, organizer, registered):
    competition = registered(2)
    data = sheet_rows(client.get(f"/competitions/{competition.code}/registrations.xlsx?full=1"))
    assert [r[3] for r in data[1:]] == [valid_id(1), valid_id(2)] and data[1][5] == "13900000001"
    [event] = audits("registrations.exported_full")
    assert event.detail["count"] == 2 and event.actor_id == organizer.id


def test_entrants_export_holds_only_accepted_entrants(client, organizer, registered):
    competition = registered(3)
    rows(competition)["R0002"].status = "approved"
    db.session.commit()
    data = sheet_rows(client.get(f"/competitions/{competition.code}/entrants.xlsx"))
    assert [r[0] for r in data[1:]] == ["R0002"]


PAGES = [
    "/registrations",
    "/registrations.xlsx",
    "/registrations.xlsx?full=1",
    "/entrants.xlsx",
    "/registrations/upload",
    "/registrations/template.xlsx",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["worker", "judge"])
def test_workers_and_judges_are_kept_out(client, auth, make_user, registered, role, path):
    competition = registered(1)
    make_user("someone", role)
    login(auth, "someone")
    assert client.get(f"/competitions/{competition.code}{path}").status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_another_countys_organizer_is_kept_out(client, auth, make_user, registered, tree, path):
    competition = registered(1, organizer=tree.jinjiang)
    organizer_of(make_user, tree.shishi, "shishi")
    login(auth, "shishi")
    assert client.get(f"/competitions/{competition.code}{path}").status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_the_countys_own_organizer_gets_in(client, auth, make_user, registered, tree, path):
    competition = registered(1, organizer=tree.jinjiang)
    organizer_of(make_user, tree.jinjiang, "jinjiang")
    login(auth, "jinjiang")
    assert client.get(f"/competitions/{competition.code}{path}").status_code == 200


def test_liaison_reaches_upload_but_not_queue_or_export(client, auth, make_user, registered, tree):
    competition = registered(1, organizer=tree.jinjiang)
    organizer_of(make_user, tree.aviation, "liaison")
    login(auth, "liaison")
    for path in PAGES[:4]:
        assert client.get(f"/competitions/{competition.code}{path}").status_code == 403
    for path in PAGES[4:]:
        assert client.get(f"/competitions/{competition.code}{path}").status_code == 200
    assert competition.code in text(client.get("/registrations/bulk"))


def test_liaison_of_another_county_cannot_upload(client, auth, make_user, registered, tree):
    competition = registered(1, organizer=tree.jinjiang)
    organizer_of(make_user, tree.garment, "liaison")
    login(auth, "liaison")
    assert client.get(f"/competitions/{competition.code}/registrations/upload").status_code == 403
    assert competition.code not in text(client.get("/registrations/bulk"))


def test_worker_cannot_decide(client, auth, make_user, registered):
    competition = registered(1)
    make_user("w", "worker")
    login(auth, "w")
    entrant = rows(competition)["R0001"]
    assert post(client, f"/competitions/{competition.code}/registrations/{entrant.id}/approve").status_code == 403
    assert (
        post(
            client,
            f"/competitions/{competition.code}/registrations/decide",
            {"verdict": "approve", "ids": [entrant.id]},
        ).status_code
        == 403
    )
    assert rows(competition)["R0001"].status == "pending"
