"""config/job.json: parsing, validation and the derived quantities (gradient accumulation, paths)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from .errors import BAD_JOB, GRADIENT_ACCUMULATION, LlamaMoeError

SCHEMA = 1
PRECISIONS = ("float32", "bf16", "tf32")
SHARDINGS = ("fsdp2", "zero1", "zero2", "zero3")
PROFILES = ("mixtral", "qwen2-moe", "llamamoe", "llama")  # llama: a dense stock LlamaForCausalLM (train-dense)
TRAINABLE = ("all", "router", "experts", "attention", "residual", "non-experts", "embeddings", "norms", "other")


@dataclass(frozen=True)
class LrGroup:
    """Parameters whose name matches `pattern` train at `scale` x the base learning rate."""

    pattern: str
    scale: float


@dataclass(frozen=True)
class Training:
    """The `training` block: hyper-parameters, identical in meaning for every executor."""

    learning_rate: float
    lr_scheduler_type: str
    warmup_steps: float
    max_steps: int
    num_train_epochs: float
    seed: int
    global_batch: int
    micro_batch: int
    weight_decay: float
    adam_beta1: float
    adam_beta2: float
    adam_epsilon: float
    max_grad_norm: float
    precision: str
    gradient_checkpointing: bool
    save_steps: int
    save_total_limit: Optional[int]
    logging_steps: int
    eval_steps: Optional[int]
    router_aux_loss_coef: float
    output_router_logits: bool
    trainable: Union[str, Tuple[str, ...]]
    freeze: Tuple[str, ...] = ()
    lr_groups: Tuple[LrGroup, ...] = ()


@dataclass(frozen=True)
class Executor:
    """Where the job runs: sharding and the planned topology."""

    kind: str
    sharding: str
    nodes: int
    gpus_per_node: int

    @property
    def planned_world_size(self) -> int:
        """nodes x gpus_per_node, the world size .NET validated the batch arithmetic for."""
        return self.nodes * self.gpus_per_node


@dataclass(frozen=True)
class Probe:
    """The golden logit probe and its tolerance."""

    inputs: str
    expected: str
    rtol: float
    atol: float


@dataclass(frozen=True)
class Job:
    """A validated job.json. Relative paths are resolved against the bundle root (the folder above config/)."""

    path: str
    bundle_root: str
    stage_key: str
    out_subdir: str
    model: str
    data: str
    profile: str
    training: Training
    executor: Executor
    probe: Probe
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def resolve(self, relative: str) -> str:
        """A bundle-relative path as an absolute one."""
        return os.path.normpath(os.path.join(self.bundle_root, relative))

    @property
    def model_dir(self) -> str:
        return self.resolve(self.model)

    @property
    def manifest_path(self) -> str:
        return self.resolve(self.data)

    def run_dir(self, output_uri: str) -> str:
        """<output_uri>/run-<key12>/, where every output of the contract goes."""
        return os.path.join(output_uri, self.out_subdir)


def gradient_accumulation(global_batch: int, micro_batch: int, world_size: int, path: Optional[str] = None) -> int:
    """global_batch / (micro_batch x world_size); refuses (LMOE3412) when that is not a positive integer."""
    if micro_batch < 1 or world_size < 1 or global_batch < 1:
        raise LlamaMoeError(GRADIENT_ACCUMULATION,
                            f"global_batch {global_batch}, micro_batch {micro_batch} and world size {world_size} must all be at least 1",
                            path, "training.global_batch", "Fix the batch sizes in the recipe and regenerate the bundle.")
    per_step = micro_batch * world_size
    if global_batch % per_step != 0:
        divisors = [w for w in range(1, global_batch + 1) if global_batch % (micro_batch * w) == 0]
        raise LlamaMoeError(GRADIENT_ACCUMULATION,
                            f"global_batch {global_batch} is not a multiple of micro_batch {micro_batch} x world size {world_size} = {per_step}",
                            path, "training.global_batch",
                            f"Run on a world size in {divisors[:12]} or change global_batch/micro_batch in the recipe.")
    return global_batch // per_step


class _Reader:
    """Typed access to one JSON object, raising LMOE3411 with the dotted key on any mismatch."""

    def __init__(self, obj: Any, path: str, prefix: str) -> None:
        if not isinstance(obj, dict):
            raise LlamaMoeError(BAD_JOB, "must be a JSON object", path, prefix.rstrip(".") or "(root)",
                                "Regenerate the bundle with llama-moe.")
        self.obj: Dict[str, Any] = obj
        self.path = path
        self.prefix = prefix

    def _fail(self, key: str, expected: str) -> LlamaMoeError:
        return LlamaMoeError(BAD_JOB, f"expected {expected}, got {json.dumps(self.obj.get(key))}", self.path,
                             self.prefix + key, "Regenerate the bundle with llama-moe, or fix the value by hand.")

    def has(self, key: str) -> bool:
        return key in self.obj and self.obj[key] is not None

    def string(self, key: str, choices: Optional[Tuple[str, ...]] = None) -> str:
        value = self.obj.get(key)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "a non-empty string")
        if choices is not None and value not in choices:
            raise self._fail(key, "one of " + ", ".join(choices))
        return value

    def integer(self, key: str, minimum: int = 0, default: Optional[int] = None) -> int:
        value = self.obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"an integer >= {minimum}")
        return value

    def optional_integer(self, key: str, minimum: int = 0) -> Optional[int]:
        return self.integer(key, minimum) if self.has(key) else None

    def number(self, key: str, minimum: float = 0.0, default: Optional[float] = None) -> float:
        value = self.obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < minimum:
            raise self._fail(key, f"a number >= {minimum}")
        return float(value)

    def boolean(self, key: str, default: Optional[bool] = None) -> bool:
        value = self.obj.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def child(self, key: str) -> "_Reader":
        if key not in self.obj:
            raise self._fail(key, "an object")
        return _Reader(self.obj[key], self.path, self.prefix + key + ".")

    def list_of(self, key: str) -> List[Any]:
        value = self.obj.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value


def _trainable(r: "_Reader") -> Union[str, Tuple[str, ...]]:
    """`trainable`: one group name, or the list of groups llama-moe writes (the union trains); absent: "all"."""
    if not r.has("trainable"):
        return "all"
    value = r.obj.get("trainable")
    if isinstance(value, list):
        if not value or any(not isinstance(v, str) or v not in TRAINABLE for v in value):
            raise r._fail("trainable", "a non-empty list of " + ", ".join(TRAINABLE))  # noqa: SLF001 - same module
        return "all" if "all" in value else tuple(value)
    return r.string("trainable", TRAINABLE)


def _regex(pattern: Any, path: str, key: str) -> str:
    if not isinstance(pattern, str):
        raise LlamaMoeError(BAD_JOB, "expected a regular expression string", path, key, "Fix the pattern.")
    try:
        re.compile(pattern)
    except re.error as error:
        raise LlamaMoeError(BAD_JOB, f"invalid regular expression '{pattern}': {error}", path, key,
                            "Fix the pattern (Python `re` syntax).") from error
    return pattern


def _training(r: _Reader) -> Training:
    freeze = tuple(_regex(p, r.path, f"{r.prefix}freeze[{i}]") for i, p in enumerate(r.list_of("freeze")))
    groups: List[LrGroup] = []
    for i, item in enumerate(r.list_of("lr_groups")):
        g = _Reader(item, r.path, f"{r.prefix}lr_groups[{i}].")
        groups.append(LrGroup(_regex(g.obj.get("pattern"), r.path, g.prefix + "pattern"), g.number("scale")))
    max_steps = r.integer("max_steps", minimum=-1, default=-1)
    epochs = r.number("num_train_epochs", default=1.0)
    if max_steps == 0 or (max_steps < 0 and epochs <= 0):
        raise LlamaMoeError(BAD_JOB, "neither max_steps nor num_train_epochs asks for any training", r.path,
                            r.prefix + "max_steps", "Set max_steps > 0 or num_train_epochs > 0.")
    return Training(
        learning_rate=r.number("learning_rate"), lr_scheduler_type=r.string("lr_scheduler_type"),
        warmup_steps=r.number("warmup_steps", default=0.0), max_steps=max_steps, num_train_epochs=epochs,
        seed=r.integer("seed", default=42), global_batch=r.integer("global_batch", 1),
        micro_batch=r.integer("micro_batch", 1), weight_decay=r.number("weight_decay", default=0.0),
        adam_beta1=r.number("adam_beta1", default=0.9), adam_beta2=r.number("adam_beta2", default=0.999),
        adam_epsilon=r.number("adam_epsilon", default=1e-8), max_grad_norm=r.number("max_grad_norm", default=1.0),
        precision=r.string("precision", PRECISIONS), gradient_checkpointing=r.boolean("gradient_checkpointing", False),
        save_steps=r.integer("save_steps", 1), save_total_limit=r.optional_integer("save_total_limit", 1),
        logging_steps=r.integer("logging_steps", 1, default=1), eval_steps=r.optional_integer("eval_steps", 1),
        router_aux_loss_coef=r.number("router_aux_loss_coef", default=0.0),
        output_router_logits=r.boolean("output_router_logits", False),
        trainable=_trainable(r),
        freeze=freeze, lr_groups=tuple(groups))


def parse_job(obj: Any, path: str) -> Job:
    """Validates a decoded job.json (LMOE3411 on the first problem, located by dotted key)."""
    r = _Reader(obj, path, "")
    schema = r.integer("schema", 1)
    if schema != SCHEMA:
        raise LlamaMoeError(BAD_JOB, f"schema {schema} is not supported (this package reads {SCHEMA})", path,
                            "schema", "Regenerate the bundle with the llama-moe version that ships this package.")
    stage_key = r.string("stage_key")
    out_subdir = r.string("out_subdir")
    if os.path.isabs(out_subdir) or ".." in out_subdir.replace("\\", "/").split("/"):
        raise LlamaMoeError(BAD_JOB, f"out_subdir '{out_subdir}' must be a plain relative folder name", path,
                            "out_subdir", "Use run-<key12>.")
    e = r.child("executor")
    executor = Executor(kind=e.string("kind"), sharding=e.string("sharding", SHARDINGS),
                        nodes=e.integer("nodes", 1, default=1), gpus_per_node=e.integer("gpus_per_node", 1, default=1))
    p = r.child("probe")
    probe = Probe(inputs=p.string("inputs"), expected=p.string("expected"), rtol=p.number("rtol"), atol=p.number("atol"))
    training = _training(r.child("training"))
    gradient_accumulation(training.global_batch, training.micro_batch, executor.planned_world_size, path)
    bundle_root = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    return Job(path=path, bundle_root=bundle_root, stage_key=stage_key, out_subdir=out_subdir, model=r.string("model"),
               data=r.string("data"), profile=r.string("profile", PROFILES), training=training, executor=executor,
               probe=probe, raw=obj)


def load_job(path: str) -> Job:
    """Reads and validates job.json (LMOE3411 when missing or not JSON)."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            obj = json.load(handle)
    except FileNotFoundError as error:
        raise LlamaMoeError(BAD_JOB, "file not found", path, None, "Pass --job <bundle>/config/job.json.") from error
    except (OSError, ValueError) as error:
        raise LlamaMoeError(BAD_JOB, f"cannot read JSON: {error}", path, None, "Regenerate the bundle.") from error
    return parse_job(obj, path)
