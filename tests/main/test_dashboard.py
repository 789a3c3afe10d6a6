"""The city dashboard on the organizer home: every figure against a count made here, the year filter, the page."""

from __future__ import annotations

import html
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from comp.extensions import db
from comp.models import Certificate, Competition, Entrant, OrgUnit, Standing, Unit
from comp.services.common import computed
from comp.services.dashboard import citystats

# Written out again here rather than imported, so a change to the service's rules shows.
HELD = {"running", "locked", "published", "archived"}
COUNTED = {"approved", "ok", "absent", "disqualified"}
CITY_LEVEL = "City level"


@pytest.fixture(autouse=True)
def _no_cached_figures():
    """Start every test without figures cached by an earlier one (ids repeat once tables are wiped)."""
    citystats.forget()
    yield
    citystats.forget()


@dataclass
class City:
    """The union tree and the competitions the tests count."""

    city: OrgUnit
    jinjiang: OrgUnit
    shishi: OrgUnit
    codes: list[str]


def _entrant(competition, ref, employer, status, name="王五"):
    entrant = Entrant(
        competition_id=competition.id,
        ref=ref,
        type="person",
        name=name,
        employer_id=employer.id if employer else None,
        status=status,
    )
    db.session.add(entrant)
    db.session.flush()
    return entrant


def _certificate(entrant, number, status="valid"):
    db.session.add(
        Certificate(
            number=number,
            entrant_id=entrant.id,
            award="一等奖",
            rank=1,
            issued_on=date(2025, 6, 1),
            verify_code="ABC123",
            status=status,
        )
    )


def _standing(competition, entrant, award, unit=None):
    db.session.add(
        Standing(
            competition_id=competition.id,
            entrant_id=entrant.id,
            worker_id=entrant.worker_id,
            unit_id=unit.id if unit else None,
            year=competition.year,
            rank=None,
            award=award,
            stages={},
        )
    )


def _entrants_of(competition) -> dict[str, Entrant]:
    return {e.ref: e for e in db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id))}


@pytest.fixture()
def city(make_competition) -> City:
    """Build two counties, competitions of three years in every state, entrants, awards, certificates, units."""
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    shishi = OrgUnit(kind="county", name="石狮市总工会", parent=city)
    # The imported entrants E1 and E2 are employed by these two, found by name.
    jj_firm = OrgUnit(kind="enterprise", name="晋江无人机公司", parent=jinjiang)
    ss_firm = OrgUnit(kind="enterprise", name="石狮无人机公司", parent=shishi)
    city_firm = OrgUnit(kind="enterprise", name="泉州市属集团", parent=city)
    workshop = OrgUnit(kind="workshop", name="一车间", parent=jj_firm)
    db.session.add_all([city, jinjiang, shishi, jj_firm, ss_firm, city_firm, workshop])
    db.session.commit()

    uav24 = make_competition("published", year=2024, trade="无人机驾驶员")  # the city union's
    tea25 = make_competition("archived", year=2025, trade="评茶员", organizer="晋江市总工会")
    tea25b = make_competition("running", year=2025, trade="评茶员", organizer="石狮市总工会")
    notrade = make_competition("locked", year=2025, trade=None, organizer="石狮市总工会")
    opened = make_competition("open", year=2025, trade="米粉制作")  # not held: nothing counts
    draft = make_competition("draft", year=2026, trade="米粉制作")  # an import is locked otherwise
    rating = make_competition("published", year=2025, trade="无人机驾驶员")
    rating.kind = "rating"  # its awards and entrants are not the contests'

    e = _entrants_of(uav24)
    _entrant(uav24, "E3", None, "approved", "赵六")  # no employer: city level
    _entrant(uav24, "E4", city_firm, "ok", "钱七")
    _entrant(uav24, "E5", jj_firm, "withdrawn", "孙八")  # not counted
    _certificate(e["E1"], "C-1")
    _certificate(e["E2"], "C-2", status="revoked")
    e = _entrants_of(tea25)
    extra = _entrant(tea25, "E3", workshop, "absent")  # the workshop lies in Jinjiang
    _standing(tea25, extra, "三等奖")
    _entrant(tea25, "E4", ss_firm, "pending")  # not counted
    _certificate(e["E1"], "C-3")
    _certificate(extra, "C-4")
    e = _entrants_of(tea25b)
    e["E2"].status = "withdrawn"
    e = _entrants_of(notrade)
    e["E1"].status = "pending"
    e["E2"].status = "disqualified"
    _entrant(opened, "E3", jj_firm, "approved")

    studio = Unit(kind="studio", name="翔鹭工作室", enterprise_id=jj_firm.id)
    db.session.add_all(
        [
            studio,
            Unit(kind="team", name="翔鹭班组", enterprise_id=jj_firm.id),
            Unit(kind="studio", name="锦绣工作室", enterprise_id=ss_firm.id),
            Unit(kind="studio", name="市属工作室", enterprise_id=city_firm.id),
            Unit(kind="team", name="无主班组", enterprise_id=None),
        ]
    )
    db.session.flush()
    rated = Entrant(competition_id=rating.id, ref="U1", type="studio", name=studio.name, unit_id=studio.id, status="ok")
    db.session.add(rated)
    db.session.flush()
    _standing(rating, rated, "五星", unit=studio)
    _certificate(rated, "C-5")
    db.session.commit()
    return City(city, jinjiang, shishi, [c.code for c in (uav24, tea25, tea25b, notrade, opened, draft, rating)])


