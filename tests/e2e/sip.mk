# End-to-end tests of sip/ (see Makefile.am): sip_reg against real Kamailio and sipp peers.
check_PROGRAMS += sip-driver
sip_driver_SOURCES = sip-driver.c
sip_driver_LDADD = $(DSA_LIBS) $(DSA_SYSLIBS)
dist_check_SCRIPTS += sip-kamailio.sh sip-sipp.sh sip-lab.sh sip-hostile.sh
TESTS += sip-kamailio.sh sip-sipp.sh sip-lab.sh sip-hostile.sh
EXTRA_DIST += sip-lib.sh sip-kamailio.cfg.in hostile-registrar.py \
	sip-sipp-423.xml sip-sipp-503.xml sip-sipp-stale.xml sip-sipp-sha256.xml \
	sip-sipp-wrongpw.xml sip-sipp-malformed.xml sip-sipp-notify.xml
# RFC 3263 (NAPTR/SRV from dnsmasq, failover across the targets) against real Kamailio.
dist_check_SCRIPTS += sip-rfc3263.sh
TESTS += sip-rfc3263.sh
# RFC 3263 in the lab (the lab's dnsmasq serves NAPTR/SRV for the platform domain).
dist_check_SCRIPTS += dns-lab.sh
TESTS += dns-lab.sh
# Dual stack in the lab (lab up dual-stack): IPv6 first, IPv4 when IPv6 is blocked.
dist_check_SCRIPTS += ipv6-lab.sh
TESTS += ipv6-lab.sh
