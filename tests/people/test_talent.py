"""The talent pool (人才库): every filter alone and combined, scope, sorting, pages, export, htmx, bad input."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from comp.extensions import db
from comp.models import AuditEvent, Entrant, Honour, OrgUnit, Standing, Worker
from comp.services import people
from comp.services.people import talent

# name: (employer, trade, grade, honours (title, year, status), awards won or None (award, year))
WORKERS = {
    "张伟": ("aviation", "无人机驾驶员", 2, [("泉州工匠", 2024, "awarded")], [("一等奖", 2024)]),
    "王芳": ("assembly", "无人机驾驶员", 3, [("技术能手", 2025, "recommended")], [("二等奖", 2025)]),
    "李娜": ("shoes", "制鞋工", 4, [("泉州工匠", 2025, "awarded")], [(None, 2025)]),
    "刘洋": ("shoes", "制鞋工", 5, [], [("一等奖", 2025)]),
    "陈静": (
        "garment",
        "缝纫工",
        1,
        [("劳动模范", 2023, "awarded"), ("泉州工匠", 2024, "awarded")],
        [("三等奖", 2024), ("一等奖", 2025)],
    ),
    "杨磊": ("garment", "无人机驾驶员", 3, [], []),
    "赵敏": ("garment", "缝纫工", None, [("技术能手", 2024, "awarded")], [(None, 2024)]),
    "黄强": (None, "电工", 2, [], []),
}


@dataclass
class Pool:
    """The union tree, the workers by name, a city organizer."""

    units: SimpleNamespace
    workers: dict[str, Worker]
    city_user: object
    competitions: dict[int, object] = field(default_factory=dict)


def _units() -> SimpleNamespace:
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    shishi = OrgUnit(kind="county", name="石狮市总工会", parent=city)
    aviation = OrgUnit(kind="enterprise", name="晋江翔鹭航空", parent=jinjiang)
    assembly = OrgUnit(kind="workshop", name="总装车间", parent=aviation)
    shoes = OrgUnit(kind="enterprise", name="晋江鞋业", parent=jinjiang)
    garment = OrgUnit(kind="enterprise", name="石狮锦绣服装", parent=shishi)
    units = SimpleNamespace(
        city=city, jinjiang=jinjiang, shishi=shishi, aviation=aviation, assembly=assembly, shoes=shoes, garment=garment
    )
    db.session.add_all(vars(units).values())
    db.session.commit()
    return units


@pytest.fixture()
def pool(make_worker, make_competition, make_user) -> Pool:
    """Create the tree, two published competitions (2024, 2025) and the workers with their records."""
    units = _units()
    competitions = {year: make_competition(status="published", year=year) for year in (2024, 2025)}
    workers = {}
    for name, (employer, trade, grade, honours, awards) in WORKERS.items():
        worker = make_worker(
            name, employer_id=getattr(units, employer).id if employer else None, trade=trade, skill_grade=grade
        )
        worker.honours = [Honour(title=t, year=y, status=s, issuer="泉州市总工会") for t, y, s in honours]
        for award, year in awards:
            entrant = Entrant(
                competition_id=competitions[year].id,
                ref=f"W{worker.id}",
                name=name,
                worker_id=worker.id,
                employer_id=worker.employer_id,
                status="ok",
            )
            db.session.add(entrant)
            db.session.flush()
            db.session.add(
                Standing(
                    competition_id=competitions[year].id,
                    entrant_id=entrant.id,
                    worker_id=worker.id,
                    year=year,
                    rank=1 if award else None,
                    award=award,
                    total=None,
                    stages={},
                )
            )
        workers[name] = worker
    db.session.commit()
    city_user = make_user("city", "organizer", locale="en", org_unit_id=units.city.id)
    return Pool(units, workers, city_user, competitions)


def everyone() -> list[SimpleNamespace]:
    """Read every worker plainly, with the ancestors of the employer, honours and standings (the oracle's input)."""
    parents = dict(db.session.execute(sa.select(OrgUnit.id, OrgUnit.parent_id)).all())
    honours = db.session.execute(sa.select(Honour.worker_id, Honour.title, Honour.year)).all()
    standings = db.session.execute(sa.select(Standing.worker_id, Standing.award, Standing.year)).all()
    out = []
    for w in db.session.scalars(sa.select(Worker)):
        chain, unit = set(), w.employer_id
        while unit is not None:
            chain.add(unit)
            unit = parents[unit]
        out.append(
            SimpleNamespace(
                name=w.name,
                trade=w.trade,
                grade=w.skill_grade,
                chain=chain,
                honours=[(h.title, h.year) for h in honours if h.worker_id == w.id],
                standings=[(s.award, s.year) for s in standings if s.worker_id == w.id],
            )
        )
    return out


def expect(
    q="", trade="", county=None, enterprise=None, grade=None, honour="", award="", year=None, within=None
) -> set[str]:
    """Return the names the filters should find, computed in Python from the plain records."""

    def held(pairs, wanted):
        return any(v == wanted and (year is None or y == year) for v, y in pairs)

    return {
        p.name
        for p in everyone()
        if q in p.name
        and (not trade or p.trade == trade)
        and (grade is None or p.grade == grade)
        and (county is None or county in p.chain)
        and (enterprise is None or enterprise in p.chain)
        and (within is None or within in p.chain)
        and (not honour or held(p.honours, honour))
        and (not award or held(p.standings, award))
        and (year is None or honour or award or any(y == year for _a, y in p.standings))
    }


def resolve(pool: Pool, filters: dict) -> dict:
    """Turn unit names of a filter set into ids."""
    return {k: getattr(pool.units, v).id if k in ("county", "enterprise") else v for k, v in filters.items()}


def found(user, args: dict, per_page: int = 500) -> list[str]:
    """Return the names the service lists for a query string, in order."""
    asked = talent.prepare({k: str(v) for k, v in args.items()}, user)
    assert asked.problems == []
    return [r.name for r in talent.search(asked.filters, user, asked.page, per_page, asked.tree).rows]


def names_in(page: str) -> list[str]:
    """Return the worker names listed in a pool page, in order."""
    return re.findall(r"<tr>\s*<td>(?:<a [^>]*>)?<strong>([^<]+)</strong>", html.unescape(page))


FILTERS = [
    ({}, None),
    ({"q": "伟"}, {"张伟"}),
    ({"trade": "无人机驾驶员"}, {"张伟", "王芳", "杨磊"}),
    ({"county": "jinjiang"}, {"张伟", "王芳", "李娜", "刘洋"}),
    ({"county": "shishi"}, {"陈静", "杨磊", "赵敏"}),
    ({"enterprise": "aviation"}, {"张伟", "王芳"}),  # the workshop's worker belongs to the enterprise
    ({"grade": 3}, {"王芳", "杨磊"}),
    ({"honour": "泉州工匠"}, {"张伟", "李娜", "陈静"}),
    ({"honour": "技术能手"}, {"王芳", "赵敏"}),  # recommended counts as much as awarded
    ({"award": "一等奖"}, None),
    ({"year": 2023}, set()),  # an honour year alone is not a competition year
    ({"year": 2024}, None),
    ({"year": 2025}, None),
    ({"trade": "无人机驾驶员", "county": "jinjiang"}, {"张伟", "王芳"}),
    ({"honour": "泉州工匠", "year": 2024}, {"张伟", "陈静"}),
    ({"honour": "泉州工匠", "year": 2025}, {"李娜"}),
    ({"award": "一等奖", "year": 2025}, None),
    ({"award": "一等奖", "year": 2024, "county": "shishi"}, set()),
    ({"award": "一等奖", "county": "shishi"}, {"陈静"}),
    ({"grade": 3, "enterprise": "aviation"}, {"王芳"}),
    ({"grade": 2, "enterprise": "aviation", "county": "jinjiang"}, {"张伟"}),
    ({"honour": "泉州工匠", "award": "一等奖", "year": 2024}, {"张伟"}),
    ({"honour": "劳动模范", "award": "一等奖"}, {"陈静"}),
    ({"q": "静", "trade": "缝纫工", "grade": 1, "county": "shishi"}, {"陈静"}),
    ({"trade": "电工"}, {"黄强"}),
    ({"trade": "电工", "county": "jinjiang"}, set()),
]


@pytest.mark.parametrize("filters, names", FILTERS)
def test_each_filter_alone_and_combined_finds_exactly_the_expected_workers(pool, filters, names):
    args = resolve(pool, filters)
    expected = expect(**args)
    if names is not None:
        assert expected == names  # the oracle agrees with the hand-worked answer
    assert set(found(pool.city_user, args)) == expected
    assert talent.search(talent.Filters.parse({k: str(v) for k, v in args.items()})[0], pool.city_user).total == len(
        expected
    )


def test_a_county_organizer_sees_only_the_county(pool, make_user):
    user = make_user("jj", "organizer", org_unit_id=pool.units.jinjiang.id)
    assert set(found(user, {})) == expect(within=pool.units.jinjiang.id) == {"张伟", "王芳", "李娜", "刘洋"}
    assert set(found(user, {"trade": "无人机驾驶员"})) == {"张伟", "王芳"}
    liaison = make_user("aviation", "organizer", org_unit_id=pool.units.aviation.id)
    assert set(found(liaison, {"grade": 3})) == {"王芳"}
    asked = talent.prepare({"county": str(pool.units.shishi.id)}, user)
    assert asked.filters.county is None and asked.problems  # another county is not a choice
    assert {r.name for r in talent.search(asked.filters, user).rows} == {"张伟", "王芳", "李娜", "刘洋"}
    assert [c.name for c in asked.choices.counties] == ["晋江市总工会"]
    assert {e.name for e in asked.choices.enterprises} == {"晋江翔鹭航空", "晋江鞋业"}


def test_the_select_boxes_offer_what_the_records_hold(pool):
    choices = talent.options(pool.city_user)
    assert set(choices.trades) == {"无人机驾驶员", "制鞋工", "缝纫工", "电工"}
    assert choices.honours == sorted({"泉州工匠", "技术能手", "劳动模范"})
    assert "一等奖" in choices.awards and None not in choices.awards
    assert choices.years == [2025, 2024, 2023]
    assert [e.name for e in talent.options(pool.city_user, pool.units.shishi.id).enterprises] == ["石狮锦绣服装"]


def test_rows_show_employer_county_grade_honours_and_the_best_award(pool):
    rows = {r.name: r for r in talent.search(talent.Filters(), pool.city_user).rows}
    chen = rows["陈静"]
    assert (chen.employer, chen.county, chen.trade, chen.grade) == ("石狮锦绣服装", "石狮市总工会", "缝纫工", 1)
    assert [(h.title, h.year) for h in chen.honours] == [("泉州工匠", 2024), ("劳动模范", 2023)]
    assert (chen.awards, chen.best_award) == (2, "一等奖")
    assert (rows["王芳"].employer, rows["王芳"].county) == ("总装车间", "晋江市总工会")
    assert (rows["李娜"].awards, rows["李娜"].best_award) == (0, None)  # took part, won nothing
    assert rows["黄强"].county is None and rows["赵敏"].grade_label == "—"
    assert rows["张伟"].id_masked == pool.workers["张伟"].id_masked


@pytest.mark.parametrize(
    "sort, key",
    [
        ("grade", lambda r: r.grade),
        ("awards", lambda r: r.awards),
        ("honours", lambda r: len(r.honours)),
        ("employer", lambda r: r.employer),
    ],
)
@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("many", [talent.MANY, 0])  # 0: the one-pass count used when most of the city matches
def test_sorting_orders_by_the_column_with_blanks_last(pool, monkeypatch, sort, key, desc, many):
    monkeypatch.setattr(talent, "MANY", many)
    rows = talent.search(talent.Filters(sort=sort, desc=desc), pool.city_user).rows
    values = [key(r) for r in rows]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=desc)
    assert values == present + [None] * (len(values) - len(present))
    if sort == "awards" and desc:
        assert "陈静" in [r.name for r in rows if r.awards == 2]