# --- what the dashboard must show, counted here row by row ---


def _in(year, competition) -> bool:
    return year is None or competition.year == year


def _county(unit: OrgUnit | None) -> str:
    county = unit.county() if unit is not None else None
    return county.name if county is not None else CITY_LEVEL


def expected(year: int | None) -> dict:
    """Count every figure over the rows in Python, with the ORM's own lineage for counties."""
    competitions = db.session.scalars(sa.select(Competition)).all()
    held = [c for c in competitions if c.kind == "competition" and c.status in HELD and _in(year, c)]
    entrants = [e for c in held for e in c.entrants if e.type == "person" and e.status in COUNTED]
    awards = [
        s
        for s in db.session.scalars(sa.select(Standing))
        if s.award is not None and s.competition.kind == "competition" and _in(year, s.competition)
    ]
    certificates = [
        x
        for x in db.session.scalars(sa.select(Certificate))
        if x.status == "valid" and x.entrant.competition.kind == "competition" and _in(year, x.entrant.competition)
    ]
    units = db.session.scalars(sa.select(Unit)).all()
    ratings = [c for c in competitions if c.kind == "rating" and c.status in HELD and _in(year, c)]
    # The units taking part in the ratings counted beside them, whether or not their standings are published.
    rated = {
        e.unit_id
        for e in db.session.scalars(sa.select(Entrant))
        if e.unit_id is not None
        and e.status in COUNTED
        and e.competition.kind == "rating"
        and e.competition.status in HELD
        and _in(year, e.competition)
    }
    county = Counter()
    for c in held:
        county[_county(c.organizer_unit), "contests"] += 1
    for e in entrants:
        county[_county(e.employer), "entrants"] += 1
    for s in awards:
        county[_county(s.entrant.employer), "awards"] += 1
    for u in units:
        county[_county(u.enterprise), u.kind + "s"] += 1
    trade = Counter()
    for c in held:
        trade[c.trade, "contests"] += 1
    for e in entrants:
        trade[e.competition.trade, "entrants"] += 1
    for s in awards:
        trade[s.competition.trade, "awards"] += 1
    return {
        "contests": len(held),
        "entrants": len(entrants),
        "awards": len(awards),
        "certificates": len(certificates),
        "ratings": len(ratings),
        "rated_units": len(rated),
        "studios": sum(u.kind == "studio" for u in units),
        "teams": sum(u.kind == "team" for u in units),
        "county": county,
        "trade": trade,
    }


