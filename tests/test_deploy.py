"""deploy/: every file parses and agrees with the app it deploys.

No nginx, systemd or Docker engine runs here, so the files are parsed and checked against the code:
the gunicorn settings are gunicorn's and load the app, the systemd unit names paths that exist, the
nginx site's upload limit is the app's MAX_CONTENT_LENGTH and its proxy headers are the ones the app's
ProxyFix trusts (sent through a real app), env.example lists exactly the variables the code reads.
The image is built only with JIANGXIN_DOCKER=1 where a Docker engine answers.
"""

from __future__ import annotations

import configparser
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from comp import config as settings
from comp import create_app
from comp.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SERVED_FROM = "/srv/jiangxin"  # where the unit and the nginx site expect the code; ROOT here
VENV_BIN = Path(sys.executable).parent  # /srv/jiangxin/.venv/bin on a server


def on_server(path: str) -> Path:
    """Map a path of the deployed layout onto this checkout (the code folder and its virtualenv)."""
    if path.startswith(f"{SERVED_FROM}/.venv/bin/"):
        return VENV_BIN / path.rsplit("/", 1)[1]
    if path == SERVED_FROM or path.startswith(f"{SERVED_FROM}/"):
        return ROOT / path[len(SERVED_FROM) :].lstrip("/")
    return Path(path)


