# Unit tests of sip/ (see Makefile.am)
check_PROGRAMS += test_sip_digest test_sip_msg
TESTS += test_sip_digest test_sip_msg
test_sip_digest_SOURCES = test_sip_digest.c
test_sip_digest_LDADD = $(UNIT_LIBS)
test_sip_msg_SOURCES = test_sip_msg.c
test_sip_msg_LDADD = $(UNIT_LIBS)
