"""Torch modules swapped for equivalents onnxruntime runs faster, before the engine's export.

Profiled on the default 1/4 codec (onnxruntime 1.x on the CPU, one thread, a 5 s window):
``Elu`` took 38 % of the time at about 2 ns an element (a scalar ``exp`` per element), where
``Exp``, ``Min`` and ``Max`` take 0.3-0.4 ns each; and the strided ``ConvTranspose`` layers 15 %
(the full-rate one alone 3.5 ms of 49). So the graph the engine runs computes

- ELU as ``max(x, exp(min(x, 0)) - 1)``: for ``x > 0`` the second term is 0, below it, since
  ``exp(x) >= 1 + x``, it is the larger one; equal to ``nn.ELU`` to float rounding (3e-7);
- a transposed convolution of stride ``s`` and kernel ``m s`` as its polyphase form: one
  ordinary convolution of kernel ``m`` giving ``s`` output phases per channel, interleaved by a
  reshape, then cut by the padding: the same sums in another order.

Only the graph is changed: the weights are copied, the model folder is never touched, and the
engine checks nothing else (``celae export`` writes the plain graph, whose parity it checks
against torch). :func:`swapped` returns a deep copy, so the caller's model stays as it was.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class FastELU(nn.Module):
    """``nn.ELU(alpha=1)`` as three element-wise passes onnxruntime vectorises."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.maximum(x, torch.exp(torch.clamp(x, max=0.0)) - 1.0)


class PolyphaseConvTranspose1d(nn.Module):
    """``nn.ConvTranspose1d`` with ``kernel = m * stride`` as a convolution and a reshape.

    Output sample ``t s + r`` of the uncut transposed convolution is
    ``sum_j x[t - j] . W[:, :, r + j s]`` for ``j < m``: a convolution of kernel ``m`` over
    ``x`` padded by ``m - 1`` on both sides, with ``s`` output channels per channel (one per
    phase ``r``), interleaved, then cut by ``padding`` at both ends.
    """

    def __init__(self, conv: nn.ConvTranspose1d):
        super().__init__()
        if not supports(conv):
            raise ValueError("not a plain strided ConvTranspose1d with kernel = m * stride")
        s, k = conv.stride[0], conv.kernel_size[0]
        m = k // s
        w = conv.weight.detach()  # [C_in, C_out, k]
        c_in, c_out = w.shape[0], w.shape[1]
        # poly[co * s + r, ci, u] = w[ci, co, r + (m - 1 - u) s]
        taps = w.reshape(c_in, c_out, m, s).flip(2)  # [ci, co, u, r]
        self.register_buffer("weight", taps.permute(1, 3, 0, 2).reshape(c_out * s, c_in, m)
                             .contiguous())
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros(c_out)
        self.register_buffer("bias", bias.repeat_interleave(s).contiguous())
        self.stride, self.taps, self.cut, self.c_out = s, m, conv.padding[0], c_out

    def forward(self, x: Tensor) -> Tensor:
        s, m = self.stride, self.taps
        y = F.conv1d(x, self.weight, self.bias, padding=m - 1)   # [B, C_out * s, L + m - 1]
        b, _, n = y.shape
        y = y.reshape(b, self.c_out, s, n).transpose(2, 3).reshape(b, self.c_out, n * s)
        return y[..., self.cut:n * s - self.cut]


def supports(conv: nn.Module) -> bool:
    """Whether :class:`PolyphaseConvTranspose1d` reproduces this transposed convolution."""
    return (isinstance(conv, nn.ConvTranspose1d) and conv.groups == 1
            and conv.dilation == (1,) and conv.output_padding == (0,)
            and conv.padding_mode == "zeros" and isinstance(conv.padding, tuple)
            and conv.kernel_size[0] % conv.stride[0] == 0
            and 2 * conv.padding[0] < conv.kernel_size[0])


def swapped(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` in eval mode with every default ``nn.ELU`` and every supported
    ``nn.ConvTranspose1d`` replaced (see the module docstring). A weight-normalised layer's
    weight is computed once, as it is in eval mode."""
    fast = copy.deepcopy(model).eval()
    for parent in list(fast.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.ELU) and child.alpha == 1.0:
                setattr(parent, name, FastELU())
            elif supports(child):
                setattr(parent, name, PolyphaseConvTranspose1d(child))
    return fast

