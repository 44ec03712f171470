"""Hosted fine-tuning through any provider that speaks OpenAI's files + fine_tuning.jobs API.

Run it::

    slmforge train hosted --provider together --model meta-llama/Llama-3.2-1B-Instruct \
        --train data/sft.jsonl --epochs 3 --suffix brand
    slmforge train hosted --provider openai --follow ftjob-abc123 --output runs/hosted

Steps: convert the data to the provider's JSONL (``slmforge.data.convert``: ``openai-chat`` for SFT,
``openai-dpo`` for DPO), estimate the cost (``slmforge.data.estimate``; no API key needed, ``--dry-run``
stops there), upload, create the job, follow its events until it ends, and write ``manifest.json`` with
the fine-tuned model id. An endpoint that cannot be reached, or that refuses the key or the request, is
one :class:`~slmforge.errors.ConfigError` line naming the URL (:func:`api_errors`), never a traceback.
The backend is the ``openai`` SDK with a per-provider base URL, so one code path serves every provider
(OpenAI is winding down self-serve fine-tuning: no new jobs for organisations without prior use since 2026-05).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from slmforge.errors import ConfigError, SlmforgeError
from slmforge.runs import Manifest, file_hash, write_stage

log = logging.getLogger(__name__)

BASE_URLS = {"openai": "https://api.openai.com/v1", "together": "https://api.together.xyz/v1",
             "fireworks": "https://api.fireworks.ai/inference/v1"}
KEY_ENVS = {"openai": "OPENAI_API_KEY", "together": "TOGETHER_API_KEY", "fireworks": "FIREWORKS_API_KEY"}
TERMINAL = {"succeeded", "failed", "cancelled"}


class HostedJobFailed(SlmforgeError):
    """The provider reported the job as failed; the message is the provider's error."""


class HostedConfig(BaseModel):
    """A hosted fine-tuning job.

    Attributes:
        provider: ``openai`` / ``together`` / ``fireworks``; picks the base URL and API-key variable.
        model: the provider's base model id.
        train / validation: JSONL in any format ``slmforge data convert`` reads.
        method: ``sft`` or ``dpo``.
        epochs / batch_size / lr_multiplier / beta: hyperparameters (None = the provider's default).
        suffix: added to the fine-tuned model's name; seed: the job's seed.
        base_url / api_key_env: override the provider's defaults (e.g. the loopback test server).
        output_dir: run dir (converted files, manifest).
        poll_s: seconds between status polls.
    """

    model_config = ConfigDict(extra="forbid")
    provider: Literal["openai", "together", "fireworks"] = "openai"
    model: str
    train: str
    validation: str | None = None
    method: Literal["sft", "dpo"] = "sft"
    epochs: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=1)
    lr_multiplier: float | None = Field(None, gt=0)
    beta: float | None = Field(None, gt=0)
    suffix: str | None = None
    seed: int | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    output_dir: str = "runs/hosted"
    poll_s: float = Field(10.0, ge=0)


def base_url(cfg: HostedConfig) -> str:
    """The API base URL of the job: ``cfg.base_url``, else the provider's."""
    return cfg.base_url or BASE_URLS[cfg.provider]


def make_client(cfg: HostedConfig):
    """An ``openai.OpenAI`` client for the provider.

    Raises:
        ConfigError: the API key variable is not set (names it).
    """
    from openai import OpenAI

    env = cfg.api_key_env or KEY_ENVS[cfg.provider]
    key = os.environ.get(env)
    if not key:
        raise ConfigError(f"{env} is not set", field="api_key_env", fix=f"export {env}=... (your {cfg.provider} key)")
    return OpenAI(base_url=base_url(cfg), api_key=key)


@contextmanager
def api_errors(cfg: HostedConfig) -> Iterator[None]:
    """Turn the ``openai`` SDK's connection and HTTP errors into one-line :class:`ConfigError` s.

    Raises:
        ConfigError: the endpoint cannot be reached (after the SDK's retries), refuses the key (401/403),
            or rejects the request (any other 4xx: status and the provider's message).
        SlmforgeError: the provider answered 5xx after the SDK's retries (exit 1: not the user's to fix).
    """
    import openai

    url = base_url(cfg)
    env = cfg.api_key_env or KEY_ENVS[cfg.provider]
    try:
        yield
    except openai.APIConnectionError as e:
        raise ConfigError(f"cannot reach {url} ({type(e).__name__}: {e})", field="--base-url",
                          fix=f"check the URL and the network, or drop --base-url for {cfg.provider}'s own") from None
    except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
        raise ConfigError(f"{url} refused the key ({e.status_code}: {_api_message(e)})", field="api_key_env",
                          fix=f"check ${env} (your {cfg.provider} key) and that it may fine-tune") from None
    except openai.APIStatusError as e:
        if e.status_code >= 500:
            raise SlmforgeError(f"{url} answered {e.status_code}: {_api_message(e)}; the provider is failing, retry "
                                "later (a job already created keeps running: --follow JOB)") from None
        raise ConfigError(f"{url} answered {e.status_code}: {_api_message(e)}", field="--model/--train",
                          fix="correct the request the provider names, e.g. a model it can fine-tune") from None


def _api_message(e) -> str:
    """The provider's error message of an SDK ``APIStatusError`` on one line."""
    body = e.body if isinstance(e.body, dict) else {}
    err = body.get("error", body)
    msg = err.get("message") if isinstance(err, dict) else None
    return " ".join(str(msg or e.message).split())


