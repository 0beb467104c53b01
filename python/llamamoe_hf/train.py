"""The entry point: `python -m llamamoe_hf.train --job <bundle>/config/job.json --out <output_uri>` under torchrun.

Steps (distributed-training.md section 3): preflight on rank 0 then all ranks agree; load the model (profile
registered first) with freezes and fold-aware param groups; train with the Hugging Face Trainer over the packed data
in the sequential order; progress/heartbeat/events, NaN guard, SIGUSR1/SIGTERM -> checkpoint + `preempted`; resume
from the newest COMPLETE checkpoint; finish with final/, probe-result.json, probe-logits.safetensors, metrics.json and
DONE.json last. Exit codes: 0 done or preempted, 2 bad job.json, 3 preflight, 4 NaN/Inf, 1 anything else.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from typing import Any, Dict, List, Optional

from . import checkpoints as ckpt
from .callbacks import RunWriter, StopFlag, Throughput, check_finite, read_jsonl
from .errors import BAD_MODEL, CUDA_OOM, EXIT_BAD_JOB, EXIT_OK, EXIT_PREFLIGHT, INTERNAL, PREFLIGHT, LlamaMoeError
from .finish import read_done, write_done, write_metrics, write_probe_result
from .flops import active_parameters, flops_per_token, peak_flops
from .folds import load_facts
from .job import Job, load_job
from .trainer_args import effective_world_size, model_config_overrides, training_arguments


def _register_profile(profile: str) -> None:
    if profile == "llamamoe":
        from .modeling import register
        register()


def _load_model(job: Job) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    _register_profile(job.profile)
    dtype = torch.bfloat16 if job.training.precision == "bf16" else torch.float32
    kwargs: Dict[str, Any] = {"dtype": dtype, "attn_implementation": os.environ.get("LLAMAMOE_ATTN", "sdpa")}
    if job.profile in ("mixtral", "qwen2-moe"):  # stock MoE classes; llama (dense) has no experts
        kwargs["experts_implementation"] = os.environ.get("LLAMAMOE_EXPERTS_IMPL", "grouped_mm")
    try:
        model = AutoModelForCausalLM.from_pretrained(job.model_dir, **kwargs)
    except (OSError, ValueError, KeyError) as error:
        raise LlamaMoeError(BAD_MODEL, f"cannot load the model: {error}", job.model_dir, None,
                            "Check that model/ loads with the pinned transformers (constraints.txt).") from error
    for key, value in model_config_overrides(job).items():
        setattr(model.config, key, value)
    model.config.use_cache = False
    return model


def _token_prefix(rows: Any, pad_id: int) -> List[int]:
    """prefix[i] = non-pad tokens in rows [0, i) (deterministic, identical on every rank and world size)."""
    import torch
    prefix = [0]
    for i in range(len(rows)):
        ids = torch.frombuffer(bytearray(rows.raw_row(i, "input_ids")), dtype=torch.int32)
        prefix.append(prefix[-1] + int((ids != pad_id).sum()))
    return prefix


def run(job: Job, output_uri: str) -> int:
    import torch
    from transformers import TrainingArguments

    from . import hf_trainer as hf
    from .data import PackedRows, load_manifest, make_torch_dataset, steps_per_epoch
    from .preflight import run_preflight

    world = effective_world_size()
    rank = int(os.environ.get("RANK", "0"))
    run_dir = job.run_dir(output_uri)
    writer = RunWriter(run_dir, is_writer=rank == 0)
    if read_done(run_dir) is not None:
        print(f"{run_dir} already has DONE.json; nothing to do", file=sys.stderr)
        return EXIT_OK
    stop = StopFlag().install()
    started = time.time()
    step = 0
    try:
        if os.environ.get("LLAMAMOE_DETERMINISTIC") == "1":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
        kwargs = training_arguments(job, run_dir, world)
        args = TrainingArguments(**kwargs)  # initialises the process group under torchrun
        writer.event("start", step=0, message=f"world size {world}, torch {torch.__version__}")
        failure: Optional[LlamaMoeError] = None
        if rank == 0:
            report = run_preflight(job.bundle_root, run_dir, need_gpu=os.environ.get("LLAMAMOE_USE_CPU") != "1",
                                   keep_checkpoints=job.training.save_total_limit or 2)
            writer_path = os.path.join(run_dir, "preflight.json")
            from .finish import write_json_atomic
            write_json_atomic(writer_path, {"checks": report.checks})
            try:
                report.raise_if_failed(os.path.join(job.bundle_root, "BUNDLE.json"))
            except LlamaMoeError as error:
                failure = error
        if hf.any_rank(failure is not None):
            raise failure or LlamaMoeError(PREFLIGHT, "preflight failed on rank 0", None, None, "See rank 0's events.")

        facts = load_facts(job.model_dir)
        device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
        register = lambda: _register_profile(job.profile)  # noqa: E731
        initial_probe: Optional[Dict[str, Any]] = None
        if rank == 0:  # the bundle's model against the golden logits, before any GPU-hour is spent
            from safetensors.torch import load_file
            expected = load_file(job.resolve(job.probe.expected))["logits"].float()
            initial = hf.probe_logits(job.model_dir, job.resolve(job.probe.inputs), device, register)
            initial_probe = hf.compare_probe(initial, expected, job.probe.rtol, job.probe.atol)
            print(f"initial probe: {initial_probe}", file=sys.stderr)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        model = _load_model(job)
        counts = hf.apply_freezes(model, job, facts)
        manifest = load_manifest(job.manifest_path)
        rows = PackedRows(manifest.shards, manifest.seq_len)
        eval_rows = PackedRows(manifest.eval_shards, manifest.seq_len) if manifest.eval_shards else None
        prefix = _token_prefix(rows, manifest.pad_id)
        per_epoch_rows = steps_per_epoch(len(rows), job.training.global_batch) * job.training.global_batch
        config = model.config
        experts = int(getattr(config, "num_local_experts", 0) or getattr(config, "num_experts", 0) or 0)
        top_k = int(getattr(config, "num_experts_per_tok", 1) or 1)
        active = active_parameters(((n, p.numel()) for n, p in model.named_parameters()), top_k, experts)
        fpt = flops_per_token(active, config.num_hidden_layers, config.hidden_size, manifest.seq_len)
        device_name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        throughput = Throughput(fpt, peak_flops(device_name), world)
        history: List[Dict[str, Any]] = []

        def tokens_at(global_step: int) -> int:
            consumed = global_step * job.training.global_batch
            epochs, rest = divmod(consumed, per_epoch_rows)
            return epochs * prefix[per_epoch_rows] + prefix[rest]

        def on_log(state: Any, logs: Dict[str, Any]) -> None:
            if "loss" not in logs:
                return
            check_finite(state.global_step, logs.get("loss"), logs.get("grad_norm"))
            tokens = tokens_at(state.global_step)
            rates = throughput.sample(tokens)
            mem = torch.cuda.max_memory_allocated() / 2 ** 30 if torch.cuda.is_available() else None
            record = writer.progress(step=state.global_step, max_steps=state.max_steps, epoch=state.epoch,
                                     loss=logs.get("loss"), lr=logs.get("learning_rate"),
                                     grad_norm=logs.get("grad_norm"), tokens_seen=tokens, mem_gb=mem, **rates)
            history.append(record)

        callback = hf.make_contract_callback(writer, stop, run_dir, job.training.save_total_limit, on_log)
        record = os.environ.get("LLAMAMOE_RECORD_ROWS")
        record_path = f"{record}.rank{rank}" if record else None
        trainer = hf.make_trainer(job, facts, model, args, make_torch_dataset(rows, record_path),
                                  make_torch_dataset(eval_rows) if eval_rows else None, [callback])
        resume = ckpt.newest_complete(os.path.join(run_dir, "checkpoints"),
                                      log=lambda m: print(m, file=sys.stderr) if rank == 0 else None)
        if resume is not None:
            writer.event("resume", from_step=resume.step)
            throughput.restart(tokens_at(resume.step))
        trainer.train(resume_from_checkpoint=resume.path if resume is not None else None)
        step = trainer.state.global_step
        if stop.requested and step < trainer.state.max_steps:
            writer.event("preempted", step=step, message=f"signal {stop.signal_number}")
            return EXIT_OK

        final_dir = os.path.join(run_dir, "final")
        plugin = getattr(trainer.accelerator.state, "fsdp_plugin", None)
        if plugin is not None:
            plugin.set_state_dict_type("FULL_STATE_DICT")
        trainer.save_model(final_dir)
        hf.barrier()
        if rank == 0:
            for name in os.listdir(job.model_dir):  # tokenizer, generation config, llamamoe.json, ...
                source = os.path.join(job.model_dir, name)
                if os.path.isfile(source) and not os.path.exists(os.path.join(final_dir, name)):
                    shutil.copy2(source, final_dir)
            from safetensors.torch import save_file
            assert initial_probe is not None
            write_probe_result(final_dir, initial_probe)
            trained = hf.probe_logits(final_dir, job.resolve(job.probe.inputs), device, register)
            save_file({"logits": trained.contiguous()}, os.path.join(final_dir, "probe-logits.safetensors"))
            elapsed = time.time() - started
            restarts = sum(1 for e in read_jsonl(writer.events_path) if e.get("event") == "resume")
            rates = [h["tok_s_gpu"] for h in history if h.get("tok_s_gpu")]
            mfus = [h["mfu"] for h in history if h.get("mfu")]
            write_metrics(final_dir, {
                "log_history": trainer.state.log_history, "progress": history, "final_step": step,
                "tokens_seen": tokens_at(step), "tok_s_gpu": sum(rates) / len(rates) if rates else None,
                "mfu": sum(mfus) / len(mfus) if mfus else None, "flops_per_token": fpt, "active_params": active,
                "gpu_hours": elapsed * world / 3600.0, "world_size": world, "restarts": restarts,
                "device": device_name, "parameters": counts, "seconds": elapsed})
            write_done(run_dir, step)
            writer.event("done", step=step)
        hf.barrier()
        return EXIT_OK
    except LlamaMoeError as error:
        writer.error(error, step=step)
        print(error.render(), file=sys.stderr)
        return error.exit_code
    except Exception as error:  # noqa: BLE001 - every failure becomes a coded event
        out_of_memory = "out of memory" in str(error).lower() or type(error).__name__ == "OutOfMemoryError"
        code = CUDA_OOM if out_of_memory else INTERNAL
        advice = (" Lower micro_batch, enable gradient_checkpointing or reshard_after_forward." if out_of_memory
                  else "")
        writer.event("error", code=code, message=f"{type(error).__name__}: {error}{advice}", step=step)
        raise
    finally:
        stop.uninstall()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llamamoe_hf.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", required=True, help="<bundle>/config/job.json")
    parser.add_argument("--out", required=True, help="output URI (a mounted folder); the run goes to run-<key12>/")
    args = parser.parse_args(argv)
    try:
        job = load_job(args.job)
    except LlamaMoeError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_BAD_JOB
    try:
        return run(job, args.out)
    except ImportError as error:
        failure = LlamaMoeError(PREFLIGHT, f"training needs torch, transformers, accelerate and safetensors: {error}",
                                os.path.join(job.bundle_root, "constraints.txt"), None,
                                "Install the versions pinned in constraints.txt.")
        if int(os.environ.get("RANK", "0")) == 0:
            RunWriter(job.run_dir(args.out)).error(failure)
        print(failure.render(), file=sys.stderr)
        return EXIT_PREFLIGHT


if __name__ == "__main__":
    sys.exit(main())
