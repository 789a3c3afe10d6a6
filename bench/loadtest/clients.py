"""The load test's clients: a judge's tablet and a hall screen, one thread each, on raw sockets.

A request is a few bytes written to a fresh loopback connection (`Connection: close`, as
gunicorn's sync workers answer anyway) and the answer read back; nothing else runs on the
client side, so the two cores go to the server. Every request is timed from connect to the
last byte.

What a tablet does (templates/judging/*, comp/static/js/scoresheet.js) and `Judge` repeats:
open an entrant's score sheet (the full page), then for each of the judge's criteria type a
mark — one htmx POST of `value`, the `version` the row holds and the sheet's `reason`, with
the CSRF header from the page's `hx-headers` and the tablet's `X-Tablet-Session` — and read the
answered row (saved, stale, refused or closed; its hidden `version` is the one to send next).
An answer with `HX-Trigger: mark-saved` makes the sheet reload its tally. A network error, a
timeout (the sheet's htmx timeout is 10 s) or a 5xx leaves the mark in the outbox, which
re-sends the same value with the same version seen after 1 s, 2 s, 4 s … A stale answer is
met with "Keep mine" (the typed value again, over the version the server holds), once.
"""

from __future__ import annotations

import html
import random
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

TIMEOUT = 10.0  # seconds: the score sheet's hx-request timeout
RETRY_MAX = 30.0  # the outbox's longest wait between re-sends

ROW = re.compile(r'<div class="mark-row[^"]*" id="mark-(\d+)" data-state="(\w+)" data-saved="([^"]*)"')
VERSION = re.compile(r'name="version" id="version-(\d+)" value="(\d+)"')
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
BOARD = re.compile(r'id="live-board"[^>]*hx-get="([^"]+)"')


@dataclass
class Answer:
    """One answer: status (0 when the connection failed or timed out), the headers we read, the body."""

    status: int
    seconds: float
    body: str = ""
    trigger: str = ""
    location: str = ""
    cookies: list[str] = field(default_factory=list)
    error: str = ""


class Http:
    """A browser's worth of HTTP/1.1 for one client: one cookie jar, a fresh connection per request."""

    def __init__(self, port: int, timeout: float = TIMEOUT):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Answer:
        body = urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        start = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout) as sock:
                sock.sendall(raw)
                data = self._read(sock, start)
        except TimeoutError:
            return Answer(0, time.perf_counter() - start, error="timeout")
        except (OSError, ValueError) as error:
            return Answer(0, time.perf_counter() - start, error=type(error).__name__)
        seconds = time.perf_counter() - start
        answer = self._parse(data, seconds)
        for cookie in answer.cookies:
            self._keep(cookie)
        return answer

    def _read(self, sock: socket.socket, start: float) -> bytes:
        """Read the head, then Content-Length bytes (or to the end); never past the client timeout."""
        data = b""
        length: int | None = None
        head_end = -1
        while True:
            left = self.timeout - (time.perf_counter() - start)
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                if head_end < 0:
                    raise ConnectionResetError("closed before an answer")
                return data
            data += chunk
            if head_end < 0:
                head_end = data.find(b"\r\n\r\n")
                if head_end >= 0:
                    match = re.search(rb"\r\ncontent-length:\s*(\d+)", data[:head_end], re.IGNORECASE)
                    length = int(match[1]) if match else None
                    if data[9:12] in (b"204", b"304"):
                        length = 0
            if length is not None and head_end >= 0 and len(data) >= head_end + 4 + length:
                return data

    @staticmethod
    def _parse(data: bytes, seconds: float) -> Answer:
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        answer = Answer(int(lines[0].split(" ", 2)[1]), seconds, body.decode("utf-8", "replace"))
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                answer.cookies.append(value)
            elif name == "hx-trigger":
                answer.trigger = value
            elif name == "location":
                answer.location = value
        return answer

    def _keep(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if not value or "1970" in attributes or "max-age=0" in attributes.lower():
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value


@dataclass
class Stats:
    """One client's record: timed requests by kind, answer states, problems. Merged after the run."""

    samples: dict[str, list[tuple[float, float, int]]] = field(default_factory=dict)  # kind → (t, s, status)
    states: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)  # "kind error" → count (network errors, timeouts)
    errors: list[str] = field(default_factory=list)  # harness errors: what a tablet would show as broken

    def add(self, kind: str, t: float, answer: Answer) -> None:
        self.samples.setdefault(kind, []).append((t, answer.seconds, answer.status))
        if answer.status == 0:
            self.failures[f"{kind} {answer.error}"] += 1

    def merge(self, other: Stats) -> None:
        for kind, rows in other.samples.items():
            self.samples.setdefault(kind, []).extend(rows)
        self.states.update(other.states)
        self.failures.update(other.failures)
        self.errors.extend(other.errors)