def test_pages_hold_50_and_the_last_holds_the_rest(client, auth, make_user, make_worker):
    for n in range(1, 56):
        make_worker(f"工匠{n:02d}", trade="钳工")
    make_user("admin", "admin", locale="en")
    auth.login("admin")
    first = client.get("/people").get_data(as_text=True)
    assert "55 craftsmen found" in first and first.count("<tr>") == 51
    second = client.get("/people?page=2").get_data(as_text=True)
    assert names_in(second) == [f"工匠{n:02d}" for n in range(51, 56)]
    assert names_in(client.get("/people?page=2&dir=desc").get_data(as_text=True)) == [
        f"工匠{n:02d}" for n in range(5, 0, -1)
    ]
    assert names_in(client.get("/people?page=99").get_data(as_text=True)) == names_in(second)  # past the end
    page = talent.search(talent.Filters(), make_user("x", "admin"), page=2, per_page=20)
    assert (page.total, page.page, page.pages, len(page.rows)) == (55, 2, 3, 20)
    assert page.rows[0].name == "工匠21"


def test_page_links_keep_the_filters_and_sort_headers_toggle(client, auth, pool):
    auth.login("city")
    body = html.unescape(
        client.get(f"/people?trade=无人机驾驶员&sort=grade&county={pool.units.jinjiang.id}").get_data(as_text=True)
    )
    assert "2 craftsmen found" in body
    heads = [unquote(h) for h in re.findall(r'<th[^>]*>\s*<a href="([^"]+)"', body)]
    assert len(heads) == 5 and all("trade=无人机驾驶员" in h and f"county={pool.units.jinjiang.id}" in h for h in heads)
    assert any("sort=grade" in h and "dir=desc" in h for h in heads)  # the sorted column flips
    assert 'aria-sort="ascending"' in body