def _headline(stats) -> dict:
    return {
        k: getattr(stats, k)
        for k in ("contests", "entrants", "awards", "certificates", "ratings", "rated_units", "studios", "teams")
    }


def _label(line) -> str:
    """Name a county line as the English pages do (outside a request labels are in Chinese)."""
    return CITY_LEVEL if line.key == citystats.CITY else str(line.label)


def _county_counter(stats) -> Counter:
    found = Counter()
    for line in stats.by_county:
        for name in ("contests", "entrants", "awards", "studios", "teams"):
            found[_label(line), name] += getattr(line, name)
    return +found  # zero entries dropped, as in the expected Counter


def _trade_counter(stats) -> Counter:
    found = Counter()
    for line in stats.by_trade:
        for name in ("contests", "entrants", "awards"):
            found[line.key, name] += getattr(line, name)
    return +found


YEARS = [None, 2024, 2025, 2026, 2019]


@pytest.mark.parametrize("year", YEARS)
def test_headline_figures_match_the_rows(city, year):
    stats = citystats.stats(year)
    want = expected(year)
    assert _headline(stats) == {k: want[k] for k in _headline(stats)}
    assert stats.year == year


def test_the_sample_is_not_trivial(city):
    """Guard the comparisons: the data exercises every rule (numbers worked out by hand)."""
    stats = citystats.stats(None)
    # Held contests: uav24, tea25, tea25b, notrade (not the open one, the draft or the rating).
    # Entrants: uav24 E1 E2 E3 E4; tea25 E1 E2 E3; tea25b E1; notrade E2 = 9.
    assert (stats.contests, stats.entrants, stats.ratings, stats.rated_units) == (4, 9, 1, 1)
    # Certificates: C-1 and C-3, C-4 (C-2 revoked, C-5 is the rating's).
    assert stats.certificates == 3
    assert (stats.studios, stats.teams) == (3, 2)
    assert [line.key for line in stats.by_year] == [2024, 2025]
    assert stats.years == [2025, 2024]


@pytest.mark.parametrize("year", YEARS)
def test_per_county_figures_match_the_rows(city, year):
    stats = citystats.stats(year)
    assert _county_counter(stats) == +expected(year)["county"]
    names = [str(line.label) for line in stats.by_county]
    assert names[:2] == ["晋江市总工会", "石狮市总工会"]  # every county, by name, even at zero


@pytest.mark.parametrize("year", YEARS)
def test_per_trade_figures_match_the_rows(city, year):
    stats = citystats.stats(year)
    assert _trade_counter(stats) == +expected(year)["trade"]
    entrants = [line.entrants for line in stats.by_trade]
    assert entrants == sorted(entrants, reverse=True)


def test_per_year_figures_ignore_the_filter_and_match_the_rows(city):
    lines = citystats.stats(2024).by_year
    assert lines == citystats.stats(None).by_year
    for line in lines:
        want = expected(line.key)
        assert (line.contests, line.entrants, line.awards, line.certificates, line.ratings) == (
            want["contests"],
            want["entrants"],
            want["awards"],
            want["certificates"],
            want["ratings"],
        )


def test_the_year_filter_changes_the_figures(city):
    every, y2024, y2025 = (citystats.stats(y) for y in (None, 2024, 2025))
    assert (y2024.contests, y2025.contests) == (1, 3)
    assert y2024.entrants + y2025.entrants == every.entrants
    assert y2024.awards + y2025.awards == every.awards
    assert y2024.certificates + y2025.certificates == every.certificates
    assert (y2024.ratings, y2025.ratings, y2024.rated_units) == (0, 1, 0)
    assert {line.key for line in y2024.by_trade} == {"无人机驾驶员"}
    assert (y2024.studios, y2024.teams) == (every.studios, every.teams)  # the registry has no year


