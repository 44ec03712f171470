"""``slmforge serve``: the OpenAI-compatible API, ``/v1/copy`` and the playground on one port.

    slmforge serve --model runs/tiny --adapter sft=runs/sft/adapter --kit examples/elemental-equation
    slmforge serve --model Qwen/Qwen2.5-0.5B-Instruct --adapter sft=runs/sft/adapter --engine vllm [--exec]
"""

from __future__ import annotations

from pathlib import Path

import typer


def serve(
    model: str = typer.Option(..., "--model", "-m", help="Base model folder or hub id."),
    adapter: list[str] = typer.Option([], "--adapter", "-a", help="LoRA adapter NAME=PATH; repeat for more. "
                                      "Each is served as model id NAME."),
    kit: Path | None = typer.Option(None, "--kit", help="Kit directory: enables /v1/copy and the playground."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (0.0.0.0 to expose; set an API key then)."),
    allowed_host: list[str] = typer.Option([], "--allowed-host", help="Also accept this name in the Host header "
                                           "(besides localhost, 127.0.0.1, [::1] and --host); repeat for more. "
                                           "Other Host headers get 421 (DNS-rebinding defence). With --api-key "
                                           "the Host header is only checked when this is given."),
    port: int = typer.Option(8000, help="TCP port."),
    api_key: str | None = typer.Option(None, "--api-key", envvar="SLMFORGE_API_KEY",
                                       help="Require 'Authorization: Bearer KEY' on every /v1 route."),
    max_concurrency: int = typer.Option(8, help="Generation requests in flight before new ones get 429."),
    max_body_bytes: int = typer.Option(1_000_000, help="Largest request body in bytes (413 above)."),
    max_tokens: int = typer.Option(256, "--max-tokens", help="Completion tokens when a request sets none."),
    served_model_name: str | None = typer.Option(None, help="Model id of the base model (default: folder name)."),
    student_system: bool = typer.Option(False, "--student-system/--no-student-system",
                                        help="/v1/copy: send the kit's system prompt first, as synth.student_system "
                                        "did in training (`slmforge run` prints it in the serve command)."),
    guard_retries: int = typer.Option(2, help="/v1/copy guard=retry: regenerations per failing draft."),
    device: str | None = typer.Option(None, help="torch device (cpu, cuda, cuda:1); default: best available."),
    dtype: str = typer.Option("auto", help="Weights dtype: auto (bf16 on CUDA, float32 on CPU), fast (bf16 also on "
                                           "a CPU with AMX / AVX512-BF16), float32 or bfloat16."),
    engine: str = typer.Option("transformers", help="transformers (serve here) or vllm (print the vllm command)."),
    exec_: bool = typer.Option(False, "--exec", help="With --engine vllm: run the command instead of printing it."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Serve a model and its LoRA adapters over the OpenAI API, with brand-checked /v1/copy and a playground at /."""
    from slmforge.config import validate
    from slmforge.errors import ConfigError
    from slmforge.serve.config import ServeConfig, parse_adapter_specs

    if engine not in ("transformers", "vllm"):
        raise ConfigError(f"unknown engine {engine!r}", field="--engine", fix="use transformers or vllm")
    # validated like a config file: a bad option value is a ConfigError naming the field (exit 2)
    cfg = validate(ServeConfig, dict(
        model=model, adapters=parse_adapter_specs(adapter), kit=str(kit) if kit else None, host=host,
        allowed_hosts=allowed_host, port=port, api_key=api_key, max_concurrency=max_concurrency,
        max_body_bytes=max_body_bytes, default_max_tokens=max_tokens, served_model_name=served_model_name,
        student_system=student_system, guard_max_retries=guard_retries, device=device, dtype=dtype, engine=engine))
    if engine == "vllm":
        from slmforge.serve.vllm import exec_vllm, format_command, vllm_command

        if exec_:
            raise typer.Exit(exec_vllm(cfg))
        typer.echo(format_command(vllm_command(cfg)))
        return
    import uvicorn

    from slmforge.serve.app import create_app

    app = create_app(cfg)
    typer.echo(f"serving {app.state.engine.model_ids} on http://{host}:{port} (playground at /, API at /v1)", err=True)
    if cfg.host_check():
        from slmforge.serve.middleware import allowed_hosts

        typer.echo(f"accepting Host: {', '.join(sorted(allowed_hosts(host, allowed_host)))} (add names with "
                   "--allowed-host)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)


def register(app: typer.Typer) -> None:
    """Attach ``slmforge serve``."""
    app.command("serve")(serve)
