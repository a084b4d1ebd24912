# Unit tests of common/ and agent/ (see Makefile.am)
check_PROGRAMS += test_ev test_backoff test_util test_proto test_state test_aeabi_div
TESTS += test_ev test_backoff test_util test_proto test_state test_aeabi_div
test_aeabi_div_SOURCES = test_aeabi_div.c
test_aeabi_div_LDADD = $(UNIT_LIBS)
test_ev_SOURCES = test_ev.c
test_ev_LDADD = $(UNIT_LIBS)
test_backoff_SOURCES = test_backoff.c
test_backoff_LDADD = $(UNIT_LIBS)
test_backoff_LDFLAGS = -Wl,--wrap=utl_random_range
test_util_SOURCES = test_util.c
test_util_LDADD = $(UNIT_LIBS)
test_proto_SOURCES = test_proto.c
test_proto_LDADD = $(UNIT_LIBS)
test_state_SOURCES = test_state.c
test_state_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_bootstrap
TESTS += test_bootstrap
test_bootstrap_SOURCES = test_bootstrap.c
test_bootstrap_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_resolv test_stun
TESTS += test_resolv test_stun
test_resolv_SOURCES = test_resolv.c dnszone.c dnszone.h
test_resolv_LDADD = $(UNIT_LIBS)
test_stun_SOURCES = test_stun.c
test_stun_LDADD = $(UNIT_LIBS)
# job processes: the message codec and children that crash, hang or send garbage (this binary with --job)
check_PROGRAMS += test_job
TESTS += test_job
test_job_SOURCES = test_job.c jobexe.h
test_job_LDADD = $(UNIT_LIBS)
# job processes started by root run as the job user (DSA_JOB_USER=nobody here): the kernel's uids, gids, groups
check_PROGRAMS += test_job_user
TESTS += test_job_user
test_job_user_SOURCES = test_job_user.c jobexe.h
test_job_user_LDADD = $(UNIT_LIBS)
