# Unit tests of provisioning/ and system/ (see Makefile.am)
check_PROGRAMS += test_prov_config
TESTS += test_prov_config
test_prov_config_SOURCES = test_prov_config.c
test_prov_config_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_prov_store
TESTS += test_prov_store
test_prov_store_SOURCES = test_prov_store.c
test_prov_store_LDADD = $(UNIT_LIBS)
# planned crash points: the store's write/fsync/rename go through the test's wrappers
test_prov_store_LDFLAGS = -Wl,--wrap=write -Wl,--wrap=fsync -Wl,--wrap=rename
check_PROGRAMS += test_system_vlan
TESTS += test_system_vlan
test_system_vlan_SOURCES = test_system_vlan.c
test_system_vlan_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_prov_misc
TESTS += test_prov_misc
test_prov_misc_SOURCES = test_prov_misc.c
test_prov_misc_LDADD = $(UNIT_LIBS)
# the controller's timers on virtual time; HTTP and the random source replaced at link time
check_PROGRAMS += test_prov_timers
TESTS += test_prov_timers
test_prov_timers_SOURCES = test_prov_timers.c jobexe.h
test_prov_timers_LDADD = $(UNIT_LIBS)
test_prov_timers_LDFLAGS = -Wl,--wrap=pf_new -Wl,--wrap=pf_free -Wl,--wrap=pf_get -Wl,--wrap=pf_put \
	-Wl,--wrap=pf_cancel -Wl,--wrap=utl_random_range
check_PROGRAMS += test_prov_backoff
TESTS += test_prov_backoff
test_prov_backoff_SOURCES = test_prov_backoff.c jobexe.h
test_prov_backoff_LDADD = $(UNIT_LIBS)
# One way to read a file's format: cfg_detect, the daemon's parser and check-config agree
check_PROGRAMS += test_cfg_format
TESTS += test_cfg_format
test_cfg_format_SOURCES = test_cfg_format.c
test_cfg_format_LDADD = $(UNIT_LIBS)
