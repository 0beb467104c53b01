using System.Text.Json.Nodes;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>The resolved facts of one external run, shared by the config, launch and README writers.</summary>
/// <param name="StageKey">The content key of the run (hex sha256; launch-only settings excluded).</param>
/// <param name="Options">The stage's training options.</param>
/// <param name="Executor">The executor block.</param>
/// <param name="Model">What model/ holds.</param>
/// <param name="Data">What data/ holds.</param>
/// <param name="MaxSteps">Optimizer steps.</param>
/// <param name="Seed">The data-order and init seed.</param>
/// <param name="BundleDirectory">Where the bundle is published (absolute).</param>
/// <param name="OutputDirectory">The output URI the trainer writes run-&lt;key12&gt;/ into (absolute).</param>
public sealed record BundleJob(string StageKey, TrainOptions Options, TrainExecutorOptions Executor, BundleModel Model, BundleData Data, int MaxSteps, long Seed,
    string BundleDirectory, string OutputDirectory)
{
    /// <summary>The first 12 hex digits of the key.</summary>
    public string Key12 => StageKey[..12];

    /// <summary>The run folder under the output URI.</summary>
    public string RunName => "run-" + Key12;

    /// <summary>Rows per GPU per forward.</summary>
    public int MicroBatch => ExecutorOptionChecks.MicroBatch(Options, Executor)
        ?? throw new LlamaMoeException(ExternalTrainingErrorCodes.GradientAccumulation, "the global batch does not split over the world size", key: "executor.gpus-per-node");

    /// <summary>Gradient accumulation steps.</summary>
    public int GradientAccumulation => ExecutorOptionChecks.GlobalBatch(Options) / (MicroBatch * Executor.WorldSize);

    /// <summary>The sharding config file under config/.</summary>
    public string ShardingConfigName => Executor.UsesDeepSpeed ? $"ds_{ExecutorOptionChecks.Name(Executor.Sharding)}.json" : "fsdp2.json";
}

/// <summary>Writes config/job.json, config/training_args.json, the FSDP2 or DeepSpeed config and constraints.txt.</summary>
public static class BundleConfigWriter
{
    /// <summary>Writes the files under <paramref name="root"/> (the bundle being built).</summary>
    public static void Write(string root, BundleJob job)
    {
        BundleFiles.WriteText(Path.Combine(root, "config", "job.json"), BundleFiles.Json(JobJson(job)));
        BundleFiles.WriteText(Path.Combine(root, "config", "training_args.json"), BundleFiles.Json(TrainingArguments(job)));
        BundleFiles.WriteText(Path.Combine(root, "config", job.ShardingConfigName), BundleFiles.Json(ShardingConfig(job)));
        BundleFiles.WriteText(Path.Combine(root, "constraints.txt"), Constraints(job.Executor.Pins));
    }

    /// <summary>constraints.txt: one <c>name specifier</c> per line, sorted.</summary>
    public static string Constraints(IReadOnlyDictionary<string, string> pins) =>
        string.Concat(pins.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}{p.Value}\n"));

    /// <summary>The job.json object (contract §config/job.json).</summary>
    public static JsonObject JobJson(BundleJob job)
    {
        var options = job.Options;
        var switchLoss = options.BalanceLoss == TrainBalanceLoss.Switch;
        return new JsonObject
        {
            ["schema"] = 1,
            ["stage_key"] = job.StageKey,
            ["out_subdir"] = job.RunName,
            ["model"] = "model",
            ["data"] = "data/manifest.json",
            ["profile"] = job.Model.Profile,
            ["training"] = new JsonObject
            {
                ["learning_rate"] = options.Lr,
                ["lr_scheduler_type"] = "cosine_with_min_lr",
                ["min_lr_rate"] = options.MinLrRatio,
                ["warmup_steps"] = WarmupSteps(job),
                ["max_steps"] = job.MaxSteps,
                ["num_train_epochs"] = 1,
                ["seed"] = job.Seed,
                ["global_batch"] = ExecutorOptionChecks.GlobalBatch(options),
                ["micro_batch"] = job.MicroBatch,
                ["weight_decay"] = options.WeightDecay,
                ["adam_beta1"] = 0.9,
                ["adam_beta2"] = 0.999,
                ["adam_epsilon"] = 1e-8,
                ["max_grad_norm"] = options.Clip,
                ["precision"] = Precision(options.Precision),
                ["gradient_checkpointing"] = false,
                ["save_steps"] = options.CheckpointEvery > 0 ? options.CheckpointEvery : job.MaxSteps,
                ["save_total_limit"] = 2,
                ["logging_steps"] = 1,
                ["eval_steps"] = null,
                ["router_aux_loss_coef"] = switchLoss ? options.BalanceCoef : 0.0,
                ["output_router_logits"] = switchLoss,
                ["trainable"] = new JsonArray(Trainable(options).Select(t => (JsonNode)t).ToArray()),
                ["freeze"] = new JsonArray(Freeze(job).Select(f => (JsonNode)f).ToArray()),
                ["lr_groups"] = new JsonArray(job.Model.Folds.Select(f => (JsonNode)new JsonObject { ["pattern"] = f.Pattern, ["scale"] = f.Scale }).ToArray()),
            },
            ["executor"] = new JsonObject
            {
                ["kind"] = Kind(job.Executor.Kind),
                ["sharding"] = ExecutorOptionChecks.Name(job.Executor.Sharding),
                ["nodes"] = job.Executor.Nodes,
                ["gpus_per_node"] = job.Executor.GpusPerNode,
            },
            ["probe"] = new JsonObject
            {
                ["inputs"] = "golden/probe-inputs.safetensors",
                ["expected"] = "golden/probe-expected.safetensors",
                ["rtol"] = 1e-5,
                ["atol"] = 1e-5,
            },
        };
    }