def test_the_page_lists_the_filtered_workers_with_masked_ids(client, auth, pool):
    auth.login("city")
    response = client.get("/people", query_string={"honour": "泉州工匠", "year": "2024"})
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "<html" in body
    assert names_in(body) == ["张伟", "陈静"]
    assert "2 craftsmen found" in body
    assert pool.workers["张伟"].id_masked in body
    for worker in pool.workers.values():
        assert people.id_number(worker) not in body
    assert 'method="get"' in body and 'hx-get="/people"' in body and 'hx-push-url="true"' in body


def test_htmx_gets_the_results_alone_with_the_county_s_enterprises(client, auth, pool):
    auth.login("city")
    response = client.get(f"/people?county={pool.units.shishi.id}", headers={"HX-Request": "true"})
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "<html" not in body and "<form" not in body
    assert "HX-Request" in response.headers["Vary"]
    assert names_in(body) == ["杨磊", "赵敏", "陈静"]
    enterprises = re.search(
        r'<select name="enterprise" id="pool-enterprise"[^>]*hx-swap-oob="true">(.*?)</select>', body, re.S
    ).group(1)
    assert "石狮锦绣服装" in enterprises and "晋江鞋业" not in enterprises


@pytest.mark.parametrize(
    "query",
    [
        "grade=9",
        "grade=abc",
        "page=-1",
        "page=x",
        "sort=evil",
        "dir=up",
        "year=20245",
        "year=1800",
        "county=abc",
        "county=999999",
        "enterprise=-3",
        "q=%00%00",
        "q=" + "匠" * 300,
        "trade=%ff",
        "sort=name;drop table worker",
        "county=1&county=2",
        "award=%27%20or%201%3D1--",
    ],
)
def test_bad_parameters_give_a_message_not_an_error(client, auth, pool, query):
    auth.login("city")
    response = client.get(f"/people?{query}")
    assert response.status_code == 200
    export = client.get(f"/people/export.xlsx?{query}")
    assert export.status_code == 200
    export.close()


