"""The comparison lab of lesson 08: every flow of the course under one name, measured the same way.

flow = build_flow("Real-NVP", dim=2, depth=5)            # an untrained Flow
row = measure_flow("MAF", data, depth=5, steps=1000)      # train it, then time and score it
passes = network_passes(flow, lambda: flow.sample(10))    # network passes per layer, counted
TrainingLab(steps=600).view                               # widgets: pick a flow, watch it train
"""

from nfcourse.lab.flows import FLOW_NAMES, build_flow
from nfcourse.lab.measure import Measurement, measure_flow
from nfcourse.lab.passes import network_passes
from nfcourse.lab.watch import TrainingLab, watch_training

__all__ = [
    "FLOW_NAMES",
    "Measurement",
    "TrainingLab",
    "build_flow",
    "measure_flow",
    "network_passes",
    "watch_training",
]