class Ledger:
    """Every save a client sent and every one the server acknowledged, per mark (entrant, judge, criterion)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent: dict[tuple, list[tuple[int, int]]] = {}  # key → (version seen, cents)
        self.acked: dict[tuple, list[tuple[int, int]]] = {}  # key → (version answered, cents)
        self.retried: list[tuple[tuple, int, datetime, str]] = []  # key, version answered, first failure, state
        self.unsent: list[tuple] = []  # still in an outbox when the run ended

    def send(self, key: tuple, seen: int, cents: int) -> None:
        with self.lock:
            self.sent.setdefault(key, []).append((seen, cents))

    def ack(self, key: tuple, version: int, cents: int) -> None:
        with self.lock:
            self.acked.setdefault(key, []).append((version, cents))

    def acknowledged(self) -> int:
        return sum(len(v) for v in self.acked.values())


@dataclass
class Seat:
    """A judge as the clients know them: account, user id, the criteria they mark."""

    username: str
    id: int
    criteria: list[int]


@dataclass
class Scale:
    """What a criterion accepts: at most `max`, in steps of `step` or in hundredths."""

    max: Decimal
    step: Decimal | None

    def value(self, rng: random.Random, not_this: str | None = None) -> str:
        unit = self.step or Decimal("0.01")
        steps = int(self.max / unit)
        while True:
            text = _plain(unit * rng.randint(0, steps))
            if text != not_this:
                return text


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


class AppTarget:
    """The Jiangxin app: log in with the form's CSRF token, then the judging and live-board URLs."""

    name = "app"

    def __init__(self, code: str, password: str):
        self.code, self.password = code, password

    def login(self, http: Http, seat: Seat, stats: Stats) -> str:
        page = http.request("GET", "/login")
        token = CSRF_FIELD.search(page.body)
        if page.status != 200 or not token:
            raise RuntimeError(f"login page answered {page.status} without a CSRF token")
        form = {"username": seat.username, "password": self.password, "csrf_token": token[1]}
        done = http.request("POST", "/login", form)
        if done.status != 302:
            raise RuntimeError(f"{seat.username} could not log in: {done.status}")
        home = http.request("GET", f"/judge/{self.code}")  # where the judge starts; its page carries the CSRF header
        header = CSRF_HEADER.search(home.body)
        if home.status != 200 or not header:
            raise RuntimeError(f"the judge's home answered {home.status} without a CSRF header")
        return header[1]

    def sheet(self, secret: str, entrant: int, seat: Seat) -> str:
        return f"/judge/{self.code}/sheet/{secret}"

    def mark(self, secret: str, entrant: int, seat: Seat, criterion: int) -> str:
        return f"/judge/{self.code}/sheet/{secret}/mark/{criterion}"

    def tally(self, secret: str, entrant: int, seat: Seat) -> str:
        return f"/judge/{self.code}/sheet/{secret}/tally"


class FloorTarget:
    """The floor app (`app_floor`): no login, the same requests by ids."""

    name = "floor"

    def login(self, http: Http, seat: Seat, stats: Stats) -> str:
        return ""

    def sheet(self, secret: str, entrant: int, seat: Seat) -> str:
        return f"/sheet/{entrant}/{seat.id}"

    def mark(self, secret: str, entrant: int, seat: Seat, criterion: int) -> str:
        return f"/mark/{entrant}/{seat.id}/{criterion}"

    def tally(self, secret: str, entrant: int, seat: Seat) -> str:
        return f"/tally/{entrant}/{seat.id}"


