"""Sampling: tail-sampling policies and the tail sampler the server runs on the way in.

``policies`` evaluates policies over whole traces and ``spelling`` reads them as people type
them (``PolicySet``: keep and drop policies); ``tail`` holds spans until a
trace's decision is due and keeps or drops the trace as a whole; ``simulate`` runs policies over
trace files offline (``spanscope sample``), to see what a policy would keep before turning it on.
Nothing here knows about HTTP or storage.
"""

from spanscope.sampling.spelling import PolicySet, parse_policy
from spanscope.sampling.tail import SamplerStats, TailSampler

__all__ = ["PolicySet", "SamplerStats", "TailSampler", "parse_policy"]
