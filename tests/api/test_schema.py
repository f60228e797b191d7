"""The committed schema (docs/openapi.yaml) is the one the code generates: CI fails on drift.
Regenerate with `make schema`."""

from pathlib import Path

from django.core.management import call_command

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def test_the_committed_schema_is_the_generated_one(tmp_path):
    # when
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    # then
    assert generated.read_text() == SCHEMA.read_text(), (
        "docs/openapi.yaml differs from the schema the code generates: run `make schema` and "
        "commit the result."
    )