# --- gunicorn ---


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    for name in ("WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    return {k: v for k, v in values.items() if not k.startswith("_") and k not in {"annotations", "os", "Path"}}


def test_gunicorn_config_names_only_gunicorn_settings(monkeypatch):
    from gunicorn.config import Config

    known = set(Config().settings)
    names = set(gunicorn_settings(monkeypatch))
    assert names - known == set(), "gunicorn ignores names it does not know: a typo would pass silently"
    for name in ("bind", "workers", "timeout", "graceful_timeout", "max_requests", "max_requests_jitter"):
        assert name in names


def test_gunicorn_config_values(monkeypatch):
    conf = gunicorn_settings(monkeypatch)
    assert conf["bind"] == ["127.0.0.1:8000"], "loopback only: nginx is in front"
    cpus = len(os.sched_getaffinity(0))
    assert conf["workers"] == min(2 * cpus + 1, 12)
    assert conf["worker_class"] == "sync"
    assert 10 <= conf["timeout"] <= 60, "no request runs long: long work goes to the job queue"
    assert 0 < conf["graceful_timeout"] <= conf["timeout"]
    assert conf["max_requests"] > 0
    assert 0 < conf["max_requests_jitter"] < conf["max_requests"]
    assert conf["accesslog"] == "-" and conf["errorlog"] == "-"
    log_format = conf["access_log_format"]
    assert "%({x-forwarded-for}i)s" in log_format
    assert re.search(r"%\((M|L|D|T)\)s", log_format), "the access line carries the request time"
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3


def test_gunicorn_access_log_format_renders(monkeypatch):
    """The format, filled in by gunicorn's own logger, gives the forwarded address first and the time last."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    conf = gunicorn_settings(monkeypatch)
    cfg = Config()
    cfg.set("access_log_format", conf["access_log_format"])
    request = SimpleNamespace(
        headers=[("X-FORWARDED-FOR", "203.0.113.5")],
        method="GET",
        uri="/healthz",
        path="/healthz",
        query="",
        version=(1, 1),
    )
    response = SimpleNamespace(status="200 OK", response_length=15, headers=[], sent=15)
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "RAW_URI": "/healthz"}
    environ["SERVER_PROTOCOL"] = "HTTP/1.0"
    logger = Logger(cfg)
    atoms = logger.atoms_wrapper_class(logger.atoms(response, request, environ, timedelta(milliseconds=42)))
    line = conf["access_log_format"] % atoms
    assert line.startswith("203.0.113.5 127.0.0.1 ")
    assert line.endswith(" 42ms")


def test_gunicorn_hooks_empty_the_metrics_folder(monkeypatch, tmp_path):
    folder = tmp_path / "metrics"
    conf = gunicorn_settings(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(folder))
    conf["on_starting"](None)
    assert folder.is_dir()
    (folder / "counter_123.db").write_bytes(b"stale")
    conf["on_starting"](None)
    assert list(folder.iterdir()) == []
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    conf["child_exit"](None, None)  # without the folder: nothing to forget, nothing imported


def test_gunicorn_check_config_loads_the_app(tmp_path):
    """`gunicorn --check-config` with this file loads wsgi:app (development settings, a scratch instance)."""
    gunicorn = shutil.which("gunicorn", path=str(VENV_BIN))
    assert gunicorn, "gunicorn is a dependency of the package"
    env = {**os.environ, "JIANGXIN_ENV": "development", "JIANGXIN_INSTANCE": str(tmp_path)}
    for name in ("DATABASE_URL", "REDIS_URL", "JOBS_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    done = subprocess.run(
        [gunicorn, "--check-config", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- systemd ---


def read_unit(path: Path) -> configparser.ConfigParser:
    """Read a unit file the way systemd does, near enough: sections, keys kept in their case, no interpolation."""
    unit = configparser.ConfigParser(interpolation=None, strict=True, empty_lines_in_values=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(path.read_text())
    return unit


def env_example() -> dict[str, str]:
    """Return the variables of deploy/env.example, `#NAME=default` (optional ones) included."""
    found = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        match = re.match(r"#?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} twice in env.example"
            found[match.group(1)] = match.group(2)
    return found


def test_web_unit():
    unit = read_unit(DEPLOY / "systemd" / "jiangxin-web.service")
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert service["User"] == service["Group"] == "jiangxin"
    assert service["EnvironmentFile"] == "/etc/jiangxin/env"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert service["ProtectHome"] == "yes"
    assert service["CapabilityBoundingSet"] == ""
    # The instance folder of env.example is the one writable path.
    instance = env_example()["JIANGXIN_INSTANCE"]
    assert instance in service["ReadWritePaths"].split()
    assert f"/var/lib/{service['StateDirectory']}" == instance
    # The stop waits longer than gunicorn lets a worker finish its request.
    graceful = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["graceful_timeout"]
    assert int(service["TimeoutStopSec"]) > graceful
    assert service["Environment"] == f"PROMETHEUS_MULTIPROC_DIR=/run/{service['RuntimeDirectory']}"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_web_unit_names_existing_paths_and_commands():
    service = read_unit(DEPLOY / "systemd" / "jiangxin-web.service")["Service"]
    workdir = on_server(service["WorkingDirectory"])
    assert workdir == ROOT
    start = shlex.split(service["ExecStart"])
    assert Path(start[0]).is_absolute() and on_server(start[0]).name == "gunicorn"
    assert on_server(start[0]).exists(), f"{start[0]} → {on_server(start[0])}"
    config = start[start.index("--config") + 1]
    assert (workdir / config).is_file()
    module, _, attribute = start[-1].partition(":")
    assert (workdir / f"{module}.py").is_file() and attribute == "app"
    reload = shlex.split(service["ExecReload"])
    assert reload[0] == "/bin/kill" and Path("/bin/kill").exists()
    assert reload[1:] == ["-s", "HUP", "$MAINPID"]


def test_web_unit_passes_systemd_analyze_verify(tmp_path):
    """systemd's own check (every directive known, the command there), on a copy pointed at this checkout."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    text = (DEPLOY / "systemd" / "jiangxin-web.service").read_text()
    text = text.replace(f"{SERVED_FROM}/.venv/bin/", f"{VENV_BIN}/").replace(SERVED_FROM, str(ROOT))
    text = re.sub(r"(?m)^(User|Group)=.*$", r"\1=root", text)
    text = text.replace("EnvironmentFile=/", "EnvironmentFile=-/")  # no /etc/jiangxin/env on this machine
    unit = tmp_path / "jiangxin-web.service"
    unit.write_text(text)
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stdout + done.stderr


def test_worker_unit_shares_the_web_units_user_settings_and_folder_and_runs_the_jobs_command(tmp_path):
    web = read_unit(DEPLOY / "systemd" / "jiangxin-web.service")["Service"]
    unit = read_unit(DEPLOY / "systemd" / "jiangxin-worker.service")
    service = unit["Service"]
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile", "ReadWritePaths", "StateDirectory"):
        assert service[key] == web[key], key
    assert service["Restart"] == "on-failure" and service["NoNewPrivileges"] == "yes"
    start = shlex.split(service["ExecStart"])
    assert on_server(start[0]).name == "flask" and on_server(start[0]).exists()
    assert start[1:5] == ["--app", "wsgi", "jobs", "worker"]
    from comp import create_app
    from comp.config import test_config

    app = create_app(test_config(f"sqlite:///{tmp_path / 'w.db'}"))
    assert "worker" in app.cli.commands["jobs"].commands  # the command the unit runs exists
    analyze = shutil.which("systemd-analyze")
    if analyze:
        text = (DEPLOY / "systemd" / "jiangxin-worker.service").read_text()
        text = text.replace(f"{SERVED_FROM}/.venv/bin/", f"{VENV_BIN}/").replace(SERVED_FROM, str(ROOT))
        text = re.sub(r"(?m)^(User|Group)=.*$", r"\1=root", text)
        text = text.replace("EnvironmentFile=/", "EnvironmentFile=-/")
        copy = tmp_path / "jiangxin-worker.service"
        copy.write_text(text)
        done = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and not done.stderr.strip(), done.stdout + done.stderr


def test_flask_wrapper_reads_what_the_unit_reads():
    wrapper = DEPLOY / "jiangxin-flask"
    assert os.access(wrapper, os.X_OK)
    if shutil.which("sh"):
        subprocess.run(["sh", "-n", str(wrapper)], check=True)
    text = wrapper.read_text()
    service = read_unit(DEPLOY / "systemd" / "jiangxin-web.service")["Service"]
    assert f". {service['EnvironmentFile']}\n" in text
    assert "exec .venv/bin/flask --app wsgi" in text
    assert (VENV_BIN / "flask").exists()


# --- nginx ---


class Directive:
    def __init__(self, name: str, args: list[str], block: list[Directive] | None):
        self.name, self.args, self.block = name, args, block

    def all(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def one(self, name: str) -> Directive:
        found = self.all(name)
        assert len(found) == 1, f"{self.name} {' '.join(self.args)}: {len(found)} × {name}"
        return found[0]

    def values(self, name: str) -> list[str]:
        return [" ".join(d.args) for d in self.all(name)]


def nginx_tokens(text: str):
    """Yield nginx's tokens: words, quoted strings, and the characters { } ; (comments skipped)."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            yield c
            i += 1
        elif c in "'\"":
            end = text.find(c, i + 1)
            while end != -1 and text[end - 1] == "\\":
                end = text.find(c, end + 1)
            assert end != -1, "unterminated quote"
            yield text[i + 1 : end]
            i = end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in "{};":
                i += 1
            yield text[start:i]


def parse_nginx(text: str) -> Directive:
    """Parse an nginx configuration into nested directives; braces must balance, every directive must end."""
    root = Directive("main", [], [])
    stack, words = [root], []
    for token in nginx_tokens(text):
        if token == ";":
            assert words, "an empty directive"
            stack[-1].block.append(Directive(words[0], words[1:], None))
            words = []
        elif token == "{":
            assert words, "a block without a name"
            block = Directive(words[0], words[1:], [])
            stack[-1].block.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"{words} not ended by ;"
            assert len(stack) > 1, "a } without its {"
            stack.pop()
        else:
            words.append(token)
    assert not words, f"{words} not ended by ;"
    assert len(stack) == 1, "a { without its }"
    return root


def size(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", value)
    assert match, value
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]


def seconds(value: str) -> int:
    match = re.fullmatch(r"(-?\d+)([smhdwMy]?)", value)
    assert match, value
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "y": 365 * 86400}
    return int(match.group(1)) * unit[match.group(2)]


@pytest.fixture(scope="module")
def site() -> Directive:
    return parse_nginx((DEPLOY / "nginx" / "jiangxin.conf").read_text())


def https_server(site: Directive) -> Directive:
    [server] = [s for s in site.all("server") if any("ssl" in d.args for d in s.all("listen"))]
    return server


def test_nginx_parser_refuses_broken_configs():
    for broken in ("server { listen 80; ", "server { listen 80 }", "}", "listen 80", 'server_name "a;'):
        with pytest.raises(AssertionError):
            parse_nginx(broken)


def test_nginx_redirects_http_to_https(site):
    [plain] = [s for s in site.all("server") if s not in (https_server(site),)]
    assert {" ".join(d.args) for d in plain.all("listen")} == {"80", "[::]:80"}
    [everything] = [loc for loc in plain.all("location") if loc.args == ["/"]]
    target = everything.one("return").args
    name = plain.one("server_name").args[0]
    assert target == ["301", f"https://{name}$request_uri"]


def test_nginx_tls_and_hsts(site):
    server = https_server(site)
    assert server.one("ssl_certificate") and server.one("ssl_certificate_key")
    protocols = set(server.one("ssl_protocols").args)
    assert protocols and protocols <= {"TLSv1.2", "TLSv1.3"}
    assert server.one("ssl_session_tickets").args == ["off"]
    headers = {d.args[0]: d.args[1:] for d in server.all("add_header")}
    hsts = headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts[0]).group(1)) >= 365 * 86400
    assert hsts[-1] == "always"
    from comp import web

    assert hsts[0] == web.HSTS, "the same policy the app sends on its own answers"
    for location in server.all("location"):
        assert not location.all("add_header"), "an add_header in a location drops the server's headers there"


def test_nginx_upload_limit_is_the_apps(site):
    limits = [d for d in https_server(site).block if d.name == "client_max_body_size"]
    assert len(limits) == 1
    assert size(limits[0].args[0]) == settings.BASE["MAX_CONTENT_LENGTH"]


def test_nginx_gzips_text(site):
    server = https_server(site)
    assert server.one("gzip").args == ["on"]
    types = set(server.one("gzip_types").args)
    assert {"text/css", "application/javascript", "application/json", "image/svg+xml"} <= types


def static_locations(server: Directive) -> list[Directive]:
    return [loc for loc in server.all("location") if loc.args[-1].startswith("/static/")]


def serve_static(server: Directive, url: str) -> tuple[Path, int]:
    """Return the file nginx sends for a /static/ URL and its `expires` seconds (exact match, else longest prefix)."""
    exact = [loc for loc in static_locations(server) if loc.args[0] == "=" and loc.args[1] == url]
    prefixes = [loc for loc in static_locations(server) if len(loc.args) == 1 and url.startswith(loc.args[0])]
    if exact:
        location, path = exact[0], location_alias(exact[0])
    else:
        location = max(prefixes, key=lambda loc: len(loc.args[0]))
        path = location_alias(location) + url[len(location.args[0]) :]
    return on_server(path), seconds(location.one("expires").args[0])


def location_alias(location: Directive) -> str:
    return location.one("alias").args[0]


def test_nginx_serves_every_static_file_the_pages_ask_for(site):
    server = https_server(site)
    asked = set()
    static_url = re.compile(r"""url_for\(\s*['"]static['"]\s*,\s*filename\s*=\s*['"]([^'"]+)['"]""")
    for template in (ROOT / "templates").rglob("*.html"):
        asked |= set(static_url.findall(template.read_text()))
    assert {"css/app.css", "js/app.js", "vendor/htmx/htmx.min.js", "vendor/pico/pico.red.min.css"} <= asked
    static = ROOT / "comp" / "static"
    for name in asked:
        path, expires = serve_static(server, f"/static/{name}")
        assert path.resolve() == (static / name).resolve() and path.is_file(), name
        if name.startswith("vendor/"):
            assert expires >= 7 * 86400, f"{name}: vendored, kept long"
        elif name.endswith((".css", ".js")):
            assert expires < 0, f"{name}: not fingerprinted, revalidated on every use"


def proxied(site: Directive) -> Directive:
    [location] = [loc for loc in https_server(site).all("location") if loc.args == ["/"]]
    return location


def test_nginx_proxies_to_gunicorn(site, monkeypatch):
    location = proxied(site)
    target = location.one("proxy_pass").args[0]
    assert target.startswith("http://")
    [upstream] = [u for u in site.all("upstream") if u.args == [target.removeprefix("http://")]]
    bind = gunicorn_settings(monkeypatch)["bind"]
    assert upstream.values("server") == bind
    assert seconds(location.one("proxy_read_timeout").args[0]) > gunicorn_settings(monkeypatch)["timeout"]


def test_nginx_headers_are_the_ones_proxy_fix_trusts(site, database_url):
    """Send a request as nginx would forward it to an app with PROXY_FIX on: the client's address, HTTPS
    and the public host come through; what the client put in X-Forwarded-* itself does not."""
    server = https_server(site)
    host = server.one("server_name").args[0]
    client_address, spoofed = "203.0.113.5", "198.51.100.66"
    variables = {
        "$host": host,
        "$scheme": "https",
        "$remote_addr": client_address,
        "$proxy_add_x_forwarded_for": f"{spoofed}, {client_address}",
    }
    headers = {"X-Forwarded-For": spoofed, "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
    for directive in proxied(site).all("proxy_set_header"):
        name, value = directive.args
        headers[name] = variables.get(value, value)
    assert headers["Host"] == host

    app = create_app({**settings.test_config(database_url), "PROXY_FIX": True})

    @app.get("/_test/proxy")
    def proxy_probe():
        from flask import jsonify, request

        return jsonify(address=request.remote_addr, scheme=request.scheme, host=request.host)

    response = app.test_client().get("/_test/proxy", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    with app.app_context():  # close its pooled connections now, not when the garbage collector finds them
        db.session.remove()
        db.engine.dispose()
    assert response.get_json() == {"address": client_address, "scheme": "https", "host": host}
    assert response.headers["Strict-Transport-Security"] == web_hsts()
    for hidden in ("Strict-Transport-Security", "X-Content-Type-Options"):
        assert hidden in proxied(site).values("proxy_hide_header"), f"nginx adds {hidden} itself: sent once"


def web_hsts() -> str:
    from comp import web

    return web.HSTS


# --- env.example ---

READ = re.compile(
    r"""(?:os\.)?(?:environ\.get|environ\.setdefault|environ\.pop|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""
)


def variables_read() -> set[str]:
    """Every environment variable the app and the gunicorn config read: the literal names in their source,
    and the names comp.config reads through a variable (REQUIRED, SESSION_HOURS), recorded as it reads."""
    names = set()
    for path in [*(ROOT / "comp").rglob("*.py"), DEPLOY / "gunicorn.conf.py"]:
        for match in READ.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names


class RecordingEnviron(dict):
    def __init__(self, values, seen: set[str]):
        super().__init__(values)
        self.seen = seen

    def get(self, key, default=None):
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.seen.add(key)
        return super().__contains__(key)


def test_env_example_lists_exactly_what_the_code_reads(monkeypatch, tmp_path):
    seen: set[str] = set()
    recorder = RecordingEnviron({"JIANGXIN_ENV": "development", "JIANGXIN_INSTANCE": str(tmp_path)}, seen)
    monkeypatch.setattr(os, "environ", recorder)
    settings.from_environment()
    monkeypatch.undo()
    read = variables_read() | seen
    assert set(settings.REQUIRED) <= read and "SESSION_HOURS" in read
    listed = set(env_example())
    assert listed - read == set(), "in env.example but read nowhere"
    assert read - listed == set(), "read by the code but missing from deploy/env.example"


def test_env_example_sets_the_production_essentials():
    values = env_example()
    for name in settings.REQUIRED:
        assert name in values
    lines = (DEPLOY / "env.example").read_text().splitlines()
    for name in (*settings.REQUIRED, "JIANGXIN_ENV", "JIANGXIN_INSTANCE", "PROXY_FIX", "SESSION_COOKIE_SECURE"):
        assert any(line.startswith(f"{name}=") for line in lines), f"{name} must be set, not left as a comment"
    assert values["JIANGXIN_ENV"] == "production"
    assert values["PROXY_FIX"] == values["SESSION_COOKIE_SECURE"] == "1"
    assert values["JIANGXIN_INSTANCE"].startswith("/")
    for line in lines:
        if re.match(r"#?[A-Z][A-Z0-9_]*=", line):
            assert not set(line) & set(" '\""), f"read alike by systemd, compose and sh: {line}"


# --- Docker ---


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_services(compose):
    services = compose["services"]
    assert {"app", "db", "redis"} <= set(services)
    for name in ("app", "db", "redis"):
        assert services[name]["healthcheck"]["test"], f"{name} has a healthcheck"
        assert services[name]["restart"] == "unless-stopped"
    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert "--appendonly" in services["redis"]["command"], "queued jobs survive a Redis restart"
    assert compose["volumes"].keys() >= {"pgdata", "redisdata", "instance"}
    for service in services.values():
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"], volume


def test_compose_runs_the_migrations_before_the_app(compose):
    services = compose["services"]
    app, migrate = services["app"], services["migrate"]
    assert migrate["command"] == ["flask", "--app", "wsgi", "db", "upgrade"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["depends_on"]["db"]["condition"] == app["depends_on"]["redis"]["condition"] == "service_healthy"
    assert migrate["image"] == app["image"] and migrate["environment"] == app["environment"]


def test_compose_app(compose):
    app = compose["services"]["app"]
    assert app["ports"] == ["127.0.0.1:8000:8000"], "only the host's nginx reaches gunicorn"
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert app["env_file"] == "env" and (DEPLOY / "env.example").is_file()
    env = app["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://jiangxin:")
    assert env["DATABASE_URL"].endswith("@db:5432/jiangxin")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["JIANGXIN_INSTANCE"] == env_example()["JIANGXIN_INSTANCE"]
    assert "instance:/var/lib/jiangxin" in app["volumes"]
    assert set(env) <= set(env_example()), "every variable compose sets is a documented one"
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    grace = seconds(app["stop_grace_period"].removesuffix("s"))
    assert grace > runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["graceful_timeout"]


def dockerfile() -> list[tuple[str, str]]:
    """Return the Dockerfile's instructions (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile():
    steps = dockerfile()
    assert steps[0][0] == "FROM" and steps[0][1].startswith("python:3.11-slim")
    kinds = [kind for kind, _ in steps]
    user = [rest for kind, rest in steps if kind == "USER"]
    assert user and user[-1] not in ("root", "0"), "runs as an unprivileged user"
    assert kinds.index("USER") < kinds.index("CMD")
    runs = " ".join(rest for kind, rest in steps if kind == "RUN")
    assert "pybabel compile" in runs and "-d comp/translations" in runs
    assert "pip install" in runs
    assert "font" not in runs, "the PDF font ships with the project (comp/certificates/fonts)"
    from comp.certificates import fonts

    assert fonts.FONT_PATH.is_file()
    cmd = __import__("json").loads([rest for kind, rest in steps if kind == "CMD"][-1])
    assert cmd[0] == "gunicorn" and cmd[cmd.index("--config") + 1] == "deploy/gunicorn.conf.py"
    assert cmd[-1] == "wsgi:app"
    for kind, rest in steps:
        if kind == "COPY":
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}"
    env = " ".join(rest for kind, rest in steps if kind == "ENV")
    assert f"JIANGXIN_INSTANCE={env_example()['JIANGXIN_INSTANCE']}" in env


def test_docker_context_keeps_what_the_app_needs():
    ignored = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in ("comp", "templates", "migrations", "wsgi.py", "setup.cfg", "pyproject.toml", "README.md"):
        assert needed not in ignored
    for private in (".git", ".venv", "instance", "deploy/env", "deploy/.env"):
        assert private in ignored


def docker_engine() -> str | None:
    """Return why the image cannot be built here, or None when it can."""
    if os.environ.get("JIANGXIN_DOCKER") != "1":
        return "building the image takes minutes: set JIANGXIN_DOCKER=1 to run it"
    if not shutil.which("docker"):
        return "no docker command"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode != 0:
        return "no Docker engine answers (docker info failed)"
    return None


def test_image_builds_and_runs_as_its_user():
    reason = docker_engine()
    if reason:
        pytest.skip(reason)
    tag = "jiangxin:test-deploy"
    build = subprocess.run(
        ["docker", "build", "-f", "deploy/Dockerfile", "-t", tag, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    check = subprocess.run(
        ["docker", "run", "--rm", "-e", "JIANGXIN_ENV=development", tag, "sh", "-c",
         "id -u && gunicorn --check-config -c deploy/gunicorn.conf.py wsgi:app && ls comp/translations/zh/LC_MESSAGES"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.split()[0] == "10001"
    assert "messages.mo" in check.stdout


def test_compose_worker_runs_the_jobs_command_with_the_apps_settings(compose):
    services = compose["services"]
    worker, app = services["worker"], services["app"]
    assert worker["command"][:5] == ["flask", "--app", "wsgi", "jobs", "worker"]
    assert worker["image"] == app["image"] and worker["environment"] == app["environment"]
    assert worker["volumes"] == app["volumes"], "the worker writes the batch files the app sends"
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "ports" not in worker
