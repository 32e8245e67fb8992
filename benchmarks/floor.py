"""The floor of advisor's stack: a minimal typer + pydantic command line that reads a JSON profile, validates a few
of its fields and prints JSON. `benchmarks/run.py` times advisor's commands as ratios against it, run in turn on the
same machine, so the figures hold while the machine's own speed drifts."""

import json
import sys
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, Field


class Usage(BaseModel):
    model_config = ConfigDict(strict=True)
    requests_per_day: float = Field(ge=0)
    input_tokens: int = Field(ge=1)
    output_tokens: int = Field(ge=1)


class Profile(BaseModel):
    schema_version: int
    usage: Usage


app = typer.Typer(add_completion=False)


@app.command()
def decide(path: Annotated[str, typer.Argument()], format: str = "json") -> None:
    with open(path, encoding="utf-8") as fh:
        p = Profile.model_validate_json(fh.read())
    sys.stdout.write(json.dumps({"requests_per_day": p.usage.requests_per_day}) + "\n")


@app.command()
def version() -> None:
    sys.stdout.write("floor\n")


if __name__ == "__main__":
    app()
