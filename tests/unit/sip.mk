# Unit tests of sip/ (see Makefile.am)
check_PROGRAMS += test_sip_digest
TESTS += test_sip_digest
test_sip_digest_SOURCES = test_sip_digest.c
test_sip_digest_LDADD = $(UNIT_LIBS)
