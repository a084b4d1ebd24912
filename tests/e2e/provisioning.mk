# End-to-end tests of provisioning/ (see Makefile.am): a real nginx with
# mutual TLS on 127.0.0.1 (own CA from openssl, temp dir, random ports).
check_PROGRAMS += prov_drv
prov_drv_SOURCES = prov_drv.c
prov_drv_LDADD = $(DSA_LIBS) $(DSA_SYSLIBS)

dist_check_SCRIPTS += prov-fetch.sh prov-lib.sh
TESTS += prov-fetch.sh
