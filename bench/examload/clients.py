"""The exam load test's candidates: admission, the answer saves the page's JS sends, the outbox, the ledger.

A candidate is admitted once, before the timed phase, as a phone without an account is: the
admission page for its CSRF token, exam code + ID number posted (the signed session cookie now
names her entrant), and the start posted with her device token, which draws her paper. A save is
what comp/static/js/exam.js posts for one question: `response` (the ticked letters as shown, sorted),
`version` (the one the page holds) and `device`, with `Accept: application/json`, the CSRF header
and `X-Exam-Device`; like the page, a phone sends one save at a time.
The answer says saved (its version is the one to send next), stale (the server's answer stands and
is shown), taken over, finished or refused. A network error, a timeout, a 5xx or a body that is not
JSON (cut short by a killed worker) leaves the choice in the outbox, which sends the latest choice
at that position over the same version after 1 s, 2 s, 4 s … Requests go out on
`bench.loadtest.clients.Http` (a fresh loopback connection each).
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field

from bench.loadtest.clients import CSRF_FIELD, Http, Ledger
from comp.exams.papers import shown_to_stored
from comp.exams.types import LETTERS

RETRY_MAX = 8.0  # the outbox's longest wait between re-sends


@dataclass
class Question:
    """A position of a candidate's paper as the page shows it: its kind, how many options, their order."""

    kind: str
    options: int
    order: tuple[int, ...]


@dataclass
class Pending:
    """A choice in the outbox: the shown response, the version it was chosen over, the next attempt."""

    shown: str
    seen: int
    attempt: int = 0
    due: float = 0.0


@dataclass
class Record:
    """Timed requests of one phase, shared by the threads: (phase time, seconds, status) by kind."""

    samples: dict[str, list[tuple[float, float, int]]] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, t: float, seconds: float, status: int, state: str = "", error: str = "") -> None:
        """Record one timed request, its answer's state, or why it was not answered."""
        with self.lock:
            self.samples.setdefault(kind, []).append((t, seconds, status))
            if state:
                self.states[state] = self.states.get(state, 0) + 1
            if error:
                self.failures[f"{kind} {error}"] = self.failures.get(f"{kind} {error}", 0) + 1

    def error(self, text: str) -> None:
        """Record a harness error: what a phone would show as broken."""
        with self.lock:
            self.errors.append(text)


class AppTarget:
    """The Jiangxin app: the candidate's answer URL by exam code; what it holds is the stored letters."""

    name = "app"

    def __init__(self, code: str):
        self.code = code

    def path(self, candidate: Candidate, position: int) -> str:
        """Return the URL the page posts the answer at `position` to."""
        return f"/exam/{self.code}/answers/{position}"

    def value(self, question: Question, shown: str) -> str:
        """Return the response as the database keeps it (stored letters)."""
        return shown_to_stored(shown, question.order) if question.kind in ("single", "multiple") else shown


class FloorTarget:
    """The bare floor: the same form posted by sitting id, kept as sent."""

    name = "floor"

    def path(self, candidate: Candidate, position: int) -> str:
        """Return the floor's URL of the answer: by sitting id, no login."""
        return f"/answers/{candidate.sitting}/{position}"

    def value(self, question: Question, shown: str) -> str:
        """Return the response as the floor keeps it: as sent."""
        return shown