def test_a_fixed_number_of_queries_whatever_the_entrants(city, make_competition):
    def queries() -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            db.session.expire_all()
            citystats.stats(2025)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    before = queries()
    more = make_competition("running", year=2025, trade="簪花妆造", organizer="晋江市总工会")
    for i in range(20):
        _entrant(more, f"X{i}", city.jinjiang, "approved", f"选手{i}")
    db.session.commit()
    assert queries() == before <= 10


@pytest.fixture()
def counted(monkeypatch) -> list[int | None]:
    """Record every time the figures are counted afresh (the years asked for)."""
    calls: list[int | None] = []
    count = citystats.stats

    def counting(year):
        calls.append(year)
        return count(year)

    monkeypatch.setattr(citystats, "stats", counting)
    return calls


def test_the_home_page_keeps_figures_until_something_changes(city, make_competition, counted):
    first = citystats.current(2025)
    assert citystats.current(2025) == first and counted == [2025]  # nothing changed: not counted again
    assert citystats.current(2024) != first and counted == [2025, 2024]
    competition = db.session.scalar(sa.select(Competition).where(Competition.status == "running"))
    competition.status = "locked"  # a change of state counts again at once
    db.session.commit()
    second = citystats.current(2025)
    assert counted == [2025, 2024, 2025] and _headline(second) == _headline(citystats.stats(2025))
    _entrant(competition, "N1", city.shishi, "approved", "新选手")  # so does a new registration
    db.session.commit()
    third = citystats.current(2025)
    assert len(counted) == 5 and third.entrants == second.entrants + 1


def test_cached_figures_expire(city, monkeypatch, counted):
    first = citystats.current(None)
    entrant = db.session.scalar(sa.select(Entrant).where(Entrant.status == "pending").order_by(Entrant.id))
    entrant.status = "approved"  # a change of status alone waits for the figures to expire
    db.session.commit()
    assert citystats.current(None) == first and counted == [None]
    clock = time.time() + citystats.CACHE_SECONDS + 1
    monkeypatch.setattr(citystats.time, "time", lambda: clock)
    fresh = citystats.current(None)
    assert counted == [None, None] and fresh.entrants == expected(None)["entrants"]


def test_the_stored_figures_are_the_counted_ones_in_the_readers_language(city, app, counted):
    counted_now = citystats.stats(None)
    with app.test_request_context(), force_locale("en"):
        stored = citystats.current(None)  # counted, stored
        served = citystats.current(None)  # read back from the store
        assert counted == [None, None] and served == stored == counted_now  # here, then once for the store
        assert [str(line.label) for line in served.by_county] == [str(line.label) for line in counted_now.by_county]
        assert CITY_LEVEL in [str(line.label) for line in served.by_county]


def test_a_second_app_server_shows_the_figures_the_first_counted(city, app, database_url, counted):
    from comp import create_app
    from comp.config import test_config

    first = citystats.current(2025)
    stored = computed.DatabaseStore().read("dashboard", "city:2025")  # where every server finds them
    assert stored is not None and json.loads(stored.payload)["entrants"] == first.entrants
    other = create_app(test_config(database_url))  # another server
    try:
        with other.app_context():
            assert citystats.current(2025) == first
            db.session.remove()
        assert counted == [2025]
    finally:
        with other.app_context():
            db.engine.dispose()


def test_an_empty_city_has_zero_figures():
    stats = citystats.stats(None)
    assert _headline(stats) == dict.fromkeys(_headline(stats), 0)
    assert (stats.by_year, stats.by_county, stats.by_trade, stats.years) == ([], [], [], [])


# --- the page ---


@pytest.fixture()
def organizer(auth, make_user, city):
    user = make_user("organizer", "organizer", locale="en", org_unit_id=city.city.id)
    auth.login("organizer")
    return user


def _page(client, path="/"):
    response = client.get(path)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _card(page, name) -> str:
    return re.search(rf'id="fig-{name}">([^<]*)<', page).group(1)


