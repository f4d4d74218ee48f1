# The fiberleak gdb extension: every fiber of a program linked with
# fiberleak, from a live process, an attached one or a core file.
#
#   gdb -batch -ex 'source /usr/share/fiberleak/gdb/fiberleak-gdb.py' -ex 'fiberleak fibers' PROGRAM CORE
#
# `help fiberleak` lists the commands; docs/postmortem.md explains them.
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

import fiberleak_gdb.commands  # noqa: E402

if not getattr(sys.modules["fiberleak_gdb.commands"], "_registered", False):
    fiberleak_gdb.commands.register()
    fiberleak_gdb.commands._registered = True
