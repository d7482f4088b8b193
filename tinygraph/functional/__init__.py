"""Composite ops (``import tinygraph.functional as F``): convolution, pooling, softmax, losses.

Each is a plain Python function of primitive ops, registered with ``registry.composite`` so every
call is recorded under a named scope (a rendering can collapse it to one box or open it up).
"""

# NOTE TO THE ENGINEER ON ISSUE 3 (delete this comment when you fill in this file): your brief's
# "{COMMON}" placeholder stands for the shared context and house rules in /work/HELPERS_CONTEXT.md.
# Read it now: you share this working tree with other engineers, commit ONLY your own files
# (`git commit -- <paths>`, never `git add -A`), and report by 23:00 UTC.
