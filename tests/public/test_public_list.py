"""The public list of published results: only published and archived, newest first, filters, pages, counts."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Competition, Standing
from comp.models.types import utcnow
from comp.services import exchange
from comp.services.results import public_list, standings
from comp.services.setup import lifecycle

DATA = Path(__file__).parent.parent / "scoring" / "data"
UNPUBLISHED = ("draft", "open", "closed", "running", "locked")


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def listed(client, **args) -> list[str]:
    """Return the codes the public list links to, in their order."""
    return re.findall(r'href="/c/([^/"]+)/results"', text(client.get("/c/", query_string=args)))


def row_of(page: str, code: str) -> list[str]:
    """Return the text of the cells of a competition's row."""
    match = re.search(
        rf'<tr>\s*<td class="num">\d+</td>\s*<td><a href="/c/{re.escape(code)}/results">.*?</tr>', page, re.S
    )
    assert match, f"no row for {code}"
    return [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(0), re.S)]


def import_example(name: str, status: str, **header):
    """Import a worked example (teams, absent entrants, awards) and give it a public state."""
    doc = exchange.read_file(str(DATA / f"{name}.json"))
    doc["competition"].update(header)
    competition = exchange.import_competition(doc)
    competition.status = status
    standings.snapshot(competition)
    db.session.commit()
    return competition


@pytest.fixture()
def several(make_competition):
    """Published and archived competitions of several years, trades and levels, and unpublished ones."""
    now = utcnow()
    made = {
        "drone": make_competition(
            "published", name="2026年无人机驾驶员竞赛", year=2026, level="city", trade="无人机驾驶员"
        ),
        "welder": make_competition("published", name="2026年焊工技能竞赛", year=2026, level="county", trade="焊工"),
        "electric": make_competition("archived", name="2025年电工技能竞赛", year=2025, level="county", trade="电工"),
        "old": make_competition("archived", name="2024年电工技能竞赛", year=2024, level="enterprise", trade="电工"),
        "noodle": import_example("competition", "published", year=2025, level="city"),
        "rating": import_example("rating", "archived", year=2024, level="city"),
    }
    made["drone"].published_at = now - timedelta(days=1)
    made["welder"].published_at = now - timedelta(days=20)
    made["electric"].published_at = datetime(2025, 6, 1, 2, 0)
    made["noodle"].published_at = datetime(2025, 11, 30, 18, 30)  # 2025-12-01 in Quanzhou
    for status in UNPUBLISHED:
        made[status] = make_competition(status, name=f"未公布的竞赛 {status}", year=2026, trade="电工")
    db.session.commit()
    return made


def codes(made, *keys) -> list[str]:
    return [made[key].code for key in keys]


def test_the_list_shows_exactly_the_published_and_archived_newest_first(client, several):
    assert listed(client) == codes(several, "drone", "welder", "noodle", "electric", "rating", "old")
    page = text(client.get("/c/"))
    for status in UNPUBLISHED:
        assert several[status].code not in page and several[status].name not in page
    assert "6 published competitions" in page


def test_a_row_has_year_name_trade_level_organizer_date_and_counts(client, several):
    page = text(client.get("/c/"))
    noodle = several["noodle"]
    cells = row_of(page, noodle.code)
    assert cells[0] == ["2025"] and noodle.name in cells[1]
    assert cells[2:6] == [["米粉制作工"], ["City"], ["泉州市总工会"], ["2025-12-01"]]
    assert 'datetime="2025-11-30T18:30:00Z"' in page
    assert row_of(page, several["old"].code)[3] == ["Enterprise"]
    assert "Rating" in row_of(page, several["rating"].code)[1]


def test_counts_of_ranked_entrants_and_awards_come_from_the_standings(client, several):
    page = text(client.get("/c/"))
    for key in ("drone", "welder", "electric", "old", "noodle", "rating"):
        rows = db.session.scalars(sa.select(Standing).where(Standing.competition_id == several[key].id)).all()
        ranked = sum(1 for r in rows if r.rank is not None)
        awards = sum(1 for r in rows if r.award is not None)
        assert row_of(page, several[key].code)[6:8] == [[str(ranked)], [str(awards)]], key
    noodle = db.session.scalars(sa.select(Standing).where(Standing.competition_id == several["noodle"].id)).all()
    assert any(r.rank is None for r in noodle) and 0 < sum(r.award is not None for r in noodle) < len(noodle)


def test_the_badge_marks_published_results_in_their_notice_period(client, several):
    page = text(client.get("/c/"))
    badged = {
        key
        for key in ("drone", "welder", "electric", "old", "noodle", "rating")
        if "In notice period" in " ".join(row_of(page, several[key].code)[1])
    }
    assert badged == {"drone"}
    for key in ("drone", "welder", "noodle"):
        assert public_list.in_notice(several[key]) == (not lifecycle.notice_over(several[key]))


def test_filters_narrow_the_list_and_combine(client, several):
    assert listed(client, year="2026") == codes(several, "drone", "welder")
    assert listed(client, trade="电工") == codes(several, "electric", "old")
    assert listed(client, trade="电工", year="2025") == codes(several, "electric")
    assert listed(client, trade="电工", level="enterprise") == codes(several, "old")
    assert listed(client, level="city", year="2024") == codes(several, "rating")
    assert listed(client, q="电工") == codes(several, "electric", "old")
    assert listed(client, q="电工", year="2024", level="enterprise", trade="电工") == codes(several, "old")
    assert listed(client, q="焊工", trade="电工") == []
    assert "No published competition matches." in text(client.get("/c/?q=焊工&trade=电工"))


