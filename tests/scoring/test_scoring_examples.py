"""The SPEC's worked examples give exactly their expected results documents."""

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from comp.scoring import (
    Criterion,
    Entrant,
    MarkSummary,
    Scheme,
    Stage,
    bias_parts,
    check_mark,
    check_scheme,
    compute,
    parse_rules,
    results_document,
)

HERE = Path(__file__).parent
DATA = HERE / "data"  # copies, so CI does not depend on the shared folder
SHARED = HERE.parents[1].parent / "shared" / "examples"
EXAMPLES = ["competition", "rating"]


def scheme_of(data: dict) -> Scheme:
    """Build the scoring scheme of an exchange-format document."""
    return Scheme(
        tuple(
            Stage(
                stage["key"],
                stage["name"],
                Decimal(stage["weight"]),
                tuple(
                    Criterion(
                        f"{stage['key']}.{c['key']}",
                        c["name"],
                        Decimal(c["max"]),
                        c.get("kind", "score"),
                        c.get("aggregation", "mean"),
                        Decimal(c["step"]) if "step" in c else None,
                    )
                    for c in stage["criteria"]
                ),
            )
            for stage in data["stages"]
        )
    )


def entrants_of(data: dict) -> list[Entrant]:
    """Build the entrants; the team key falls back to the employer as the app does."""
    return [
        Entrant(e["ref"], e["status"], e.get("time_seconds"), e.get("team") or e.get("employer", ""))
        for e in data["entrants"]
    ]


def summaries_of(data: dict, scheme: Scheme) -> dict:
    """Summarise the raw marks per (entrant, criterion), checking each one."""
    values = defaultdict(list)
    for mark in data["marks"]:
        value = Decimal(mark["value"])
        check_mark(scheme.criterion(mark["criterion"]), value)
        values[(mark["entrant"], mark["criterion"])].append(value)
    return {key: MarkSummary.of(marks) for key, marks in values.items()}


def document_of(data: dict) -> dict:
    """Compute the results document of an exchange-format competition."""
    competition = data["competition"]
    scheme = scheme_of(data)
    assert check_scheme(scheme) == []
    rules = parse_rules(competition.get("rules", {}), scheme, competition["kind"])
    marks = [(m["judge"], m["entrant"], m["criterion"], Decimal(m["value"])) for m in data["marks"]]
    results = compute(scheme, rules, entrants_of(data), summaries_of(data, scheme), bias_parts(marks, scheme))
    names = {e["ref"]: e["name"] for e in data["entrants"]}
    return results_document(competition["code"], competition["name"], results, names)


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def load(folder: Path, name: str) -> tuple[dict, dict]:
    """Read an example and its expected results, skipping if the folder is not there."""
    if not (folder / f"{name}.json").exists():
        pytest.skip(f"{folder} is not beside the repository (examples live in shared/)")
    return _read(folder / f"{name}.json"), _read(folder / f"{name}.results.json")


@pytest.mark.parametrize("folder", [DATA, SHARED], ids=["data", "shared"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_gives_its_expected_results(folder, name):
    data, expected = load(folder, name)
    document = document_of(data)
    # The SPEC's document carries a top-level "complete"; the example files leave it out.
    assert document.pop("complete") is True
    assert document == expected
    assert json.dumps(document, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_copies_match_the_shared_examples(name):
    for suffix in (".json", ".results.json"):
        if not (SHARED / f"{name}{suffix}").exists():
            pytest.skip(f"{SHARED} is not beside the repository")
        shared = (SHARED / f"{name}{suffix}").read_text(encoding="utf-8")
        assert (DATA / f"{name}{suffix}").read_text(encoding="utf-8") == shared
