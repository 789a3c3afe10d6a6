"""Who gets what from every route: the url_map walked for each persona against one table.

One world holds everything the URLs name (a running, a published, a draft competition of the Jinjiang
county union; another county's competition; a worker's entry, certificate, honour and studio; uploads,
links, requests), built once per persona. Each persona asks every (method, rule) of ROUTES, GETs first,
POSTs with a valid CSRF token and an empty body, and every answer that differs from the table is listed
together. A rule the table lacks, or a row naming a rule that is gone, fails
`test_the_table_covers_every_route`.

To add a persona: one line in PERSONAS (it is refused everywhere), then name it in the groups below
that let it in. To add a route: one line in ROUTES, a profile or {variant: profile}; the variants are
the running competition (the default), the published one, the draft, and "crossed" (the running
competition's code with another competition's ids).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.routing import AnyConverter

from comp.extensions import db
from comp.models import (
    Achievement,
    CertificateBatch,
    Criterion,
    Entrant,
    Exam,
    ExportJob,
    Honour,
    JudgeAssignment,
    NotTaken,
    Objection,
    Question,
    QuestionBank,
    QuestionImage,
    QuestionVersion,
    Unit,
    UnitMember,
    Upload,
    User,
)
from comp.models.types import utcnow
from comp.services import accounts, exchange, exports
from comp.services import certs as certificates
from comp.services.accounts import claims, links
from comp.services.certs import batches as printing
from comp.services.chief import recheck
from comp.services.exams import sitting as sitting_service
from comp.services.exchange import judge_username
from comp.services.results import objections
from comp.services.setup import lifecycle
from tests.certs.conftest import competition_doc, seal_png
from tests.conftest import PASSWORD, csrf_token, valid_id

LOGIN = "login"  # the answer: a redirect to /login?next=…

# ---- the personas: one line each, saying how the world gives them an account ----

PERSONAS: dict[str, dict | None] = {
    "anonymous": None,
    "worker": {"role": "worker", "worker": "zhang"},  # owns E1, its certificate, an honour, a studio seat
    "other_worker": {"role": "worker", "worker": "li"},  # owns E2 of the same competitions, never in a URL
    "liaison": {"role": "liaison", "unit": "aviation"},  # zhang's enterprise, in the Jinjiang union
    "liaison_out": {"role": "liaison", "unit": "garment"},  # an enterprise of the Shishi union
    "judge": {"panel": ("running", "J2")},  # on the running competition's panel
    "chief": {"panel": ("running", "J1")},  # its chief judge (裁判长)
    "other_judge": {"panel": ("other", "J2")},  # on another county's competition only
    "county_out": {"role": "organizer", "unit": "shishi"},  # a county union beside Jinjiang: out of scope
    "county_in": {"role": "organizer", "unit": "jinjiang"},  # the organizing county union: in scope
    "city": {"role": "organizer", "unit": "city"},
    "admin": {"role": "admin"},
}


# ---- what each persona gets: a few profiles, adjusted per route ----

EVERYONE = frozenset(PERSONAS)
LOGGED = EVERYONE - {"anonymous"}
WORKERS = frozenset({"worker", "other_worker"})
LIAISONS = frozenset({"liaison", "liaison_out"})
ORGANIZERS = frozenset({"county_out", "county_in", "city", "admin"})  # admins and every union's organizers
MANAGING = frozenset({"county_in", "city", "admin"})  # the organizing union, the unions above it, admins
OUTSIDE = frozenset(ORGANIZERS - MANAGING)  # organizers of a union beside the world's


@dataclass(frozen=True)
class Expect:
    """Who is let in and what each persona gets.

    `ok` for the personas let in, `refused` for the other logged-in ones, `anonymous` for a visitor
    not let in (LOGIN: sent to the login page); `special` gives single personas their own answer.
    """

    allowed: frozenset = frozenset()
    ok: int | str = 200
    refused: int | str = 403
    anonymous: int | str = LOGIN
    special: tuple = ()

    def __call__(self, ok=None, *, refused=None, anonymous=None, **special) -> Expect:
        """Return this profile with another answer for those let in, the others, or single personas."""
        return Expect(
            self.allowed,
            self.ok if ok is None else ok,
            self.refused if refused is None else refused,
            self.anonymous if anonymous is None else anonymous,
            (*self.special, *special.items()),
        )

    def answer(self, persona: str):
        """Return what the persona gets."""
        special = dict(self.special)
        if persona in special:
            return special[persona]
        if persona in self.allowed:
            return self.ok
        return self.anonymous if persona == "anonymous" else self.refused


def hidden(profile: Expect, anonymous=404) -> Expect:
    """Return the answers for a draft: its managers' as usual, 404 for everyone else, as for an unknown code."""
    return Expect(anonymous=anonymous, refused=404, special=tuple((p, profile.answer(p)) for p in MANAGING))


def crossed(profile: Expect) -> Expect:
    """Return the answers for ids of another competition's objects: 404 for whoever gets past the code."""
    return Expect(
        refused=profile.refused,
        anonymous=profile.anonymous,
        special=(*profile.special, *((p, 404) for p in profile.allowed)),
    )