    /// <summary>The TrainingArguments the entry point derives from job.json, written out for people and tests.</summary>
    public static JsonObject TrainingArguments(BundleJob job)
    {
        var options = job.Options;
        var arguments = new JsonObject
        {
            ["output_dir"] = $"<output_uri>/{job.RunName}/checkpoints",
            ["per_device_train_batch_size"] = job.MicroBatch,
            ["gradient_accumulation_steps"] = job.GradientAccumulation,
            ["learning_rate"] = options.Lr,
            ["lr_scheduler_type"] = "cosine_with_min_lr",
            ["lr_scheduler_kwargs"] = new JsonObject { ["min_lr_rate"] = options.MinLrRatio },
            ["warmup_steps"] = WarmupSteps(job),
            ["max_steps"] = job.MaxSteps,
            ["num_train_epochs"] = 1,
            ["weight_decay"] = options.WeightDecay,
            ["adam_beta1"] = 0.9,
            ["adam_beta2"] = 0.999,
            ["adam_epsilon"] = 1e-8,
            ["max_grad_norm"] = options.Clip,
            ["bf16"] = options.Precision == TrainPrecision.Bfloat16,
            ["tf32"] = options.Precision == TrainPrecision.Tf32,
            ["gradient_checkpointing"] = false,
            ["gradient_checkpointing_kwargs"] = new JsonObject { ["use_reentrant"] = false },
            ["save_strategy"] = "steps",
            ["save_steps"] = options.CheckpointEvery > 0 ? options.CheckpointEvery : job.MaxSteps,
            ["save_total_limit"] = 2,
            ["save_only_model"] = false,
            ["logging_steps"] = 1,
            ["eval_strategy"] = "no",
            ["seed"] = job.Seed,
            ["data_seed"] = job.Seed,
            ["report_to"] = "none",
            ["include_num_input_tokens_seen"] = true,
            ["average_tokens_across_devices"] = true,
            ["ignore_data_skip"] = false,
            ["remove_unused_columns"] = false,
            ["dataloader_drop_last"] = true,
        };
        if (job.Executor.UsesDeepSpeed)
        {
            arguments["deepspeed"] = "config/" + job.ShardingConfigName;
        }
        else
        {
            arguments["fsdp"] = "full_shard";
            arguments["fsdp_config"] = "config/fsdp2.json";
        }

        return arguments;
    }

    /// <summary>The FSDP2 (accelerate) or DeepSpeed ZeRO config.</summary>
    public static JsonObject ShardingConfig(BundleJob job)
    {
        if (!job.Executor.UsesDeepSpeed)
        {
            return new JsonObject
            {
                ["fsdp_version"] = 2,
                ["reshard_after_forward"] = true,
                ["transformer_layer_cls_to_wrap"] = new JsonArray(job.Model.DecoderLayer),
                ["state_dict_type"] = "SHARDED_STATE_DICT",
                ["cpu_ram_efficient_loading"] = true,
                ["activation_checkpointing"] = false,
            };
        }

        var stage = (int)job.Executor.Sharding;
        var zero = new JsonObject
        {
            ["stage"] = stage,
            ["overlap_comm"] = true,
            ["contiguous_gradients"] = true,
            ["reduce_bucket_size"] = 100000000,
        };
        if (stage < 3)
        {
            zero["allgather_bucket_size"] = 100000000;
        }
        else
        {
            zero["stage3_gather_16bit_weights_on_model_save"] = true;
            zero["leaf_modules"] = new JsonArray(job.Model.DecoderLayer.Replace("DecoderLayer", "SparseMoeBlock", StringComparison.Ordinal));
        }

        return new JsonObject
        {
            ["zero_optimization"] = zero,
            ["bf16"] = new JsonObject { ["enabled"] = "auto" },
            ["train_micro_batch_size_per_gpu"] = "auto",
            ["gradient_accumulation_steps"] = "auto",
            ["train_batch_size"] = "auto",
            ["gradient_clipping"] = "auto",
        };
    }

    /// <summary>The executor kind's YAML name.</summary>
    public static string Kind(TrainExecutorKind kind) => kind == TrainExecutorKind.BundleOnly ? "bundle-only" : kind.ToString().ToLowerInvariant();

    private static int WarmupSteps(BundleJob job) => job.Options.Warmup ?? (int)Math.Ceiling(0.03 * job.MaxSteps);

    private static string Precision(TrainPrecision precision) => precision switch
    {
        TrainPrecision.Bfloat16 => "bf16",
        TrainPrecision.Tf32 => "tf32",
        _ => "float32",
    };

    private static IEnumerable<string> Trainable(TrainOptions options) => options.Trainable.Select(t => t.ToString().ToLowerInvariant());

    private static IEnumerable<string> Freeze(BundleJob job)
    {
        foreach (var pattern in job.Model.Frozen)
        {
            yield return pattern;
        }

        if (job.Options.FreezeRouters)
        {
            yield return job.Model.Profile switch
            {
                "qwen2-moe" => @"^model\.layers\.\d+\.mlp\.gate\.weight$",
                _ => @"^model\.layers\.\d+\.block_sparse_moe\.gate\.weight$",
            };
        }
    }
}