def _rows(page, table_id) -> dict[str, list[str]]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.parametrize("year", [None, 2024, 2025])
def test_the_organizer_home_shows_the_figures_and_charts(client, organizer, city, year):
    page = _page(client, f"/?year={year}" if year else "/")
    stats, want = citystats.stats(year), expected(year)
    for name in ("contests", "entrants", "awards", "certificates", "ratings", "studios", "teams"):
        assert _card(page, name) == f"{want[name]:,}", name
    assert _card(page, "rated") == str(want["rated_units"])
    counties = _rows(page, "table-county")
    for line in stats.by_county:
        assert counties[_label(line)] == [
            str(line.contests),
            str(line.entrants),
            str(line.awards),
            str(line.studios),
            str(line.teams),
        ]
    assert counties[CITY_LEVEL][0] == str(want["county"][CITY_LEVEL, "contests"])
    trades = _rows(page, "table-trade")
    for line in stats.by_trade:
        assert trades[str(line.label)] == [str(line.contests), str(line.entrants), str(line.awards)]
    years = _rows(page, "table-year")
    assert set(years) == {"2024", "2025"}
    assert years["2025"][:4] == [str(expected(2025)[k]) for k in ("contests", "entrants", "awards", "certificates")]
    for chart in ("chart-year-contests", "chart-year-entrants", "chart-county", "chart-trade"):
        assert re.search(
            rf'<svg class="chart" viewBox="0 0 \d+ \d+" width="100%" role="img"\s+'
            rf'aria-labelledby="{chart}-title {chart}-desc"',
            page,
        ), chart
        assert f'<title id="{chart}-title">' in page
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):  # each chart is well-formed SVG
        ElementTree.fromstring(svg)
    assert 'style="' not in page and "<style" not in page  # the CSP forbids both
    chosen = db.session.scalars(
        sa.select(Competition.code)
        .where(Competition.code.in_(city.codes))
        .where(sa.true() if year is None else Competition.year == year)
    ).all()
    assert chosen
    for code in city.codes:  # the competitions table is below: the chosen year's, or all
        assert (code in page) is (code in chosen), code
    assert page.index('id="dashboard"') < page.index(chosen[0])


def test_the_year_select_lists_the_years_and_marks_the_choice(client, organizer, city):
    page = _page(client, "/?year=2024")
    assert '<option value="2024" selected>' in page
    assert '<option value="2025">' in page
    assert "City overview, 2024" in page
    assert '<option value="" selected>' in _page(client, "/")