class Candidate:
    """One candidate's phone: its cookie jar and device token, her paper, the versions held, the outbox."""

    def __init__(self, port: int, index: int, ref: str, id_number: str, seed: int):
        self.port, self.index, self.ref, self.id_number = port, index, ref, id_number
        self.rng = random.Random(seed * 100_003 + index)
        self.device = f"load{index:06d}{self.rng.getrandbits(40):010x}"
        self.http = Http(port)
        self.csrf = ""
        self.sitting = 0
        self.paper: list[Question] = []
        self.versions: dict[int, int] = {}
        self.shown: dict[int, str] = {}
        self.outbox: dict[int, Pending] = {}
        self.lock = threading.Lock()

    def admit(self, code: str) -> tuple[float, float, float]:
        """Get the admission page, post exam code + ID number, start the paper on this device; return the seconds."""
        page = self.http.request("GET", "/exam")
        token = CSRF_FIELD.search(page.body)
        if page.status != 200 or not token:
            raise RuntimeError(f"{self.ref}: the admission page answered {page.status} without a CSRF token")
        self.csrf = token[1]
        done = self.http.request("POST", "/exam", {"code": code, "id_number": self.id_number, "csrf_token": self.csrf})
        if done.status != 302:
            raise RuntimeError(f"{self.ref}: admission answered {done.status}")
        started = self.http.request("POST", f"/exam/{code}/start", {"csrf_token": self.csrf, "device": self.device})
        if started.status != 302:
            raise RuntimeError(f"{self.ref}: the start answered {started.status}")
        return page.seconds, done.seconds, started.seconds

    def use_port(self, port: int) -> None:
        """Talk to another server (the floor) with the same cookies."""
        cookies = self.http.cookies
        self.http = Http(port)
        self.http.cookies = cookies

    def choose(self, changes: float) -> int:
        """Choose an answer as the candidate does: the next question, or now and then change an earlier one."""
        answered = sorted(self.shown)
        fresh = [p for p in range(len(self.paper)) if p not in self.shown and p not in self.outbox]
        if not fresh or (answered and self.rng.random() < changes):
            position = self.rng.choice(answered or sorted(self.outbox))
        else:
            position = fresh[0]
        question = self.paper[position]
        current = self.outbox[position].shown if position in self.outbox else self.shown.get(position)
        shown = current
        while shown == current:
            shown = _pick(self.rng, question)
        if position in self.outbox:  # the page keeps the latest choice, over the version it was chosen on
            self.outbox[position].shown = shown
        else:
            self.outbox[position] = Pending(shown, self.versions.get(position, 0))
        return position

    def flush(self, target, ledger: Ledger, record: Record, phase, due: float) -> None:
        """Send what the outbox holds and is due; a first attempt is timed from `due` (when the phone meant to send)."""
        for position in sorted(self.outbox):
            pending = self.outbox[position]
            if pending.due <= time.monotonic():
                self._send(target, ledger, record, phase, pending.due or due, position, pending)

    def _send(self, target, ledger: Ledger, record: Record, phase, due: float, position: int, pending: Pending) -> None:
        """Post one choice and read the answer: into the ledger when saved, back into the outbox when not answered."""
        question, key, kind = self.paper[position], (self.sitting, position), "retry" if pending.attempt else "save"
        value = target.value(question, pending.shown)
        form = {"response": pending.shown, "version": str(pending.seen), "device": self.device}
        headers = {"Accept": "application/json", "X-CSRFToken": self.csrf, "X-Exam-Device": self.device}
        ledger.send(key, pending.seen, value)
        answer = self.http.request("POST", target.path(self, position), form, headers)
        seconds = time.monotonic() - due
        try:
            body = json.loads(answer.body) if 0 < answer.status < 500 else {}
        except ValueError:  # cut short (a worker killed while it wrote): the page's fetch fails the same way
            answer.status, answer.error = 0, "truncated"
        if answer.status == 0 or answer.status >= 500:
            record.add(kind, phase.now(), seconds, answer.status, error=answer.error or str(answer.status))
            pending.attempt += 1
            pending.due = time.monotonic() + min(RETRY_MAX, 2 ** (pending.attempt - 1))
            return
        state = body.get("state", "?")
        record.add(kind, phase.now(), seconds, answer.status, state=f"{kind} {state}")
        del self.outbox[position]
        if state == "saved" and answer.status == 200:
            if sorted(body.get("response", "")) != sorted(pending.shown):
                record.error(f"{self.ref}: saved {pending.shown!r} at {position}, answered {body.get('response')!r}")
            self.versions[position], self.shown[position] = int(body["version"]), pending.shown
            ledger.ack(key, int(body["version"]), value)
        elif state == "stale":  # the page shows the saved answer; the candidate may choose again later
            self.versions[position] = int(body.get("version", 0))
            if body.get("response"):
                self.shown[position] = body["response"]
        else:
            record.error(f"{self.ref}: a save at {position} answered {answer.status} {state}: {answer.body[:120]!r}")

    def forget(self) -> None:
        """Forget the answers held and the outbox (before the same phones answer another server)."""
        self.versions, self.shown, self.outbox = {}, {}, {}


def _pick(rng: random.Random, question: Question) -> str:
    """Return a shown response the question takes: a letter, some letters in order, or T/F."""
    if question.kind == "truefalse":
        return rng.choice("TF")
    letters = LETTERS[: question.options]
    if question.kind == "single":
        return rng.choice(letters)
    chosen = rng.sample(letters, rng.randint(1, len(letters)))
    return "".join(sorted(chosen))