def prepare(cfg: HostedConfig) -> tuple[dict[str, Path], object]:
    """Convert the data to the provider's JSONL and estimate the cost.

    Returns:
        ``({"train": path, "validation": path?}, Estimate)`` (``slmforge.data.estimate.Estimate``; its
        ``cost_usd`` is 0 when the price table has no entry for the model).

    Raises:
        DataError: a row that cannot be converted (file:line).
    """
    from slmforge.data.convert import convert_file
    from slmforge.data.estimate import estimate_file
    from slmforge.errors import DataError

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = "openai-chat" if cfg.method == "sft" else "openai-dpo"
    files = {"train": out / "train.jsonl"}
    convert_file(cfg.train, files["train"], to=target)
    if cfg.validation:
        files["validation"] = out / "validation.jsonl"
        convert_file(cfg.validation, files["validation"], to=target)
    try:
        est = estimate_file(files["train"], provider=cfg.provider, model=cfg.model, epochs=cfg.epochs)
    except DataError:  # no price for this provider/model: count tokens, price unknown
        est = estimate_file(files["train"], provider=cfg.provider, model=cfg.model, epochs=cfg.epochs, price_per_1m=0.0)
    return files, est


def submit(cfg: HostedConfig, client, files: dict[str, Path]) -> str:
    """Upload the files and create the job; returns its id (also written to ``OUT/job_id``).

    Raises:
        ConfigError: the endpoint cannot be reached or rejects the upload or the job (:func:`api_errors`).
    """
    with api_errors(cfg):
        return _submit(cfg, client, files)


def _submit(cfg: HostedConfig, client, files: dict[str, Path]) -> str:
    ids = {k: client.files.create(file=p.open("rb"), purpose="fine-tune").id for k, p in files.items()}
    hyper = {k: v for k, v in {"n_epochs": cfg.epochs, "batch_size": cfg.batch_size,
                               "learning_rate_multiplier": cfg.lr_multiplier}.items() if v is not None}
    if cfg.method == "dpo" and cfg.beta is not None:
        hyper["beta"] = cfg.beta
    method = {"type": "supervised" if cfg.method == "sft" else "dpo",
              ("supervised" if cfg.method == "sft" else "dpo"): {"hyperparameters": hyper}}
    extra = {k: v for k, v in {"validation_file": ids.get("validation"), "suffix": cfg.suffix,
                               "seed": cfg.seed}.items() if v is not None}
    job = client.fine_tuning.jobs.create(model=cfg.model, training_file=ids["train"], method=method, **extra)
    (Path(cfg.output_dir) / "job_id").write_text(job.id, encoding="utf-8")
    log.info("created fine-tuning job %s", job.id)
    return job.id


def follow(cfg: HostedConfig, client, job_id: str, *, on_event: Callable[[object], None] | None = None):
    """Poll the job and its events until it ends; write ``OUT/manifest.json`` with the fine-tuned model id.

    The manifest's ``status`` is ``done`` for a succeeded job and ``failed`` / ``cancelled`` otherwise;
    ``config.json`` keeps the provider's ``status`` and ``error`` (``message (code)``), the manifest's notes too.

    Args:
        on_event: called with each new event (oldest first), e.g. to print it.

    Returns:
        the final ``FineTuningJob``.

    Raises:
        HostedJobFailed: the job failed (message = the provider's error) — the manifest is written first.
        ConfigError: the endpoint cannot be reached or does not know the job (:func:`api_errors`).
        KeyboardInterrupt: Ctrl-C; the job keeps running; resume with ``--follow JOB``.
    """
    seen: set[str] = set()
    manifest = Manifest(stage="train_hosted")
    while True:
        with api_errors(cfg):
            job = client.fine_tuning.jobs.retrieve(job_id)
            new = [e for e in client.fine_tuning.jobs.list_events(job_id, limit=100).data if e.id not in seen]
        for event in reversed(new):
            seen.add(event.id)
            if on_event:
                on_event(event)
        if job.status in TERMINAL:
            break
        time.sleep(cfg.poll_s)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    error = _error_text(job)
    manifest.notes.append(f"job {job.id}: {job.status}; fine-tuned model: {job.fine_tuned_model}"
                          + (f"; error: {error}" if error else ""))
    manifest.counts.update(trained_tokens=job.trained_tokens or 0, events=len(seen))
    if Path(cfg.train).is_file():
        manifest.inputs["train"] = file_hash(cfg.train)
    settings = cfg.model_dump() | {"job_id": job.id, "fine_tuned_model": job.fine_tuned_model, "status": job.status,
                                   "error": error}
    write_stage(out, manifest, settings, status="done" if job.status == "succeeded" else job.status)
    if job.status == "failed":
        raise HostedJobFailed(f"fine-tuning job {job.id} failed: {error or 'no error message'}")
    return job


def _error_text(job) -> str | None:
    """The provider's error of a job as ``message (code)``, or None when it reports none."""
    err = job.error
    if not err or not (err.message or err.code):
        return None
    return (err.message or "no error message") + (f" ({err.code})" if err.code else "")


def cancel(cfg: HostedConfig, client, job_id: str):
    """Cancel a running job; returns the job as the provider reports it.

    Raises:
        ConfigError: the endpoint cannot be reached or does not know the job (:func:`api_errors`).
    """
    with api_errors(cfg):
        return client.fine_tuning.jobs.cancel(job_id)
