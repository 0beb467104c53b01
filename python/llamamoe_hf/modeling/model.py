"""LlamaMoeForCausalLM: stock Llama attention/RMSNorm/rope/MLP composed with our MoE blocks (names as the C# model's
state dict: `block_sparse_moe.gate|experts.{j}.w1/w2/w3`, `mlp_residual.*` beside the block, `mlp.*` on dense layers,
`self_attn.gate|q_proj.{e}|...` on attention-MoE layers)."""

from __future__ import annotations

import inspect
from typing import Any, List, Optional, Tuple

import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.masking_utils import create_causal_mask
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import MoeCausalLMOutputWithPast, MoeModelOutputWithPast
from transformers.models.llama.modeling_llama import LlamaAttention, LlamaMLP, LlamaRMSNorm, LlamaRotaryEmbedding

from .configuration import LlamaMoeConfig
from .moe import AttentionMoe, Expert, SparseMoeBlock


class LlamaMoeDecoderLayer(GradientCheckpointingLayer):  # type: ignore[misc]
    """h = x + Attn(norm(x)); out = h + FFN(norm(h)), FFN = MoE (+ residual expert) or a dense SwiGLU."""

    def __init__(self, config: LlamaMoeConfig, layer_idx: int) -> None:
        super().__init__()
        attention = config.attention_moe
        self.attention_moe = attention is not None and layer_idx in attention.get("layers", [])
        self.self_attn = AttentionMoe(config, attention) if self.attention_moe else LlamaAttention(config, layer_idx)
        self.is_moe = layer_idx in config.moe_layers
        if self.is_moe:
            sizes = config.expert_sizes[config.moe_layers.index(layer_idx)]
            self.block_sparse_moe = SparseMoeBlock(config.hidden_size, sizes, config.num_experts_per_tok,
                                                   config.layer_scale(layer_idx), config.router, config.mlp_bias)
            residual = config.intermediate_size_residual
            self.mlp_residual = Expert(config.hidden_size, residual, config.mlp_bias) if residual > 0 else None
        else:
            self.mlp = LlamaMLP(config)
        self.input_layernorm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, hidden_states: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                position_ids: Optional[torch.Tensor] = None, past_key_values: Any = None,
                cache_position: Optional[torch.Tensor] = None,
                position_embeddings: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
                padding_mask: Optional[torch.Tensor] = None, **kwargs: Any) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        router_logits: List[torch.Tensor] = []
        normed = self.input_layernorm(hidden_states)  # (B, T, H)
        assert position_embeddings is not None
        if self.attention_moe:
            assert position_ids is not None
            attended, logits = self.self_attn(normed, position_embeddings[0], position_embeddings[1], position_ids,
                                              padding_mask)  # (B, T, H)
            router_logits.append(logits)
        else:
            attended, _ = self.self_attn(hidden_states=normed, attention_mask=attention_mask,
                                         position_ids=position_ids, past_key_values=past_key_values,
                                         cache_position=cache_position, position_embeddings=position_embeddings,
                                         **kwargs)  # (B, T, H)
        h = hidden_states + attended  # (B, T, H)
        normed = self.post_attention_layernorm(h)  # (B, T, H)
        if self.is_moe:
            ffn, logits = self.block_sparse_moe(normed)  # (B, T, H), (N, E)
            router_logits.append(logits)
            if self.mlp_residual is not None:
                ffn = ffn + self.mlp_residual(normed)  # (B, T, H)
        else:
            ffn = self.mlp(normed)  # (B, T, H)
        return h + ffn, router_logits


class LlamaMoePreTrainedModel(PreTrainedModel):  # type: ignore[misc]
    config_class = LlamaMoeConfig
    config: LlamaMoeConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    _no_split_modules = ["LlamaMoeDecoderLayer"]
    _skip_keys_device_placement = ["past_key_values"]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_flex_attn = True
    _supports_attention_backend = True

    def _init_weights(self, module: nn.Module) -> None:
        """Stock initialisation, plus the routers' bare `weight` (N(0, initializer_range)). Uses transformers'
        guarded init functions where they exist, so weights already loaded from the checkpoint are never redrawn."""
        super()._init_weights(module)
        weight = getattr(module, "weight", None)
        if module.__class__.__name__ != "Router" or not isinstance(weight, nn.Parameter):
            return
        if getattr(weight, "_is_hf_initialized", False):
            return
        try:
            from transformers import initialization as guarded
            guarded.normal_(weight, mean=0.0, std=self.config.initializer_range)
        except (ImportError, AttributeError):
            with torch.no_grad():
                nn.init.normal_(weight, mean=0.0, std=self.config.initializer_range)