@pytest.mark.parametrize(
    "query, message",
    [
        ("grade=9", "The skill grade is a number from 1 to 5"),
        ("page=-1", "Page numbers start at 1"),
        ("sort=evil", "Unknown sort order"),
        ("year=1800", "The year must be between 1949 and 2100"),
        ("county=999999", "That county is not one you can search"),
    ],
)
def test_a_bad_parameter_is_named_and_ignored(client, auth, pool, query, message):
    auth.login("city")
    body = html.unescape(client.get(f"/people?{query}").get_data(as_text=True))
    assert message in body
    assert f"{len(expect())} craftsmen found" in body


def test_an_enterprise_outside_the_chosen_county_is_ignored(pool):
    asked = talent.prepare(
        {"county": str(pool.units.shishi.id), "enterprise": str(pool.units.aviation.id)}, pool.city_user
    )
    assert asked.filters.enterprise is None and asked.filters.county == pool.units.shishi.id
    assert "已忽略企业筛选" in asked.problems[0]  # outside a request: the default language


@pytest.mark.parametrize("path", ["/people", "/people/export.xlsx"])
@pytest.mark.parametrize("role, status", [("worker", 403), ("judge", 403), ("organizer", 200), ("admin", 200)])
def test_only_organizers_and_admins_search_the_pool(client, auth, make_user, path, role, status):
    make_user("someone", role)
    auth.login("someone")
    response = client.get(path)
    assert response.status_code == status
    response.close()


