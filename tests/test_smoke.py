"""The app starts, answers its health check, and serves the login page in Chinese."""


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "登录" in page


def test_import_and_results(make_competition):
    from comp.services import results

    competition = make_competition()
    assert competition.status == "locked"
    doc = results.document(competition)
    assert [r["ref"] for r in doc["results"]] == ["E1", "E2"]