def _causal_mask(config: LlamaMoeConfig, embeds: torch.Tensor, attention_mask: Optional[torch.Tensor],
                 cache_position: torch.Tensor, past_key_values: Any, position_ids: torch.Tensor) -> Any:
    """create_causal_mask across the 4.5x (`input_embeds`) and 5.x (`inputs_embeds`) spellings; arguments the
    installed version does not take (cache_position in later releases) are left out."""
    names = inspect.signature(create_causal_mask).parameters
    kwargs = {"config": config, "attention_mask": attention_mask, "cache_position": cache_position,
              "past_key_values": past_key_values, "position_ids": position_ids}
    kwargs["inputs_embeds" if "inputs_embeds" in names else "input_embeds"] = embeds
    return create_causal_mask(**{k: v for k, v in kwargs.items() if k in names})


class LlamaMoeModel(LlamaMoePreTrainedModel):
    def __init__(self, config: LlamaMoeConfig) -> None:
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, config.pad_token_id)
        self.layers = nn.ModuleList(LlamaMoeDecoderLayer(config, i) for i in range(config.num_hidden_layers))
        self.norm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = LlamaRotaryEmbedding(config=config)
        self.gradient_checkpointing = False
        self.post_init()

    def forward(self, input_ids: Optional[torch.Tensor] = None, attention_mask: Optional[torch.Tensor] = None,
                position_ids: Optional[torch.Tensor] = None, past_key_values: Any = None,
                inputs_embeds: Optional[torch.Tensor] = None, use_cache: Optional[bool] = None,
                cache_position: Optional[torch.Tensor] = None, **kwargs: Any) -> MoeModelOutputWithPast:
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)  # (B, T, H)
        has_attention_moe = self.config.attention_moe is not None
        if use_cache and past_key_values is None and not has_attention_moe:
            from transformers import DynamicCache
            past_key_values = DynamicCache(config=self.config)
        if has_attention_moe:
            past_key_values = None
        if cache_position is None:
            seen = past_key_values.get_seq_length() if past_key_values is not None else 0
            cache_position = torch.arange(seen, seen + inputs_embeds.shape[1], device=inputs_embeds.device)  # (T)
        if position_ids is None:
            position_ids = cache_position.unsqueeze(0).expand(inputs_embeds.shape[0], -1)  # (B, T)
        mask = _causal_mask(self.config, inputs_embeds, attention_mask, cache_position, past_key_values, position_ids)
        hidden = inputs_embeds
        position_embeddings = self.rotary_emb(hidden, position_ids)  # (B, T, hd) x 2
        all_router_logits: List[torch.Tensor] = []
        for layer in self.layers:
            hidden, logits = layer(hidden, attention_mask=mask, position_ids=position_ids,
                                   past_key_values=past_key_values, cache_position=cache_position,
                                   position_embeddings=position_embeddings, padding_mask=attention_mask, **kwargs)
            all_router_logits.extend(logits)
        return MoeModelOutputWithPast(last_hidden_state=self.norm(hidden), past_key_values=past_key_values,
                                      router_logits=tuple(all_router_logits))


class LlamaMoeForCausalLM(LlamaMoePreTrainedModel, GenerationMixin):  # type: ignore[misc]
    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}

    def __init__(self, config: LlamaMoeConfig) -> None:
        super().__init__(config)
        self.model = LlamaMoeModel(config)
        self.vocab_size = config.vocab_size
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids: Optional[torch.Tensor] = None, attention_mask: Optional[torch.Tensor] = None,
                position_ids: Optional[torch.Tensor] = None, past_key_values: Any = None,
                inputs_embeds: Optional[torch.Tensor] = None, labels: Optional[torch.Tensor] = None,
                use_cache: Optional[bool] = None, output_router_logits: Optional[bool] = None,
                cache_position: Optional[torch.Tensor] = None, logits_to_keep: int = 0,
                **kwargs: Any) -> MoeCausalLMOutputWithPast:
        outputs = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                             past_key_values=past_key_values, inputs_embeds=inputs_embeds, use_cache=use_cache,
                             cache_position=cache_position, **kwargs)
        hidden = outputs.last_hidden_state
        keep = slice(-logits_to_keep, None) if logits_to_keep else slice(None)
        logits = self.lm_head(hidden[:, keep, :])  # (B, T, V)
        loss = None
        if labels is not None:
            loss = self.loss_function(logits, labels, self.vocab_size, **kwargs)
        aux_loss = None
        wants_aux = output_router_logits if output_router_logits is not None else self.config.output_router_logits
        if wants_aux and outputs.router_logits:
            from transformers.models.mixtral.modeling_mixtral import load_balancing_loss_func
            ffn_logits = tuple(r for r in outputs.router_logits if r.shape[-1] == self.config.num_local_experts)
            aux_loss = load_balancing_loss_func(ffn_logits, self.config.num_local_experts,
                                                self.config.num_experts_per_tok, attention_mask)
            if loss is not None:
                loss = loss + self.config.router_aux_loss_coef * aux_loss.to(loss.device)
        return MoeCausalLMOutputWithPast(loss=loss, aux_loss=aux_loss, logits=logits,
                                         past_key_values=outputs.past_key_values,
                                         router_logits=outputs.router_logits if wants_aux else None)
