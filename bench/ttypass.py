#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# ttypass.py -- run a command on a pseudo-terminal and type a password at
# its first "Password:" prompt, as an operator does for parallel-ssh -A.
#
# usage: ttypass.py PASSWORD-FILE COMMAND [ARG...]
#
# The password is read from the first line of PASSWORD-FILE (never argv).
# Everything the command prints goes to stdout; the exit status is the
# command's.  The command's stdin is the terminal: redirect it inside the
# command (sh -c '... < file') when it needs other input.
import os
import pty
import sys

if len(sys.argv) < 3:
    sys.stderr.write("usage: ttypass.py PASSWORD-FILE COMMAND [ARG...]\n")
    sys.exit(2)
with open(sys.argv[1]) as f:
    pw = f.readline().rstrip("\n")
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
seen = b""
sent = False
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    if not sent:
        seen += d
        if b"Password:" in seen:
            os.write(fd, (pw + "\n").encode())
            sent = True
            seen = b""
    sys.stdout.buffer.write(d)
    sys.stdout.buffer.flush()
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
