"""The ``slmforge`` command line: a thin layer that parses arguments, calls the library and prints.

Heavy libraries (torch, transformers, trl) are imported inside the commands that need them, so
``slmforge --help`` stays fast. A :class:`~slmforge.errors.UserError` raised anywhere becomes one
red line with the fix and exit code 2; Ctrl-C exits 130 after the stage has saved what it had.
"""

from __future__ import annotations

import logging
import os
import sys

import click
import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from slmforge.errors import BudgetExceeded, SlmforgeError, UserError

err_console = Console(stderr=True)

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}


def set_offline() -> None:
    """Switch Hugging Face libraries to offline mode and telemetry off (env vars, this process and children)."""
    os.environ.update(OFFLINE_ENV)


def print_error(label: str, err: BaseException | str, style: str = "bold red") -> None:
    """Print ``label`` (styled) and the error text on stderr as one line, the text taken literally.

    The text comes from user data (paths, ids, key paths such as ``tasks[social_media_review]``), so
    it is never read as Rich markup: ``[...]`` is printed as is and a stray ``[/`` cannot raise
    ``MarkupError``.
    """
    err_console.print(Text.assemble((label, style), " ", str(err)), highlight=False, soft_wrap=True)


class SlmforgeGroup(TyperGroup):
    """Top-level group that turns our errors into one line + exit code instead of a traceback."""

    def invoke(self, ctx: click.Context):  # noqa: D102 - click API
        try:
            return super().invoke(ctx)
        except UserError as e:
            print_error("error:", e, "bold red")
            raise typer.Exit(2) from None
        except BudgetExceeded as e:
            print_error("stopped:", e, "bold yellow")
            raise typer.Exit(3) from None
        except SlmforgeError as e:
            print_error("failed:", e, "bold red")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]: progress so far is saved; rerun the same command to resume")
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=SlmforgeGroup,
    help="Turn a brand or domain kit into a specialist small language model, and measure it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _main(
    offline: bool = typer.Option(False, "--offline", envvar="SLMFORGE_OFFLINE",
                                 help="No hub downloads, no telemetry (sets HF_HUB_OFFLINE=1 and friends)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
) -> None:
    """slmforge: kit → data → SFT/DPO/GRPO → eval report → serving."""
    if offline:
        set_offline()
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    quiet_libraries(verbose)


def quiet_libraries(verbose: bool) -> None:
    """Keep library chatter off the console unless ``-v``: per-request HTTP logs (httpx, uvicorn access),
    matplotlib's font manager, and Hugging Face progress bars, deprecation warnings and load reports.
    slmforge's own progress (one line or bar per stage) is unaffected."""
    noisy = ["httpx", "httpx2", "httpcore", "httpcore2", "openai", "matplotlib", "PIL", "urllib3", "filelock",
             "asyncio", "uvicorn.access"]
    for name in noisy:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    if verbose:
        return
    import warnings

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*")
    logging.getLogger("transformers").setLevel(logging.ERROR)


@app.command("version")
def _version() -> None:
    """Print the slmforge version."""
    from slmforge import __version__

    typer.echo(__version__)


from slmforge.cli import checks, data, evaluate, judge, kit, llm, pipeline, serve, synth, train  # noqa: E402

for _module in (kit, data, llm, checks, synth, train, evaluate, judge, serve, pipeline):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="slmforge")


if __name__ == "__main__":
    sys.exit(main())
