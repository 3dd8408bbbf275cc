#!/usr/bin/env python3
"""Prints the microseconds a new process takes to first touch one 4 KB page of shared memory.

A PostgreSQL server backend is such a process: the shared buffers were mapped by the postmaster,
and each backend pays this once for every page of them it touches (huge pages make one touch
cover 2 MB). Measured as the copy_rows benchmark's servers see it: 64 MB of shared anonymous
memory, already filled, read one byte per page by a forked child, minus a second pass.
"""
import mmap
import os
import time

SIZE = 64 << 20
PAGE = 4096

memory = mmap.mmap(-1, SIZE, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
memory.write(b"\1" * SIZE)
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    def touch():
        start = time.perf_counter()
        for offset in range(0, SIZE, PAGE):
            memory[offset]
        return time.perf_counter() - start

    first = touch()
    again = touch()  # the loop's own cost
    os.write(write_end, b"%.2f" % ((first - again) / (SIZE // PAGE) * 1e6))
    os._exit(0)
os.waitpid(pid, 0)
print(os.read(read_end, 64).decode())