def of_own(profile: Expect, owner: str = "city") -> Expect:
    """Return the answers for a pending upload: its owner's as usual, 404 for the others let in."""
    return profile(**{p: 404 for p in profile.allowed if p != owner})


PUBLIC = Expect(EVERYONE)
LOGGED_IN = Expect(LOGGED)
GUESTS = Expect(frozenset({"anonymous"}), refused=302)  # a logged-in user is sent home
NOBODY = Expect(refused=404, anonymous=404)  # a page that does not exist in this state
WORKER_HOME = Expect(WORKERS)
OWNER = Expect(frozenset({"worker"}))  # the worker whose entry, record or certificate it is
ORGANIZER = Expect(ORGANIZERS)  # organizer.home, accounts.admin, talent.search, competition.create
IN_SCOPE = Expect(MANAGING, special=tuple((p, 404) for p in OUTSIDE))  # beyond one's unions is missing
MANAGERS = Expect(MANAGING)  # competition.manage, worker.manage
BULK = Expect(MANAGING | {"liaison"})  # competition.register_bulk
PANEL = Expect(frozenset({"judge", "chief"}))
CHIEF = Expect(frozenset({"chief"}))
CONSOLE = Expect(MANAGING | {"chief"})  # the chief acts; the organizers follow


# ---- the table: (method, rule) → a profile, or {variant: profile}; a bare profile is for "running" ----

G, P = "GET", "POST"
CODE = "/competitions/<code>"
CERTS = "/competitions/<code>/certificates"
JUDGE = "/judge/<code>/sheet/<secret>"
UPLOAD = "/competitions/<code>/registrations/upload/<token>"


def results(running: Expect, published: Expect, draft: Expect | None = None) -> dict:
    """Return the variants of a results page: as running, once published, as a draft."""
    return {"running": running, "published": published, "draft": draft or hidden(running)}


