# End-to-end tests of diag/ (see Makefile.am): the self-test against the lab (tests/lab).
check_PROGRAMS += diag-run
diag_run_SOURCES = diag-run.c
diag_run_LDADD = $(DSA_LIBS) $(DSA_SYSLIBS)
dist_check_SCRIPTS += diag-lab.sh diag-assert.py
TESTS += diag-lab.sh
# The test call, SRTP and audio checks (issue 7) against the lab.
dist_check_SCRIPTS += call-lab.sh
TESTS += call-lab.sh
# the test call over IPv6 on the lab's ipv6-only topology (issue 15)
dist_check_SCRIPTS += call6-lab.sh
TESTS += call6-lab.sh
