"""Resident ID-card numbers: check digits, refusals that say why, masking, and protection at rest."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from comp import idcard
from comp.extensions import db
from comp.idcard import IdNumberError, Protector, check_digit, mask, normalize
from comp.models import Worker
from comp.services import people
from tests.conftest import valid_id


def _with_check(first17: str) -> str:
    return first17 + check_digit(first17)


def _first17_with_check(wanted: str) -> str:
    """Return 17 digits (a real birth date) whose check character is `wanted`."""
    for seq in range(1000):
        first17 = f"35050219900101{seq:03d}"
        if check_digit(first17) == wanted:
            return first17
    raise AssertionError(wanted)


# The GB 11643-1999 standard's own worked example, and the examples of SPEC.md.
@pytest.mark.parametrize(
    "first17, expected",
    [
        ("11010519491231002", "X"),
        ("44052418800101001", "4"),
        ("35050219900101123", "X"),  # so SPEC.md's sample 350502199001011234 is not a valid number
        ("35050219900101011", "4"),
    ],
)
def test_check_digit_known_values(first17, expected):
    assert check_digit(first17) == expected


@pytest.mark.parametrize("wanted", list("0123456789X"))
def test_every_check_character_is_reachable_and_accepted(wanted):
    number = _first17_with_check(wanted) + wanted
    assert normalize(number) == number


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("350502199001010114", "350502199001010114"),
        ("  350502199001010114\n", "350502199001010114"),
        ("３５０５０２１９９００１０１０１１４", "350502199001010114"),  # full-width, from a Chinese IME
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("110105200002290014", None),  # 29 February of a leap year
    ],
)
def test_valid_numbers_are_normalized(raw, expected):
    if expected is None:
        expected = _with_check(raw[:17])
        raw = expected
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw, message",
    [
        ("350502199001010115", "a typo may be in any digit, check them all"),
        ("350502199001011234", "a typo may be in any digit, check them all"),
        ("11010519491231002 0".replace(" ", ""), "a typo may be in any digit, check them all"),
        ("35050219900101123", "18 characters, not 17"),
        ("3505021990010112345", "18 characters, not 19"),
        ("", "18 characters, not 0"),
        (None, "18 characters, not 0"),
        ("35050A199001011234", "17 digits followed by a digit or X"),
        ("35050219900101123Y", "17 digits followed by a digit or X"),
        ("X50502199001011234", "17 digits followed by a digit or X"),
        ("٣٥٠٥٠٢١٩٩٠٠١٠١٠١١٤", "17 digits followed by a digit or X"),  # Arabic-Indic digits
        ("३५०५०२१९९००१०१०११४", "17 digits followed by a digit or X"),  # Devanagari digits
        (_with_check("35050219900230123"), "birth date 19900230 is not a real date"),
        (_with_check("35050219901301123"), "birth date 19901301 is not a real date"),
        (_with_check("35050219000229123"), "birth date 19000229 is not a real date"),
    ],
)
def test_bad_numbers_are_refused_saying_why(raw, message):
    with force_locale("en"), pytest.raises(IdNumberError) as refused:
        normalize(raw)
    assert message in str(refused.value)


def test_the_reason_is_in_the_users_language():
    with pytest.raises(IdNumberError, match="号码校验未通过：错误可能在任何一位，请逐位核对"):
        normalize("350502199001010115")


def test_id_number_error_is_a_value_error():
    assert issubclass(IdNumberError, ValueError)


@pytest.mark.parametrize(
    "number, sex, born",
    [
        ("350502199001010114", "M", date(1990, 1, 1)),
        (_with_check("35050219851231002"), "F", date(1985, 12, 31)),
    ],
)
def test_birth_date_and_gender(number, sex, born):
    assert idcard.gender(number) == sex
    assert idcard.birth_date(number) == born


@pytest.mark.parametrize(
    "number, masked",
    [
        ("350502199001011234", "3505**********1234"),
        ("11010519491231002X", "1101**********002X"),
    ],
)
def test_mask(number, masked):
    assert mask(number) == masked
    assert len(mask(number)) == 18


# --- protection at rest ---


@pytest.fixture()
def protector():
    return Protector.from_secret("a test secret")


def test_protector_round_trips(protector):
    number = valid_id(7)
    token = protector.encrypt(number)
    assert number.encode() not in token
    assert protector.decrypt(token) == number
    assert protector.encrypt(number) != token  # Fernet is randomized: equal numbers do not show


def test_another_key_cannot_decrypt(protector):
    from cryptography.fernet import InvalidToken

    with pytest.raises(InvalidToken):
        Protector.from_secret("another secret").decrypt(protector.encrypt(valid_id(7)))


def test_lookup_hash_is_deterministic_and_keyed(protector):
    number = valid_id(7)
    digest = protector.lookup_hash(number)
    assert digest == protector.lookup_hash(number)
    assert digest == Protector.from_secret("a test secret").lookup_hash(number)
    assert len(digest) == 64 and number not in digest
    assert digest != protector.lookup_hash(valid_id(8))
    assert digest != Protector.from_secret("another secret").lookup_hash(number)
    import hashlib

    assert digest != hashlib.sha256(number.encode()).hexdigest()  # keyed, not a plain hash


def test_encryption_and_lookup_keys_are_independent(protector):
    assert protector.enc_key != protector.mac_key
    assert len(protector.mac_key) == 32


def test_app_protector_prefers_data_key(app):
    app.config["DATA_KEY"] = "a separate data key"
    try:
        assert idcard.protector().lookup_hash(valid_id(1)) == Protector.from_secret("a separate data key").lookup_hash(
            valid_id(1)
        )
    finally:
        app.config["DATA_KEY"] = ""
    assert idcard.protector().lookup_hash(valid_id(1)) == Protector.from_secret(app.config["SECRET_KEY"]).lookup_hash(
        valid_id(1)
    )


def test_stored_worker_row_never_holds_the_plain_number(make_worker):
    number = _with_check("11010519491231002")  # ends in X
    worker = make_worker("王芳", id_number=number.lower())
    rows = db.session.execute(sa.text("SELECT * FROM worker WHERE id = :id"), {"id": worker.id}).mappings().all()
    assert len(rows) == 1
    for column, value in rows[0].items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        assert number not in text.upper(), column
        assert number[:-4] not in text.upper(), column  # not even the region and birth date
    assert rows[0]["id_masked"] == "1101**********002X"
    assert people.id_number(worker) == number


def test_find_by_id_number(make_worker):
    first = make_worker("张三")
    second = make_worker("李四", id_number=valid_id(55))
    assert people.find_by_id_number(valid_id(55)) == second
    assert people.find_by_id_number(f" {valid_id(1)} ") == first
    assert people.find_by_id_number(_full_width(valid_id(55))) == second
    assert people.find_by_id_number(valid_id(99)) is None


def test_find_by_id_number_refuses_a_bad_number(make_worker):
    make_worker()
    with pytest.raises(IdNumberError):
        people.find_by_id_number("350502199001011235")


def _full_width(number: str) -> str:
    return number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})


@pytest.mark.parametrize("spelling", [str.lower, _full_width], ids=["lower", "full-width"])
def test_an_id_number_belongs_to_one_worker(make_worker, spelling):
    number = _with_check("11010519491231002")
    make_worker("张三", id_number=number)
    with pytest.raises(sa.exc.IntegrityError):
        make_worker("张三三", id_number=spelling(number))
    db.session.rollback()


def test_worker_fields_come_from_the_number(make_worker):
    worker = make_worker("陈静", id_number=_with_check("35058219920315002"))
    assert worker.birth_year == 1992
    assert people.birth_date(worker) == date(1992, 3, 15)  # read from the encrypted number
    assert worker.gender == "F"
    assert worker.id_masked == "3505**********" + _with_check("35058219920315002")[-4:]


def test_clearing_the_number(make_worker):
    worker = make_worker()
    people.set_id_number(worker, None)
    db.session.commit()
    assert (worker.id_cipher, worker.id_hash, worker.id_masked) == (None, None, None)


QUANZHOU = ("02", "03", "04", "05", "21", "24", "25", "26", "27", "81", "82", "83")


def _candidates(masked: str, birth_year: int) -> int:
    """Count the ID numbers consistent with what the database keeps in the clear about one worker."""
    from comp.idcard import CHECK_CHARS, WEIGHTS

    prefix, last4 = masked[:4], masked[-4:]
    day, count = date(birth_year, 1, 1), 0
    while day.year == birth_year:
        for region in QUANZHOU:  # the 5th and 6th digits: an attacker would try the prefecture's counties
            known = f"{prefix}{region}{day:%Y%m%d}"
            base = sum(int(d) * w for d, w in zip(known, WEIGHTS)) + int(last4[0]) * WEIGHTS[16]
            # The 15th and 16th digits are hidden; the 17th and the check character are in the last four.
            count += sum(
                CHECK_CHARS[(base + a * WEIGHTS[14] + b * WEIGHTS[15]) % 11] == last4[-1]
                for a in range(10)
                for b in range(10)
            )
        day = date.fromordinal(day.toordinal() + 1)
    return count


def test_the_clear_fields_do_not_narrow_a_number_down(make_worker):
    """The probe found the mask plus the full birth date left 9–10 candidates (unique for 46 of 74
    workers) from the database file alone; with the birth year only, thousands remain."""
    worker = make_worker("陈静", id_number=_with_check("35058219920315002"))
    stored = {c.name for c in Worker.__table__.columns}
    assert "birth_date" not in stored and worker.birth_year == 1992
    assert _candidates(worker.id_masked, worker.birth_year) > 1000


def test_a_failed_check_digit_never_names_the_digit_that_would_fit():
    """Told the digit that fits, people change the last digit; the typo is as likely anywhere else."""
    with pytest.raises(IdNumberError) as refused:
        normalize("350502199001010115")  # the check digit that fits is 4
    assert not any(character.isdigit() for character in str(refused.value))