ROUTES: dict[tuple[str, str], Expect | dict[str, Expect]] = {
    # main, auth, own account
    (G, "/"): LOGGED_IN,
    (G, "/healthz"): PUBLIC,
    (G, "/favicon.ico"): PUBLIC(301),
    (G, "/static/<path:filename>"): PUBLIC,
    (G, "/login"): GUESTS,
    (P, "/login"): GUESTS(401),
    (P, "/logout"): LOGGED_IN(302),
    (P, "/lang"): PUBLIC(302),
    (G, "/signup"): GUESTS,
    (P, "/signup"): GUESTS(422),
    (G, "/activate/<token>"): PUBLIC,  # the link is the key: whoever holds it may set the password
    (P, "/activate/<token>"): PUBLIC(422),
    (G, "/account"): LOGGED_IN,
    (G, "/account/password"): LOGGED_IN,
    (P, "/account/password"): LOGGED_IN(422),
    (P, "/account/logout-all"): LOGGED_IN(302),
    (P, "/account/corrections"): Expect(WORKERS, 422, refused=404),  # only a worker record has corrections
    # account administration
    (G, "/accounts"): ORGANIZER,
    (G, "/accounts/new"): ORGANIZER,
    (P, "/accounts/new"): ORGANIZER(422),
    (G, "/accounts/sheet"): ORGANIZER,
    (G, "/accounts/<int:user_id>"): IN_SCOPE,
    (P, "/accounts/<int:user_id>/edit"): IN_SCOPE(422),
    (P, "/accounts/<int:user_id>/disable"): IN_SCOPE(302),
    (P, "/accounts/<int:user_id>/enable"): IN_SCOPE(302),
    (P, "/accounts/<int:user_id>/reset"): IN_SCOPE(302),
    (P, "/accounts/<int:user_id>/logout-all"): IN_SCOPE(302),
    (G, "/accounts/requests"): ORGANIZER,
    (P, "/accounts/requests/<int:request_id>/<any(accept, reject):verdict>"): IN_SCOPE(302),
    (G, "/accounts/import"): ORGANIZER,
    (P, "/accounts/import"): ORGANIZER(422),
    (G, "/accounts/import/template.xlsx"): ORGANIZER,
    (G, "/accounts/import/<token>"): of_own(ORGANIZER),
    (P, "/accounts/import/<token>/confirm"): of_own(ORGANIZER(400)),
    (P, "/accounts/import/<token>/discard"): of_own(ORGANIZER(302)),
    # talent pool and craftsman profiles
    (G, "/people"): ORGANIZER,
    (G, "/people/export.xlsx"): ORGANIZER,
    (P, "/people/exports"): ORGANIZER(302),  # queued (run at once in the tests), then its progress page
    (G, "/people/exports/<int:job_id>"): of_own(ORGANIZER),
    (G, "/people/exports/<int:job_id>/file"): of_own(ORGANIZER),
    (P, "/people/exports/<int:job_id>/again"): of_own(ORGANIZER(302)),
    (G, "/people/me"): Expect(WORKERS, 302, refused=404),
    # A worker is not told whether another's record exists; an organizer beyond its unions gets 403.
    (G, "/people/<int:worker_id>"): Expect(MANAGING | {"worker"})(other_worker=404),
    (P, "/people/<int:worker_id>/grade"): MANAGERS(303),
    (P, "/people/<int:worker_id>/honours"): MANAGERS(303),
    (P, "/people/<int:worker_id>/honours/<int:honour_id>/confirm"): MANAGERS(303),
    (P, "/people/<int:worker_id>/honours/<int:honour_id>/remove"): MANAGERS(303),
    (P, "/people/<int:worker_id>/mentor"): MANAGERS(303),
    (P, "/people/<int:worker_id>/mentor/clear"): MANAGERS(303),
    # units registry and enterprises: beyond the organizer's unions a unit is missing
    (G, "/units"): ORGANIZER,
    (G, "/units/new"): ORGANIZER,
    (P, "/units/new"): ORGANIZER(422),
    (G, "/units/<int:unit_id>"): IN_SCOPE,
    (G, "/units/<int:unit_id>/edit"): IN_SCOPE,
    (P, "/units/<int:unit_id>/edit"): IN_SCOPE(422),
    (P, "/units/<int:unit_id>/members"): IN_SCOPE(302),
    (P, "/units/<int:unit_id>/members/<int:member_id>/remove"): IN_SCOPE(302),
    (P, "/units/<int:unit_id>/achievements"): IN_SCOPE(302),
    (P, "/units/<int:unit_id>/achievements/<int:achievement_id>/remove"): IN_SCOPE(302),
    (G, "/units/export.xlsx"): ORGANIZER,
    (G, "/units/template.xlsx"): ORGANIZER,
    (G, "/units/import"): ORGANIZER,
    (P, "/units/import"): ORGANIZER(422),
    (G, "/units/import/<token>"): of_own(ORGANIZER),
    (P, "/units/import/<token>/confirm"): of_own(ORGANIZER(400)),
    (P, "/units/import/<token>/discard"): of_own(ORGANIZER(302)),
    (G, "/enterprises/<int:org_id>"): IN_SCOPE,
    # certificates: public verification, the worker's own, the organizer's pages (of the published competition)
    (G, "/verify/<number>"): PUBLIC,
    (G, "/api/v1/certificates/<number>"): PUBLIC,
    (G, "/certificates/lookup"): PUBLIC,
    (P, "/certificates/lookup"): PUBLIC(422),
    (G, "/my/certificates"): WORKER_HOME,
    (G, "/my/certificates/<number>.pdf"): OWNER(refused=404),
    (G, CERTS): {"published": MANAGERS},
    (G, CERTS + "/<number>.pdf"): {"published": MANAGERS, "crossed": crossed(MANAGERS)},
    (G, CERTS + "/preview.pdf"): {"published": MANAGERS},
    (G, CERTS + "/bulletin.pdf"): {"published": MANAGERS},
    (G, CERTS + "/seal.png"): {"published": MANAGERS},
    (G, CERTS + "/batches/<int:batch_id>"): {"published": MANAGERS(303), "crossed": crossed(MANAGERS)},
    (G, CERTS + "/batches/<int:batch_id>/download"): {"published": MANAGERS, "crossed": crossed(MANAGERS)},
    (P, CERTS + "/issue"): {"published": MANAGERS(303)},
    (P, CERTS + "/reissue"): {"published": MANAGERS(303)},
    (P, CERTS + "/<number>/revoke"): {"published": MANAGERS(303), "crossed": crossed(MANAGERS)},
    (P, CERTS + "/design"): {"published": MANAGERS(422)},
    (P, CERTS + "/seal"): {"published": MANAGERS(422)},
    (P, CERTS + "/seal/remove"): {"published": MANAGERS(303)},
    (P, CERTS + "/batches"): {"published": MANAGERS(400)},
    # results: the organizers' until published, everyone's after; the public pages exist only once published
    (G, "/competitions/rules"): PUBLIC,
    (G, CODE + "/results"): results(MANAGERS, PUBLIC),
    (G, CODE + "/results.xlsx"): results(MANAGERS, PUBLIC),
    (G, "/api/v1/competitions/<code>/results"): results(Expect(MANAGING, refused=404, anonymous=404), PUBLIC),
    (G, "/c/"): PUBLIC,
    (G, "/c/<code>/live"): results(PUBLIC, PUBLIC, NOBODY),
    (G, "/c/<code>/results"): results(NOBODY, PUBLIC, NOBODY),
    (P, "/c/<code>/objections"): results(NOBODY, PUBLIC(422), NOBODY),
    # the status page of an objection: whoever holds its token, under its own competition's code only
    (G, "/c/<code>/objections/<token>"): {"running": PUBLIC, "published": NOBODY, "draft": NOBODY},
    # the chief judge's console: the chief acts, the organizers follow and publish
    (G, "/chief/<code>"): {"running": CONSOLE, "draft": hidden(CONSOLE, LOGIN)},
    (P, "/chief/<code>/discrepancies"): CHIEF(302),
    (P, "/chief/<code>/reopen"): CHIEF(302),
    (P, "/chief/<code>/attempts"): CHIEF(302),
    (P, "/chief/<code>/attempts/<int:skipped_id>/undo"): CHIEF(302),
    (P, "/chief/<code>/recheck"): MANAGERS(302),  # the organizer draws the re-check sample (drawn already here)
    (P, "/chief/<code>/recheck/<int:item_id>"): CHIEF(302),
    (P, "/chief/<code>/objections/<int:objection_id>"): CHIEF(302),
    (P, "/chief/<code>/unlock"): CHIEF(302),
    (P, "/chief/<code>/lock"): CHIEF(302),
    (P, "/chief/<code>/publish"): MANAGERS(302),
    (P, "/chief/<code>/amend"): MANAGERS(302),
    # judging: the panel alone, by secret code
    (G, "/judge/<code>"): {"running": PANEL, "draft": hidden(PANEL, LOGIN)},
    (G, JUDGE): {"running": PANEL, "crossed": crossed(PANEL)},
    (G, JUDGE + "/tally"): {"running": PANEL, "crossed": crossed(PANEL)},
    (G, JUDGE + "/mark/<int:criterion_id>"): {"running": PANEL, "crossed": crossed(PANEL)},
    (P, JUDGE + "/mark/<int:criterion_id>"): {"running": PANEL(302), "crossed": crossed(PANEL)},
    (P, JUDGE + "/mark/<int:criterion_id>/keep"): {"running": PANEL(302), "crossed": crossed(PANEL)},
    (P, JUDGE + "/sign"): {"running": PANEL(302), "crossed": crossed(PANEL)},
    # the re-check's second marker (the judge persona); the rest of the panel has no such page
    (G, "/judge/<code>/recheck"): {"running": PANEL(chief=404), "draft": hidden(PANEL, LOGIN)},
    (P, "/judge/<code>/recheck/<int:item_id>"): {"running": PANEL(302, chief=403), "draft": hidden(PANEL(302), LOGIN)},
    # the hall: numbers, lots, lists, check-in, the panel
    (G, CODE + "/draw"): MANAGERS,
    (P, CODE + "/draw/close"): MANAGERS(302),
    (P, CODE + "/draw/numbers"): MANAGERS(302),
    (P, CODE + "/draw/lots"): MANAGERS,  # the page again with the form's errors
    (G, CODE + "/lists/<name>.<ext>"): MANAGERS,
    (G, CODE + "/checkin"): MANAGERS,
    (G, CODE + "/checkin/counts"): MANAGERS,
    (P, CODE + "/checkin/<int:entrant_id>"): {"running": MANAGERS(302), "crossed": crossed(MANAGERS)},
    (G, CODE + "/judges"): MANAGERS,
    (P, CODE + "/judges/new"): MANAGERS,
    (P, CODE + "/judges/existing"): MANAGERS,
    (P, CODE + "/judges/<int:assignment_id>/criteria"): {"running": MANAGERS, "crossed": crossed(MANAGERS)},
    (P, CODE + "/judges/<int:assignment_id>/chief"): {"running": MANAGERS, "crossed": crossed(MANAGERS)},
    (P, CODE + "/judges/<int:assignment_id>/conflicts"): {"running": MANAGERS, "crossed": crossed(MANAGERS)},
    (P, CODE + "/judges/<int:assignment_id>/remove"): {"running": MANAGERS, "crossed": crossed(MANAGERS)},
    # set-up: creating, the overview, details, scheme and rules, honours, ratings
    (G, "/competitions/new"): ORGANIZER,
    (P, "/competitions/new"): ORGANIZER(422),
    (G, "/competitions/ratings/new"): ORGANIZER,
    (P, "/competitions/ratings/new"): ORGANIZER(422),
    (G, CODE): {"running": MANAGERS, "draft": hidden(MANAGERS)},
    (P, CODE + "/transition"): MANAGERS(422),
    (G, CODE + "/details"): MANAGERS,
    (P, CODE + "/details"): MANAGERS(422),
    (G, CODE + "/clone"): MANAGERS,
    (P, CODE + "/clone"): MANAGERS(422),
    (G, CODE + "/edit"): MANAGERS,
    (G, CODE + "/preview"): MANAGERS,
    (P, CODE + "/rules"): MANAGERS(422),
    (P, CODE + "/stages"): MANAGERS(422),
    (P, CODE + "/stages/<int:stage_id>"): {"running": MANAGERS(422), "crossed": crossed(MANAGERS)},
    (P, CODE + "/stages/<int:stage_id>/criteria"): {"running": MANAGERS(422), "crossed": crossed(MANAGERS)},
    (P, CODE + "/stages/<int:stage_id>/move"): {"running": MANAGERS(302), "crossed": crossed(MANAGERS)},
    (P, CODE + "/stages/<int:stage_id>/remove"): {"running": MANAGERS(302), "crossed": crossed(MANAGERS)},
    (P, CODE + "/criteria/<int:criterion_id>"): {"running": MANAGERS(422), "crossed": crossed(MANAGERS)},
    (P, CODE + "/criteria/<int:criterion_id>/move"): {"running": MANAGERS(302), "crossed": crossed(MANAGERS)},
    (P, CODE + "/criteria/<int:criterion_id>/remove"): {"running": MANAGERS(302), "crossed": crossed(MANAGERS)},
    (G, CODE + "/honours"): {"published": MANAGERS},
    (G, CODE + "/honours.xlsx"): {"running": MANAGERS(302), "published": MANAGERS},  # nothing confirmed before
    (P, CODE + "/honours/rules"): {"published": MANAGERS(422)},
    (P, CODE + "/honours/rules/<int:index>/delete"): {"published": MANAGERS(302)},
    (P, CODE + "/honours/confirm"): {"published": MANAGERS(302)},
    (G, CODE + "/programme"): MANAGERS,
    (P, CODE + "/programme"): MANAGERS(302),  # an empty grid: nothing to save, back to the page
    (G, CODE + "/nominations"): MANAGERS(422),  # not a rating campaign
    (P, CODE + "/nominations"): MANAGERS(422),
    (P, CODE + "/nominations/<int:entrant_id>/remove"): MANAGERS(422),
    # registration: workers themselves, liaisons and organizers by sheet, organizers decide
    (G, CODE + "/register"): {"running": WORKER_HOME, "draft": hidden(WORKER_HOME, LOGIN)},
    (P, CODE + "/register"): {"running": WORKER_HOME(422), "draft": hidden(WORKER_HOME(422), LOGIN)},
    (P, CODE + "/register/profile"): {"running": WORKER_HOME(422), "draft": hidden(WORKER_HOME(422), LOGIN)},
    # The entrant is looked up before its owner is checked: another competition's is missing to everyone.
    (P, CODE + "/registrations/<int:entrant_id>/withdraw"): {"running": OWNER(302), "crossed": Expect(refused=404)},
    # the worker's own entry (E1 of the running and of the published competition); anyone else's is missing
    (G, "/my/entries/<int:entrant_id>"): {"running": OWNER(refused=404), "published": OWNER(refused=404)},
    (G, CODE + "/registrations"): {"running": MANAGERS, "draft": hidden(MANAGERS, LOGIN)},
    (P, CODE + "/registrations/<int:entrant_id>/<any(approve, reject):verdict>"): {
        "running": MANAGERS(302),
        "crossed": crossed(MANAGERS),
    },
    (P, CODE + "/registrations/decide"): MANAGERS(302),
    (G, CODE + "/<any(registrations, entrants):which>.xlsx"): MANAGERS,
    (G, "/registrations/bulk"): Expect(ORGANIZERS | LIAISONS),
    (G, CODE + "/registrations/template.xlsx"): {"running": BULK, "draft": hidden(BULK, LOGIN)},
    (G, CODE + "/registrations/upload"): {"running": BULK, "draft": hidden(BULK, LOGIN)},
    (P, CODE + "/registrations/upload"): {"running": BULK(422), "draft": hidden(BULK(422), LOGIN)},
    (G, UPLOAD): of_own(BULK),
    (P, UPLOAD + "/confirm"): of_own(BULK(400)),
    (P, UPLOAD + "/discard"): of_own(BULK(302)),
    # question banks: the Jinjiang union's bank is its organizers' and those above
    (G, "/banks"): ORGANIZER,
    (P, "/banks"): ORGANIZER(422),
    (G, "/banks/template.xlsx"): ORGANIZER,
    (G, "/banks/<int:bank_id>"): MANAGERS,
    (P, "/banks/<int:bank_id>"): MANAGERS(422),
    (G, "/banks/<int:bank_id>/questions/<int:question_id>"): MANAGERS,
    (P, "/banks/<int:bank_id>/questions/<int:question_id>"): MANAGERS(422),
    (P, "/banks/<int:bank_id>/questions/<int:question_id>/retire"): MANAGERS(302),
    (G, "/banks/<int:bank_id>/import"): MANAGERS,
    (P, "/banks/<int:bank_id>/import"): MANAGERS(422),
    (G, "/banks/<int:bank_id>/export.xlsx"): MANAGERS,
    (G, "/banks/<int:bank_id>/export.gift"): MANAGERS,
    # a stem's image: who manages the bank, and the candidate whose paper shows it; nobody else learns it exists
    (G, "/banks/images/<int:image_id>"): Expect(MANAGING | {"worker"}, refused=404),
    # the running competition's theory exam, set up by its organizers
    (G, CODE + "/exam"): {"running": MANAGERS, "draft": hidden(MANAGERS)},
    (P, CODE + "/exam"): {"running": MANAGERS(422), "draft": hidden(MANAGERS(422))},
    (P, CODE + "/exam/status"): MANAGERS(422),
    (G, CODE + "/exam/papers"): MANAGERS,
    (G, CODE + "/exam/proctor"): MANAGERS,
    (G, CODE + "/exam/key"): MANAGERS,
    (P, CODE + "/exam/key"): MANAGERS(422),
    (G, CODE + "/exam/analysis"): MANAGERS,
    (G, CODE + "/exam/analysis.xlsx"): MANAGERS,
    (P, CODE + "/exam/sittings/<int:sitting_id>/extend"): MANAGERS(422),
    (P, CODE + "/exam/sittings/<int:sitting_id>/end"): MANAGERS(422),
    # the candidate's side: no login needed, but only an entrant of the exam (zhang has started; li may start);
    # a post without the device's token is a bad request (400)
    (G, "/exam"): PUBLIC,
    (P, "/exam"): PUBLIC(422),
    (G, "/exam/<exam_code>"): Expect(WORKERS, refused=404, anonymous=404),
    (G, "/exam/<exam_code>/clock"): Expect(frozenset({"worker"}), refused=404, anonymous=404),
    (G, "/exam/<exam_code>/images/<int:image_id>"): Expect(frozenset({"worker"}), refused=404, anonymous=404),
    (P, "/exam/<exam_code>/answers/<int:position>"): Expect(frozenset({"worker"}), 400, refused=404, anonymous=404),
    (P, "/exam/<exam_code>/focus"): Expect(frozenset({"worker"}), 400, refused=404, anonymous=404),
    (P, "/exam/<exam_code>/device"): Expect(frozenset({"worker"}), 400, refused=404, anonymous=404),
    (P, "/exam/<exam_code>/start"): Expect(WORKERS, 400, refused=404, anonymous=404),
    (P, "/exam/<exam_code>/submit"): Expect(frozenset({"worker"}), 302, refused=404, anonymous=404),
}