def test_the_filter_form_offers_only_public_years_and_trades_and_keeps_the_choice(client, several):
    page = text(client.get("/c/", query_string={"year": "2025", "trade": "电工", "q": "电工"}))
    form = page.split('role="search"', 1)[1].split("</form>", 1)[0]
    assert re.findall(r'<option value="(\d{4})"', form) == ["2026", "2025", "2024"]
    trades = re.findall(r'name="trade".*?</select>', form, re.S)[0]
    assert re.findall(r'<option value="([^"]+)"', trades) == sorted(["无人机驾驶员", "焊工", "电工", "米粉制作工"])
    assert '<option value="2025" selected>' in form and '<option value="电工" selected>' in form
    assert 'value="电工" maxlength' in form  # the search box keeps the text


def test_search_characters_are_literal(client, several):
    assert listed(client, q="%") == [] and listed(client, q="_") == []
    assert listed(client, q="焊工技能") == codes(several, "welder")


BAD = [
    {"year": "abc"},
    {"year": "-1"},
    {"year": "99999999999999999999999"},
    {"year": "٢٠٢٦"},
    {"year": "1800"},
    {"page": "0"},
    {"page": "-3"},
    {"page": "abc"},
    {"page": "99999999999999999999999"},
    {"page": "²"},
    {"level": "province"},
    {"level": "x" * 300},
    {"trade": "x" * 5000},
    {"q": "a\x00b"},
    {"q": "'; drop table"},
    {"q": "x" * 5000},
    {"trade": "\x00"},
    {"year": "2026\x00"},
]


@pytest.mark.parametrize("args", BAD)
def test_bad_parameters_never_fail(client, several, args):
    response = client.get("/c/", query_string=args)
    assert response.status_code == 200
    for status in UNPUBLISHED:
        assert several[status].code not in response.get_data(as_text=True)


def test_ignored_parameters_show_the_whole_list(client, several):
    everything = listed(client)
    for args in ({"year": "abc"}, {"level": "province"}, {"page": "-3"}, {"year": "1800"}):
        assert listed(client, **args) == everything


def bulk(count: int, **fields) -> None:
    """Insert published competitions without entrants: the pages only need their rows."""
    start = utcnow() - timedelta(days=400)
    db.session.execute(
        sa.insert(Competition),
        [
            {
                "code": f"P-{n:03d}",
                "name": f"第{n}届竞赛",
                "year": 2023,
                "organizer": "泉州市总工会",
                "status": "published",
                "published_at": start + timedelta(hours=n),
                "trade": "钳工",
            }
            | fields
            for n in range(count)
        ],
    )
    db.session.commit()


def test_pages_of_thirty_keep_the_filters(client):
    bulk(65)
    assert listed(client) == [f"P-{n:03d}" for n in range(64, 34, -1)]
    assert listed(client, page="2") == [f"P-{n:03d}" for n in range(34, 4, -1)]
    assert listed(client, page="3") == [f"P-{n:03d}" for n in range(4, -1, -1)]
    page = text(client.get("/c/", query_string={"page": "4"}))
    assert "No published competition matches." in page and "65 published competitions" in page
    page = text(client.get("/c/", query_string={"trade": "钳工", "year": "2023"}))
    assert f'href="/c/?year=2023&trade={quote("钳工")}&page=3"' in page
    assert 'href="/c/?year=2023&trade=' + quote("钳工") + '&page=1" aria-current="page"' in page


@contextmanager
def statements():
    """Collect the SQL statements run meanwhile."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_a_page_costs_the_same_queries_however_many_rows_it_holds(client, make_competition):
    make_competition("published", year=2026)
    with statements() as few:
        assert len(listed(client)) == 1
    for n in range(6):
        make_competition("published" if n % 2 else "archived", year=2020 + n, trade=f"工种{n}")
    lifecycle_published = make_competition("locked", year=2026)
    lifecycle.publish(lifecycle_published)
    with statements() as many:
        assert len(listed(client)) == 8
    assert len(many) == len(few) <= 6


def test_the_list_needs_no_account_and_the_login_page_links_it(client, several):
    assert client.get("/c/").status_code == 200
    assert 'href="/c/"' in text(client.get("/login"))


def test_the_results_page_links_back_and_shows_the_team_standings(client, several):
    page = text(client.get(f"/c/{several['noodle'].code}/results"))
    assert 'href="/c/"' in page and "All published results" in page
    assert 'id="teams-heading"' in page
    for team in ("安溪一队", "安溪二队", "南安队"):
        assert f"<td>{team}</td>" in page


def test_a_visitor_finds_a_login_link_on_public_pages_but_not_on_the_login_page(client):
    page = client.get("/c/?year=2026").get_data(as_text=True)
    assert 'class="login-link"' in page and "/login?next=/c/?year%3D2026" in page
    assert 'class="login-link"' not in client.get("/login").get_data(as_text=True)
