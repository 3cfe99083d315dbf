"""Conditioners: networks that compute an autoregressive layer's shift and log-scale from the previous variables.

Both kinds map x of shape (batch, D) to parameters of shape (batch, outputs, D) such that the parameters
of coordinate i depend only on the coordinates that come before i in the chosen order.

    NaiveConditioner   D separate networks, network i reads the i-1 earlier coordinates (lesson 01)
    MADE               one masked network for all D coordinates (lesson 02)

`mlp` is the plain network inside both the naive conditioner and the coupling layers (lesson 04).
"""

from nfcourse.conditioners.made import MADE, MaskedLinear, hidden_degrees, input_order, made_masks
from nfcourse.conditioners.mlp import mlp
from nfcourse.conditioners.naive import NaiveConditioner

__all__ = ["MADE", "MaskedLinear", "NaiveConditioner", "hidden_degrees", "input_order", "made_masks", "mlp"]