# Asked after every other route, in this order: each changes what a later request would find.
FINALLY = [
    (P, CODE + "/judges/<int:assignment_id>/remove"),
    (P, "/chief/<code>/lock"),
    (P, "/people/<int:worker_id>/honours/<int:honour_id>/remove"),
    (P, UPLOAD + "/discard"),
    (P, "/units/import/<token>/discard"),
    (P, "/accounts/import/<token>/discard"),
    (P, "/logout"),
    (P, "/account/logout-all"),
]
LOGS_OUT = {(P, "/logout"), (P, "/account/logout-all")}  # the persona logs in again after these


# ---- the world: everything the URLs name ----

CODES = {"running": "RT-2026-RUN", "published": "RT-2026-PUB", "draft": "RT-2026-DRAFT", "other": "RT-2026-OTH"}
JINJIANG, SHISHI = "晋江市总工会", "石狮市总工会"


@dataclass
class World:
    """The URL values of each variant (a competition and what belongs to it) and the personas' usernames."""

    values: dict[str, dict[str, object]]
    usernames: dict[str, str]


def _competition(variant: str, organizer: str, tree, status: str | None = None):
    """Import a ten-entrant competition whose E1 and E2 are zhang (aviation) and li (garment)."""
    doc = competition_doc(CODES[variant])
    doc["competition"].update(organizer=organizer, name=f"路由测试竞赛 {variant}")
    doc["entrants"][0]["employer"] = tree.aviation.name
    doc["entrants"][1]["employer"] = tree.garment.name
    competition = exchange.import_competition(doc)  # complete, so locked
    if status:
        competition.status = status
    db.session.commit()
    return competition


