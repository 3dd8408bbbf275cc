#!/usr/bin/env python3
"""The floor of a multiplexed remote command: N sessions, one at a time, opened on a running ssh
master's control socket in OpenSSH's multiplexing protocol (as engine/ssh_mux.cc does), without
an ssh client or the engine. Prints wall and CPU (this process) ms per session.

  bench/mux_floor.py CONTROL_PATH N COMMAND [STDIN]

Used by bench/ssh_bench.sh's analysis: COMMAND `true` is what sshd and the login shell cost per
session; COMMAND the engine's remote wrapper (with STDIN its go-ahead line) adds the wrapper.
"""
import os
import resource
import select
import socket
import struct
import sys
import time

HELLO, NEW_SESSION = 0x00000001, 0x10000002
SESSION_OPENED, EXIT_MESSAGE = 0x80000006, 0x80000004


def packet(body):
    return struct.pack(">I", len(body)) + body


def string(s):
    return struct.pack(">I", len(s)) + s


def read_packet(sock, buf):
    while True:
        if len(buf) >= 4:
            (n,) = struct.unpack(">I", buf[:4])
            if len(buf) >= 4 + n:
                return buf[4:4 + n], buf[4 + n:]
        data = sock.recv(4096)
        if not data:
            return None, buf
        buf += data


def session(path, command, stdin):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    sock.sendall(packet(struct.pack(">II", HELLO, 4)))
    buf = b""
    body, buf = read_packet(sock, buf)
    assert body and struct.unpack(">I", body[:4])[0] == HELLO
    req = (struct.pack(">II", NEW_SESSION, 0) + string(b"") + struct.pack(">IIIII", 0, 0, 0, 0, 0xFFFFFFFF)
           + string(b"") + string(command.encode()))
    sock.sendall(packet(req))
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    for fd in (in_r, out_w, err_w):
        socket.send_fds(sock, [b"\0"], [fd])
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    if stdin:
        os.write(in_w, stdin.encode())
    status = None
    open_fds = {out_r, err_r, sock.fileno()}
    while open_fds - {sock.fileno()} or status is None:
        ready, _, _ = select.select(list(open_fds), [], [], 10)
        if not ready:
            raise SystemExit("session stalled")
        for fd in ready:
            if fd == sock.fileno():
                data = sock.recv(4096)
                if not data:
                    open_fds.discard(fd)
                    if status is None:
                        raise SystemExit("no exit status")
                    continue
                buf += data
                while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
                    body, buf = read_packet(sock, buf)
                    if struct.unpack(">I", body[:4])[0] == EXIT_MESSAGE:
                        status = struct.unpack(">I", body[8:12])[0]
            elif not os.read(fd, 65536):
                open_fds.discard(fd)
    os.close(in_w)
    os.close(out_r)
    os.close(err_r)
    sock.close()
    return status


def main():
    path, n, command = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    stdin = sys.argv[4] if len(sys.argv) > 4 else ""
    start = time.monotonic()
    for _ in range(n):
        status = session(path, command, stdin)
        if status != 0:
            raise SystemExit("exit status %d" % status)
    wall = (time.monotonic() - start) * 1000 / n
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print("%.1f ms/session wall, %.2f ms/session CPU (this client)" % (wall, (ru.ru_utime + ru.ru_stime) * 1000 / n))


if __name__ == "__main__":
    main()
