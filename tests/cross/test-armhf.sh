#!/bin/bash
# TAP: the armhf cross build and its unit tests under qemu-arm-static (see cross.sh).
exec bash "$top_srcdir/tests/cross/cross.sh" armhf