def _competitions(tree) -> dict:
    """Return the world's competitions; the published one is past its notice, its certificates issued and sealed."""
    made = {
        "running": _competition("running", JINJIANG, tree, "running"),
        "other": _competition("other", SHISHI, tree, "running"),
        "draft": _competition("draft", JINJIANG, tree, "draft"),
        "published": _competition("published", JINJIANG, tree),
    }
    published = made["published"]
    lifecycle.publish(published)
    published.published_at -= timedelta(days=10)
    db.session.commit()
    certificates.issue(published)
    printing.save_seal(published, seal_png(120))
    return made


def _first(model, *where):
    return db.session.scalar(sa.select(model).where(*where).order_by(model.id).limit(1))


def _of(competition) -> dict[str, object]:
    """Return the URL values naming the competition and its parts: E1, a judge (J3), a stage and criterion."""
    e1 = _first(Entrant, Entrant.competition_id == competition.id, Entrant.ref == "E1")
    stage = competition.stages[-1]  # practical: every judge marks its route criterion
    j3 = _first(JudgeAssignment, JudgeAssignment.competition_id == competition.id, JudgeAssignment.ref == "J3")
    return {
        "code": competition.code,
        "entrant_id": e1.id,
        "secret": e1.secret_code,
        "stage_id": stage.id,
        "criterion_id": stage.criteria[0].id,
        "assignment_id": j3.id,
    }