@dataclass
class Phase:
    """The clock every client of a phase shares: `go` starts it, `stop` ends new work, `drain` ends retries."""

    duration: float
    grace: float
    go: threading.Event = field(default_factory=threading.Event)
    t0: float = 0.0

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.go.set()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def running(self) -> bool:
        return self.now() < self.duration

    def draining(self) -> bool:
        return self.now() < self.duration + self.grace

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self.duration + self.grace - self.now())))


class Judge(threading.Thread):
    """One judge at one tablet, marking entrant after entrant from `first` on, as fast as answers come."""

    def __init__(
        self,
        target,
        port: int,
        seat: Seat,
        entrants: list[dict],
        scales: dict[int, Scale],
        first: int,
        phase: Phase,
        ledger: Ledger,
        *,
        seed: int,
        corrections: float,
        reads: bool,
        think: float,
    ):
        super().__init__(name=f"judge-{seat.username}", daemon=True)
        self.target, self.seat, self.entrants, self.scales = target, seat, entrants, scales
        self.first, self.phase, self.ledger = first, phase, ledger
        self.corrections, self.reads, self.think = corrections, reads, think
        self.http = Http(port)
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.session = f"load{seed:04d}{self.rng.getrandbits(48):012x}"  # the tablet's X-Tablet-Session
        self.csrf = ""
        self.ready = threading.Event()
        self.known: dict[tuple[int, int], int] = {}  # (entrant, criterion) → the version the last answer carried

    def run(self) -> None:
        try:
            self.csrf = self.target.login(self.http, self.seat, self.stats)
        except Exception as error:  # a harness error: reported, the run exits 1
            self.stats.errors.append(f"{self.seat.username}: {error}")
            return
        finally:
            self.ready.set()
        self.phase.go.wait()
        try:
            self._mark()
        except Exception as error:
            self.stats.errors.append(f"{self.seat.username}: {type(error).__name__}: {error}")

    def _mark(self) -> None:
        index = self.first
        while self.phase.running() and not self.stats.errors:
            entrant = self.entrants[index % len(self.entrants)]
            index += 1
            versions = self._open(entrant)
            if versions is None:
                return
            for criterion in self.seat.criteria:
                if not self.phase.running():
                    return
                state, version = versions.get(criterion, ("empty", 0))
                if state == "closed":
                    continue
                answered = self._save(entrant, criterion, self.scales[criterion].value(self.rng), version)
                retype = self.rng.random() < self.corrections
                if answered and answered[0] == "saved" and retype and self.phase.running():
                    # The judge mistyped and types the mark again, over the version the answer carries.
                    typed = self.scales[criterion].value(self.rng, not_this=answered[2])
                    self._save(entrant, criterion, typed, answered[1])
                if self.think:
                    time.sleep(self.think)

    def _headers(self, htmx: bool, target: str = "") -> dict:
        if not htmx:
            return {}
        headers = {"HX-Request": "true", "X-Tablet-Session": self.session}
        if target:
            headers["HX-Target"] = target
        if self.csrf:
            headers["X-CSRFToken"] = self.csrf
        return headers

    def _open(self, entrant: dict) -> dict[int, tuple[str, int]] | None:
        """Open the sheet (the full page, as following "Next entrant" does); return each row's state and version."""
        if not self.reads:  # no sheet: the versions this tablet's own answers carried
            known = ((c, self.known.get((entrant["id"], c))) for c in self.seat.criteria)
            return {c: ("saved", version) for c, version in known if version is not None}
        path = self.target.sheet(entrant["secret"], entrant["id"], self.seat)
        while self.phase.running():
            page = self.http.request("GET", path)
            self.stats.add("sheet", self.phase.now(), page)
            if page.status == 200:
                header = CSRF_HEADER.search(page.body)
                if header:
                    self.csrf = header[1]
                states = {int(cid): state for cid, state, _saved in ROW.findall(page.body)}
                return {int(cid): (states.get(int(cid), "saved"), int(v)) for cid, v in VERSION.findall(page.body)}
            if page.status and page.status < 500:
                self.stats.errors.append(f"{self.seat.username}: the sheet answered {page.status}")
                return None
            time.sleep(1.0)  # the judge reloads the page a moment later
        return None

    def _save(self, entrant: dict, criterion: int, value: str, seen: int) -> tuple[str, int, str] | None:
        """Send one mark until the server answers it; return (state, version, value shown) or None."""
        key = (entrant["id"], self.seat.id, criterion)
        path = self.target.mark(entrant["secret"], entrant["id"], self.seat, criterion)
        wanted = cents(value)
        failed_at: datetime | None = None
        attempt = 0
        kept_mine = False
        while True:
            self.ledger.send(key, seen, wanted)
            answer = self.http.request(
                "POST", path, {"value": value, "version": seen, "reason": ""}, self._headers(True, f"mark-{criterion}")
            )
            self.stats.add("save", self.phase.now(), answer)
            if answer.status == 0 or answer.status >= 500:
                # The outbox keeps it: "not saved — retrying", then the same value with the same version seen.
                failed_at = failed_at or datetime.now(UTC).replace(tzinfo=None)
                if not self.phase.draining():
                    with self.ledger.lock:
                        self.ledger.unsent.append(key)
                    return None
                self.phase.sleep(min(RETRY_MAX, 2.0**attempt))
                attempt += 1
                continue
            row, version = ROW.search(answer.body), VERSION.search(answer.body)
            if answer.status != 200 or row is None or version is None:
                self.stats.errors.append(f"{self.seat.username}: a save answered {answer.status} without a row")
                return None
            state, number, shown = row[2], int(version[2]), row[3]
            self.stats.states[state] += 1
            self.known[(entrant["id"], criterion)] = number
            if failed_at is not None:
                with self.ledger.lock:
                    self.ledger.retried.append((key, number, failed_at, state))
                failed_at = None
            if state == "saved":
                if shown == "" or cents(shown) != wanted:
                    self.stats.errors.append(f"{self.seat.username}: saved {value!r} answered with {shown!r}")
                self.ledger.ack(key, number, wanted)
            elif state == "refused" or state == "closed":
                self.stats.errors.append(f"{self.seat.username}: {value!r} was {state}")
            if "mark-saved" in answer.trigger and self.reads:
                tally_path = self.target.tally(entrant["secret"], entrant["id"], self.seat)
                tally = self.http.request("GET", tally_path, None, self._headers(True, "tally"))
                self.stats.add("tally", self.phase.now(), tally)
            if state == "stale" and not kept_mine:
                kept_mine, seen, attempt = True, number, 0  # "Keep mine": the typed value over the server's version
                continue
            return state, number, value


