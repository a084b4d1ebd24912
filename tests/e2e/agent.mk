# End-to-end tests of agent/ (see Makefile.am)
dist_check_SCRIPTS += test-daemon.sh ctlsend.py
TESTS += test-daemon.sh
dist_check_SCRIPTS += agent-lab.sh
TESTS += agent-lab.sh
dist_check_SCRIPTS += agent-srv-lab.sh
TESTS += agent-srv-lab.sh
