"""``tastegraph eval``: offline evaluation of the recommendation models."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tastegraph.cli.context import err, fail
from tastegraph.recs.errors import RecsError
from tastegraph.recs.evaluation import datasets, runner
from tastegraph.recs.evaluation.splits import PROTOCOLS
from tastegraph.recs.registry import MODELS, default_model_name

COLUMNS = ("recall@10", "recall@20", "ndcg@10", "ndcg@20", "map@10", "coverage@10", "novelty@10")
BASELINES = ("popularity", "itemknn", "rp3beta", "als", "ease")


def _models(option: str | None, default: str) -> list[str]:
    if option is None:
        return [default, *[name for name in BASELINES if name != default]]
    names = [name.strip() for name in option.split(",") if name.strip()]
    if names == ["all"]:
        return list(MODELS)
    return list(dict.fromkeys(default if name == "default" else name for name in names))


def _cell(report: runner.ModelReport, metric: str, seeds: int) -> str:
    mean = report.mean(metric)
    if seeds > 1:
        return f"{mean:.4f} ± {report.std(metric):.4f}"
    return f"{mean:.4f}"


def render(report: runner.EvalReport, console: Console) -> None:
    seeds = len(report.seeds)
    title = (
        f"{report.dataset}: {report.n_users:,} users, {report.n_items:,} items, "
        f"{report.n_interactions:,} interactions; protocol {report.protocol}, "
        f"{seeds} seed{'s' if seeds > 1 else ''}"
        + (" (mean ± std)" if seeds > 1 else "")
        + (", quick grids" if report.quick else "")
    )
    table = Table(title=title, title_justify="left")
    table.add_column("model")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    table.add_column("fit s", justify="right")
    table.add_column("configs", justify="right")
    ordered = sorted(report.models.values(), key=lambda m: -m.mean("recall@10"))
    for model in ordered:
        label = model.name + (" (default)" if model.name == report.default_model else "")
        fit = sum(run.fit_seconds for run in model.runs) / max(len(model.runs), 1)
        table.add_row(
            label,
            *[_cell(model, column, seeds) for column in COLUMNS],
            f"{fit:.1f}",
            str(model.runs[0].configurations if model.runs else 0),
        )
    console.print(table)
    console.print(
        f"Tuned on validation {report.select}; test scores come from the train-only model with "
        "training and validation items excluded (RecBole's protocol). Recall@K = hits / "
        "|test items|; full-catalogue ranking.",
        markup=False,
    )


def evaluate(
    path: Annotated[
        Path,
        typer.Argument(
            help="An interactions CSV (header user,item[,weight][,timestamp]) or the HetRec "
            "Last.fm 2K folder (user_artists.dat, user_friends.dat, user_taggedartists.dat)."
        ),
    ],
    *,
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help=f"Comma-separated: {', '.join(MODELS)}, 'default' or 'all' "
            "(default: the default model and the baselines).",
        ),
    ] = None,
    protocol: Annotated[
        str,
        typer.Option(
            "--protocol",
            help="random: per-user 8:1:1 (RecBole); temporal: a global time cut-off "
            "(needs timestamps).",
        ),
    ] = "random",
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Splits and model seeds.")] = 3,
    json_path: Annotated[
        Path | None, typer.Option("--json", dir_okay=False, help="Also write the report here.")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="One configuration per model instead of a grid.")
    ] = False,
    select: Annotated[
        str, typer.Option("--select", help="The validation metric that picks configurations.")
    ] = "recall@10",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every configuration tried.")
    ] = False,
) -> None:
    """Tune and compare recommendation models offline, on full-catalogue rankings.

    Each model's hyper-parameters are tuned on the validation split only (grids of similar
    size for every model), then the best configuration is scored on the test split; with
    several seeds the table shows mean ± standard deviation.
    """
    if protocol not in PROTOCOLS:
        fail(f"Unknown protocol {protocol!r}", f"use {' or '.join(PROTOCOLS)}.", code=2)
    try:
        data = datasets.load(path)
        default = default_model_name(data.n_users, data.n_items)
        chosen = _models(models, default)
        err.print(
            f"{data.name}: {data.n_users:,} users, {data.n_items:,} items, "
            f"{data.n_events:,} rows; models {', '.join(chosen)}",
            markup=False,
        )

        def log(message: str) -> None:
            if verbose or not message.startswith("  "):
                err.print(message, markup=False)

        report = runner.run(
            data, chosen, protocol=protocol, seeds=seeds, quick=quick, select=select, log=log
        )
    except RecsError as exc:
        fail(exc.title, exc.detail)
    render(report, Console(soft_wrap=True, width=200))
    if json_path is not None:
        payload = report.as_json()
        text = json.dumps(payload, indent=2, allow_nan=False, default=_finite)
        json_path.write_text(text + "\n", encoding="utf-8")
        err.print(f"wrote {json_path}", markup=False)


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
