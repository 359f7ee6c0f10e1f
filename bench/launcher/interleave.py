#!/usr/bin/env python3
"""Interleaved start-to-exit timing with CPU time, for a machine shared with other work.

    interleave.py RUNS NAME=COMMAND [NAME=COMMAND ...]

Runs the commands round-robin (run i of every command before run i+1 of any), so load that
comes and goes hits all of them alike, and reports per command the wall-clock median, p10 and
min and the median user+system CPU time of the process and of every descendant it waited for
(wait4's rusage). CPU time barely moves with the machine's load, wall time does: on 2 shared
cores compare CPU first. A command that exits non-zero is reported as it happens.
"""
import os
import shlex
import statistics
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    cmds = [a.split("=", 1) for a in sys.argv[2:]]
    wall = {name: [] for name, _ in cmds}
    cpu = {name: [] for name, _ in cmds}
    for _ in range(runs):
        for name, cmd in cmds:
            argv = shlex.split(cmd)
            t0 = time.monotonic()
            pid = os.posix_spawnp(argv[0], argv, os.environ)
            _, status, ru = os.wait4(pid, 0)
            t1 = time.monotonic()
            if status != 0:
                print("%s: exit status %d" % (name, status), file=sys.stderr)
            wall[name].append((t1 - t0) * 1e3)
            cpu[name].append((ru.ru_utime + ru.ru_stime) * 1e3)
    print("| command | wall median ms | wall p10 | wall min | CPU median ms |")
    print("|---|---:|---:|---:|---:|")
    for name, _ in cmds:
        w = sorted(wall[name])
        print("| %s | %.2f | %.2f | %.2f | %.2f |" % (name, statistics.median(w), w[len(w) // 10],
                                                      w[0], statistics.median(cpu[name])))


if __name__ == "__main__":
    main()
