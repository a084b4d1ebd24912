# Unit tests of sip/ (see Makefile.am)
check_PROGRAMS += test_sip_digest test_sip_msg
TESTS += test_sip_digest test_sip_msg
test_sip_digest_SOURCES = test_sip_digest.c
test_sip_digest_LDADD = $(UNIT_LIBS)
test_sip_msg_SOURCES = test_sip_msg.c
test_sip_msg_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_sip_transport
TESTS += test_sip_transport
test_sip_transport_SOURCES = test_sip_transport.c
test_sip_transport_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_sip_reg
TESTS += test_sip_reg
test_sip_reg_SOURCES = test_sip_reg.c
test_sip_reg_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_call
TESTS += test_call
test_call_SOURCES = test_call.c
test_call_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_sip_budget
TESTS += test_sip_budget
test_sip_budget_SOURCES = test_sip_budget.c
test_sip_budget_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_sip_bounds
TESTS += test_sip_bounds
test_sip_bounds_SOURCES = test_sip_bounds.c
test_sip_bounds_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_sip_failover
TESTS += test_sip_failover
test_sip_failover_SOURCES = test_sip_failover.c dnszone.c dnszone.h
test_sip_failover_LDADD = $(UNIT_LIBS)
# RFC 4475 torture cases on the registration flow: our own messages in
# tests/data/sip-torture (DSA_RFC4475_DIR runs the RFC's own archive instead)
check_PROGRAMS += test_sip_torture
TESTS += test_sip_torture
test_sip_torture_SOURCES = test_sip_torture.c
test_sip_torture_CPPFLAGS = $(AM_CPPFLAGS) -DDSA_TORTURE_DIR='"$(abs_top_srcdir)/tests/data/sip-torture"'
test_sip_torture_LDADD = $(UNIT_LIBS)
