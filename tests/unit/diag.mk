# Unit tests of diag/ (see Makefile.am)
check_PROGRAMS += test_diag_emodel test_diag_parse
TESTS += test_diag_emodel test_diag_parse
test_diag_emodel_SOURCES = test_diag_emodel.c
test_diag_emodel_LDADD = $(UNIT_LIBS)
test_diag_parse_SOURCES = test_diag_parse.c
test_diag_parse_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_diag_report
TESTS += test_diag_report
test_diag_report_SOURCES = test_diag_report.c
test_diag_report_LDADD = $(UNIT_LIBS)
check_PROGRAMS += test_diag_runner
TESTS += test_diag_runner
test_diag_runner_SOURCES = test_diag_runner.c
test_diag_runner_LDADD = $(UNIT_LIBS)
