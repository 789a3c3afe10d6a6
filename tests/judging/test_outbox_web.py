"""What the tablet's outbox needs from the pages: per-user storage keys, the waiting-marks panel on the
judge's homes, and a refused save that keeps what the judge typed or tapped (issue 15, findings 9 and 14)."""

import re
from decimal import Decimal as D

from comp.extensions import db
from tests.judging.conftest import criterion_of, entrant_of, mark_of


def test_the_sheet_keeps_its_outbox_under_the_judges_own_key(running, tablet):
    t = tablet(running)
    e1 = entrant_of(running, "E1")
    html = t.client.get(t.url(e1)).get_data(as_text=True)
    assert f'data-store="jx:mark:{t.judge.id}:{running.code}:{e1.secret_code}:"' in html
    assert f'data-user="{t.judge.id}"' in html  # app.js sends only this user's marks from any page


def test_the_judges_homes_carry_the_waiting_marks_panel(running, tablet):
    t = tablet(running)
    e1 = entrant_of(running, "E1")
    home = t.client.get("/").get_data(as_text=True)
    assert re.search(rf'<section id="outbox" class="outbox" hidden[^>]*data-prefix="jx:mark:{t.judge.id}:"', home)
    assert "Marks waiting to be sent" in home
    listing = t.client.get(f"/judge/{running.code}").get_data(as_text=True)
    assert f'data-prefix="jx:mark:{t.judge.id}:{running.code}:"' in listing
    assert f'data-outbox="jx:mark:{t.judge.id}:{running.code}:{e1.secret_code}:"' in listing
    assert 'hx-trigger="outbox-sent from:body"' in listing  # the list reloads once marks are sent


def test_pages_of_anonymous_visitors_name_no_user(client):
    assert "data-user" not in client.get("/login").get_data(as_text=True)


def test_a_save_refused_on_a_closed_sheet_keeps_the_typed_value(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    safety = criterion_of(running, "practical.safety")
    safety.fixed_scale, safety.step = True, D("2")  # tapped: one button per value 0, 2, …, 10
    running.status = "locked"
    db.session.commit()
    html = t.mark(e1, route, "30", 1).get_data(as_text=True)
    assert 'data-state="closed"' in html and "The scores are locked" in html
    assert 'value="30"' in html and "Saved value: 36" in html
    tapped = t.mark(e1, safety, "4", 1).get_data(as_text=True)
    assert re.search(r'<button type="button" name="value" value="4"\s+aria-pressed="true"', tapped)
    assert mark_of(t.judge, e1, route).value_cents == 3600