def test_the_year_filter_fragment_for_htmx(client, organizer, city):
    response = client.get("/?year=2025", headers={"HX-Request": "true", "HX-Target": "dashboard"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in page and page.lstrip().startswith('<section id="dashboard"')
    assert _card(page, "contests") == "3"
    assert city.codes[0] not in page  # the table is not part of the fragment
    restore = client.get(
        "/?year=2025", headers={"HX-Request": "true", "HX-Target": "dashboard", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.get_data(as_text=True)


@pytest.mark.parametrize(
    "query", ["?year=abc", "?year=99999", "?year=-3", "?year=", "?year=2025.5", "?year=" + "9" * 5000]
)
def test_a_bad_year_shows_all_years(client, organizer, city, query):
    page = _page(client, "/" + query)
    assert "City overview, all years" in page
    assert _card(page, "contests") == str(expected(None)["contests"])


def test_a_year_without_data_shows_zeros(client, organizer, city):
    page = _page(client, "/?year=2019")
    assert "City overview, 2019" in page and '<option value="2019" selected>' in page
    assert _card(page, "contests") == "0" and _card(page, "entrants") == "0"
    assert _card(page, "studios") == "3"


def test_an_admin_sees_the_dashboard(client, auth, make_user, city):
    make_user("boss", "admin", locale="en")
    auth.login("boss")
    assert 'id="dashboard"' in _page(client)


@pytest.mark.parametrize("role", ["judge", "worker"])
def test_judges_and_workers_have_another_home(client, auth, make_user, city, role):
    make_user("someone", role, locale="en")
    auth.login("someone")
    page = _page(client, "/?year=2025")
    assert 'id="dashboard"' not in page and "chart-county" not in page
    fragment = client.get("/?year=2025", headers={"HX-Request": "true", "HX-Target": "dashboard"})
    assert 'id="dashboard"' not in fragment.get_data(as_text=True)


def test_anonymous_is_sent_to_login(client, city):
    response = client.get("/?year=2025")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# --- the chart macros ---


def _macros(app):
    return app.jinja_env.get_template("main/_charts.html").module


def test_horizontal_bars_are_proportional_and_limited(app):
    lines = [citystats.Line(i, f"工种{i}", entrants=n) for i, n in enumerate([400, 200, 100, 1, 0] + [5] * 10)]
    with app.test_request_context("/"):
        svg = str(_macros(app).hbars("t", "Entrants", lines, "entrants", limit=12))
    root = ElementTree.fromstring(svg)
    widths = [int(r.get("width")) for r in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert len(widths) == 12
    assert widths[:5] == [204, 102, 51, 1, 0]  # 204 units for the largest; a non-zero value shows
    assert root.get("role") == "img" and root.find("{http://www.w3.org/2000/svg}title").text == "Entrants"


def test_columns_mark_the_chosen_year_and_survive_zeros(app):
    lines = [citystats.Line(2024, "2024", entrants=0), citystats.Line(2025, "2025", entrants=0)]
    with app.test_request_context("/"):
        svg = str(_macros(app).columns("c", "Entrants", lines, "entrants", 2025, fill="#111", pale="#eee"))
        empty = str(_macros(app).columns("c", "Entrants", [], "entrants"))
    rects = list(ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}rect"))
    assert [r.get("fill") for r in rects] == ["#eee", "#111"] and {r.get("height") for r in rects} == {"0"}
    assert empty.strip() == ""


@pytest.mark.parametrize(
    "label, shown",
    [
        ("晋江市总工会", "晋江市总工会"),
        ("泉州台商投资区总工会", "泉州台商投资区…"),
        ("City level", "City level"),
        ("Petrochemical process operator", "Petrochemical …"),
    ],
)
def test_long_labels_are_cut_to_fit(app, label, shown):
    with app.test_request_context("/"):
        assert str(_macros(app).fit(label)) == shown


def test_the_year_also_chooses_the_competitions_listed(client, organizer, city):
    response = client.get("/?year=2025", headers={"HX-Request": "true", "HX-Target": "dashboard"})
    fragment = html.unescape(response.get_data(as_text=True))
    assert '<section id="competitions" hx-swap-oob="true">' in fragment and "<html" not in fragment
    listed = set(re.findall(r"<code>([^<]+)</code>", fragment.split('id="competitions"')[1]))
    assert listed == set(
        db.session.scalars(
            sa.select(Competition.code).where(Competition.code.in_(city.codes), Competition.year == 2025)
        )
    )


def test_without_a_year_the_newest_hundred_are_listed(client, auth, make_user):
    from comp.services.dashboard import HOME_ROWS

    db.session.add_all(
        [
            Competition(code=f"X-{n:03d}", name=f"竞赛{n}", year=2000 + n % 20, organizer="某工会")
            for n in range(HOME_ROWS + 5)
        ]
    )
    db.session.commit()
    make_user("boss", "organizer", locale="en")
    auth.login("boss")
    page = _page(client, "/")
    assert len(re.findall(r"<code>X-\d{3}</code>", page)) == HOME_ROWS
    assert "The 100 newest are shown" in page
    assert "<code>X-019</code>" in page  # year 2019, the newest
    assert len(re.findall(r"<code>X-\d{3}</code>", _page(client, "/?year=2001"))) == 6
