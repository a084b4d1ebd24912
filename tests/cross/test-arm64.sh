#!/bin/bash
# TAP: the arm64 cross build and its unit tests under qemu-aarch64-static (see cross.sh).
exec bash "$top_srcdir/tests/cross/cross.sh" arm64