class Screen(threading.Thread):
    """A hall screen: the full page once, then htmx polls of the URL the board carries (204 while unchanged)."""

    def __init__(self, port: int, code: str, interval: float, phase: Phase, offset: float):
        super().__init__(name=f"screen-{offset:.2f}", daemon=True)
        self.http, self.code, self.interval, self.phase, self.offset = Http(port), code, interval, phase, offset
        self.stats = Stats()
        self.url = ""
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            page = self.http.request("GET", f"/c/{self.code}/live?screen=1")
            found = BOARD.search(page.body)
            if page.status != 200 or not found:
                raise RuntimeError(f"the hall screen answered {page.status} without a board")
            self.url = html.unescape(found[1])
        except Exception as error:
            self.stats.errors.append(f"screen: {error}")
            return
        finally:
            self.ready.set()
        self.phase.go.wait()
        due = self.offset  # screens switched on at different moments
        headers = {"HX-Request": "true", "HX-Target": "live-board", "HX-Current-URL": f"/c/{self.code}/live?screen=1"}
        while True:
            self.phase.sleep(due - self.phase.now())
            if not self.phase.running():
                return
            due = self.phase.now() + self.interval  # htmx's `every`: the next poll is timed from this one …
            answer = self.http.request("GET", self.url, None, headers)
            self.stats.add("board", self.phase.now(), answer)
            self.stats.states[f"board {answer.status}"] += 1
            if answer.status == 200:  # … unless the board was swapped: the new one starts its own timer
                due = self.phase.now() + self.interval
                found = BOARD.search(answer.body)
                if not found:
                    self.stats.errors.append("screen: a board answer without its poll URL")
                    return
                self.url = html.unescape(found[1])
