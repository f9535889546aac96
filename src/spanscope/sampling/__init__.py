"""Sampling: tail-sampling policies and the tail sampler the server runs on the way in.

``policies`` parses and evaluates policies over whole traces; ``tail`` holds spans until a
trace's decision is due and keeps or drops the trace as a whole; ``simulate`` runs policies over
trace files offline (``spanscope sample``), to see what a policy would keep before turning it on.
Nothing here knows about HTTP or storage.
"""

from spanscope.sampling.policies import PolicySet, parse_policy
from spanscope.sampling.tail import SamplerStats, TailSampler

__all__ = ["PolicySet", "SamplerStats", "TailSampler", "parse_policy"]