@pytest.mark.parametrize("path", ["/people", "/people/export.xlsx"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_export_holds_the_filtered_rows_with_masked_ids_and_is_audited(client, auth, pool):
    auth.login("city")
    args = {"trade": "无人机驾驶员", "sort": "grade"}
    response = client.get("/people/export.xlsx", query_string=args)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    data = response.get_data()
    response.close()
    rows = list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == talent.HEADERS
    assert [r[0] for r in rows[1:]] == found(pool.city_user, args) == ["张伟", "杨磊", "王芳"]
    assert [r[1] for r in rows[1:]] == [pool.workers[n].id_masked for n in ("张伟", "杨磊", "王芳")]
    cells = " ".join(str(v) for r in rows for v in r)
    for worker in db.session.scalars(sa.select(Worker)):
        assert people.id_number(worker) not in cells
    assert "泉州工匠 2024" in cells and "技术能手 2025 (推荐 recommended)" in cells
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "talent.export"))
    assert event.actor_id == pool.city_user.id
    assert event.detail == {"filters": args, "rows": 3}


def test_export_has_every_row_not_one_page(client, auth, make_user, make_worker):
    for n in range(1, 56):
        make_worker(f"工匠{n:02d}")
    make_user("admin", "admin")
    auth.login("admin")
    response = client.get("/people/export.xlsx")
    rows = list(
        load_workbook(io.BytesIO(response.get_data()), read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    response.close()
    assert len(rows) == 56


def test_a_formula_in_a_name_is_neutralised_in_the_export(client, auth, make_user, make_worker):
    make_worker('=HYPERLINK("x")', trade="+1")
    make_user("admin", "admin")
    auth.login("admin")
    response = client.get("/people/export.xlsx")
    rows = list(load_workbook(io.BytesIO(response.get_data())).worksheets[0].iter_rows(values_only=True))
    response.close()
    assert rows[1][0] == '\'=HYPERLINK("x")' and rows[1][4] == "'+1"


def test_a_page_costs_the_same_queries_for_one_row_or_many(client, auth, pool):
    auth.login("city")
    client.get("/people")  # warm up: the login, the session

    def queries(query: str) -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(query).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    assert queries("/people?q=伟") == queries("/people") == queries("/people?sort=awards&dir=desc")
