"""The peak memory a child interpreter reports of itself, for the suite's memory bounds.

:data:`PEAK_KIB` is a Python expression for the child's code: its own peak resident set in KiB,
read from ``VmHWM`` in ``/proc/self/status``. Not ``ru_maxrss``: a child started by vfork (as
``subprocess`` starts it) carries its parent's high-water mark through exec, so late in the suite
it reported pytest's own peak.
"""

PEAK_KIB = "[int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0]"
