# End-to-end tests of provisioning/ (see Makefile.am): a real nginx with
# mutual TLS on 127.0.0.1 (own CA from openssl, temp dir, random ports),
# driven by prov_drv (fetch and the controller on the real loop).
check_PROGRAMS += prov_drv
prov_drv_SOURCES = prov_drv.c
prov_drv_LDADD = $(top_builddir)/provisioning/libprovisioning.a \
	$(top_builddir)/system/libsystem.a $(top_builddir)/common/libcommon.a $(DSA_SYSLIBS)

dist_check_SCRIPTS += prov-fetch.sh prov-controller.sh prov-udhcpc.sh prov-lab.sh prov-lib.sh
TESTS += prov-fetch.sh prov-controller.sh prov-udhcpc.sh prov-lab.sh
# check-config and a real fetch agree on BOM, CRLF and UTF-16/UTF-32 files (cfg_detect)
dist_check_SCRIPTS += prov-encoding.sh
TESTS += prov-encoding.sh