def _account(persona: str, spec: dict, tree, workers: dict) -> User:
    """Create a persona's account from its PERSONAS line (a judge's is the imported one)."""
    if "panel" in spec:
        variant, ref = spec["panel"]
        user = _first(User, User.username == judge_username(CODES[variant], ref))
        user.set_password(PASSWORD)
        return user
    unit = getattr(tree, spec["unit"]) if "unit" in spec else None
    worker = workers[spec["worker"]] if "worker" in spec else None
    return accounts.new_user(
        f"p.{persona}",
        spec["role"],
        PASSWORD,
        org_unit_id=unit.id if unit else None,
        worker_id=worker.id if worker else None,
    )


def _belongings(tree, made: dict, users: dict, batch_folder) -> dict[str, object]:
    """Create what the other URLs name and return their values: zhang's honour, studio, request; uploads, a link."""
    city, worker = users["city"], users["worker"]
    batch = CertificateBatch(
        competition_id=made["published"].id,
        kind="pdf",
        status="done",
        total=1,
        done=1,
        filename="batch.pdf",
        finished_at=utcnow(),
    )
    (batch_folder / "batch.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    # The city organizer's finished talent-pool export: nobody else's to see or download.
    export = ExportJob(
        kind="talent_pool",
        user_id=city.id,
        params={"filters": {}},
        status="done",
        filename="talent_pool-world.xlsx",
        finished_at=utcnow(),
    )
    (exports.folder() / "talent_pool-world.xlsx").write_bytes(b"PK\x05\x06" + bytes(18))
    objection = Objection(
        competition_id=made["running"].id,
        name="异议人",
        contact="13900000000",
        text="成绩有误",
        ref=f"YY-{made['running'].code}-0001",
        token_hash=objections.token_hash("objection-token"),
    )
    honour = Honour(worker_id=worker.worker_id, title="泉州工匠", year=2025, status="recommended")
    unit = Unit(kind="studio", name="翔鹭创新工作室", enterprise_id=tree.aviation.id)
    unit.members.append(UnitMember(worker_id=worker.worker_id, role="成员"))
    unit.achievements.append(Achievement(year=2025, kind="patent", title="一种无人机支架"))
    # Pending uploads of the city organizer: nobody else's to see, admins included.
    uploads = [
        Upload(
            token=f"{kind}-token",
            kind=kind,
            user_id=city.id,
            filename=f"{kind}.xlsx",
            competition_id=made["running"].id if kind == "registration" else None,
        )
        for kind in ("registration", "units", "accounts")
    ]
    invited = accounts.new_user("invited.judge", "judge", display_name="待激活裁判")  # waits for its link
    # E2's route of the running competition recorded as not taken (the undo acts on it).
    running = _of(made["running"])
    skipped = NotTaken(
        competition_id=made["running"].id,
        entrant_id=_first(Entrant, Entrant.competition_id == made["running"].id, Entrant.ref == "E2").id,
        criterion_id=running["criterion_id"],
        reason="DNI",
    )
    db.session.add_all([batch, export, objection, honour, unit, skipped, *uploads])
    db.session.flush()
    link = links.issue(invited, "activate", city)
    db.session.commit()
    # The running competition's re-check sample, marked by the judge persona (J2): the chief rules on its items.
    sample = recheck.draw(made["running"], city, users["judge"].id, Decimal("0.15"), Decimal("0.10"), "route-access")
    change = claims.request_change(worker, {"phone": "13911112222"}, "换了手机号")
    exam = _exam(tree, made["running"])
    return {
        "worker_id": worker.worker_id,
        "honour_id": honour.id,
        "unit_id": unit.id,
        "org_id": tree.aviation.id,
        "member_id": unit.members[0].id,
        "achievement_id": unit.achievements[0].id,
        "user_id": worker.id,
        "request_id": change.id,
        "objection_id": objection.id,
        "skipped_id": skipped.id,
        "item_id": sample.items[0].id,
        **exam,
        "batch_id": batch.id,
        "job_id": export.id,
        "number": certificates.of_worker(worker)[0].number,
        "token:activate": links.token(link),
        "token:objection": "objection-token",
        **{f"token:{upload.kind}": upload.token for upload in uploads},
    }


def _exam(tree, running) -> dict[str, object]:
    """Give the running competition an exam from a Jinjiang bank (a question with an image); zhang has started."""
    question = Question(code="Q1")
    question.versions.append(
        QuestionVersion(
            kind="single",
            stem="无人机起飞前应检查什么？",
            options=["电池", "云台"],
            answer="A",
            image=QuestionImage(sha256="0" * 64, mime="image/png", data=seal_png(40)),
        )
    )
    bank = QuestionBank(name="无人机理论题库", trade="无人机驾驶员", owner_unit_id=tree.jinjiang.id)
    bank.questions.append(question)
    theory = _first(Criterion, Criterion.stage_id == running.stages[0].id, Criterion.key == "exam")
    marker = _first(JudgeAssignment, JudgeAssignment.competition_id == running.id, JudgeAssignment.ref == "J1")
    db.session.add(bank)
    db.session.flush()
    exam = Exam(
        competition_id=running.id,
        criterion_id=theory.id,
        marker_id=marker.user_id,
        bank_id=bank.id,
        code="RTEXAM01",
        title="理论机考",
        status="ready",
        blueprint={"sections": [{"kind": "single", "count": 1, "points": "100"}]},
        seed="route-access",
        opens_at=utcnow() - timedelta(hours=1),
        closes_at=utcnow() + timedelta(days=1),
        duration_minutes=60,
        corrections={},
    )
    db.session.add(exam)
    db.session.commit()
    e1 = _first(Entrant, Entrant.competition_id == running.id, Entrant.ref == "E1")
    sitting = sitting_service.start(exam, e1, "zhang-phone")
    e3 = _first(Entrant, Entrant.competition_id == running.id, Entrant.ref == "E3")
    sitting_service.submit(sitting_service.start(exam, e3, "e3-phone"))  # a finished sitting for the analysis
    return {
        "bank_id": bank.id,
        "question_id": question.id,
        "image_id": question.versions[0].image_id,
        "exam_code": exam.code,
        "sitting_id": sitting.id,
        "position": 0,
    }


def build_world(tree, make_worker, batch_folder) -> World:
    """Build the world every persona walks the routes in."""
    workers = {
        "zhang": make_worker("张三", id_number=valid_id(101), employer_id=tree.aviation.id),
        "li": make_worker("李四", id_number=valid_id(102), employer_id=tree.garment.id),
    }
    made = _competitions(tree)
    users = {name: _account(name, spec, tree, workers) for name, spec in PERSONAS.items() if spec}
    db.session.commit()
    shared = {
        **_belongings(tree, made, users, batch_folder),
        "index": 0,
        "verdict": "reject",
        "which": "registrations",
        "name": "signin",
        "ext": "xlsx",
        "filename": "css/app.css",
    }
    values = {variant: {**shared, **_of(made[variant])} for variant in ("running", "published", "draft")}
    # The running competition's code with another competition's entrant, judge, stage; the published one's
    # certificate and batch.
    values["crossed"] = {**values["running"], **_of(made["other"]), "code": made["running"].code}
    return World(values, {name: user.username for name, user in users.items()})


# ---- the walk ----

TOKENS = {
    "/activate/": "token:activate",
    "/accounts/import/": "token:accounts",
    "/units/import/": "token:units",
    "/competitions/<code>/registrations/upload/": "token:registration",
    "/c/<code>/objections/": "token:objection",
}


def path_of(rule, values: dict) -> str:
    """Return the rule's path with the world's value for each of its arguments."""
    filled = {}
    for name, converter in rule._converters.items():
        if name == "token":
            filled[name] = values[next(key for prefix, key in TOKENS.items() if rule.rule.startswith(prefix))]
        else:
            filled[name] = values[name]
            if isinstance(converter, AnyConverter):
                assert filled[name] in converter.items, f"{rule.rule}: {name}={filled[name]} is not offered"
    return re.sub(r"<(?:[^<>:]*:)?([a-z_]+)>", lambda m: str(filled[m[1]]), rule.rule)


def answer_of(response) -> int | str:
    """Return the answer as the table writes it: the status, or LOGIN for a redirect to the login page."""
    if response.status_code in (302, 303) and response.headers.get("Location", "").startswith("/login?next="):
        return LOGIN
    return response.status_code


def ask(client, method: str, path: str, token: str) -> int | str:
    """Send the request (a POST with the session's CSRF token and nothing else); a crash is the 500 it would be."""
    try:
        response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
        response.close()  # a file sent or a stream is left open otherwise
        return answer_of(response)
    except Exception as error:  # noqa: BLE001 - every route's failure is collected, not the first alone
        return f"500 {error!r}"[:160]


def log_in(client, auth, world: World, persona: str) -> str:
    """Log the persona in and return the CSRF token of its session."""
    if PERSONAS[persona] is not None:
        assert auth.login(world.usernames[persona]).status_code == 302, persona
    return csrf_token(client, "/")


def rules_by_key(app) -> dict[tuple[str, str], object]:
    """Return every (method, rule) the app answers, HEAD and OPTIONS aside, with its rule."""
    return {
        (method, rule.rule): rule
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    }


def variants(key) -> dict[str, Expect]:
    """Return the table row as {variant: profile}."""
    row = ROUTES[key]
    return row if isinstance(row, dict) else {"running": row}


def walk_order() -> list[tuple[str, str]]:
    """Return the table's rows in the order asked: GETs, then POSTs, then FINALLY's in its order."""
    later = {key: i for i, key in enumerate(FINALLY)}
    return sorted(ROUTES, key=lambda key: (key in later, key[0] != G, later.get(key, 0)))


# ---- the tests ----

REFUSALS = {403, 404, LOGIN}


def test_the_table_lets_in_whom_it_says():
    """A profile's own answer is never a refusal or a crash: a hole cannot be written in as "allowed"."""
    for key in ROUTES:
        for variant, profile in variants(key).items():
            assert not (profile.allowed and profile.ok in REFUSALS), (key, variant)
            answers = [profile.answer(p) for p in PERSONAS]
            assert all(a == LOGIN or a < 500 for a in answers), (key, variant)


def test_the_table_covers_every_route(app):
    answered = set(rules_by_key(app))
    missing = sorted(answered - set(ROUTES))
    gone = sorted(set(ROUTES) - answered)
    assert not missing and not gone, "\n".join(
        [f"route missing from ROUTES: {m} {r}" for m, r in missing]
        + [f"ROUTES row for a route that is gone: {m} {r}" for m, r in gone]
    )
    assert set(FINALLY) <= set(ROUTES) and LOGS_OUT <= set(FINALLY)
    for key in ROUTES:
        assert set(variants(key)) <= {"running", "published", "draft", "crossed"}, key


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_route_answers_each_persona_as_the_table_says(
    app, client, auth, tree, make_worker, tmp_path, monkeypatch, persona
):
    monkeypatch.setitem(app.config, "CERTIFICATE_BATCH_FOLDER", str(tmp_path))
    world = build_world(tree, make_worker, tmp_path)
    token = log_in(client, auth, world, persona)
    rules = rules_by_key(app)
    wrong, asked = [], 0
    for key in walk_order():
        method, _rule = key
        for variant, profile in variants(key).items():
            path = path_of(rules[key], world.values[variant])
            got, expected = ask(client, method, path, token), profile.answer(persona)
            asked += 1
            if got != expected:
                wrong.append(f"{method} {path}  ({key[1]} [{variant}]): expected {expected}, got {got}")
        if key in LOGS_OUT:
            token = log_in(client, auth, world, persona)
    assert asked > len(ROUTES)  # every row asked, some in several variants
    assert not wrong, f"{len(wrong)} answers differ from the table for {persona}:\n" + "\n".join(wrong)
