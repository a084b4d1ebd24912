# End-to-end tests of media/ (see Makefile.am): RTP and SRTP tone streams to a
# real sipp RTP echo on 127.0.0.1.
check_PROGRAMS += media-echo
media_echo_SOURCES = media-echo.c
media_echo_LDADD = $(DSA_LIBS) $(DSA_SYSLIBS)
dist_check_SCRIPTS += media-echo.sh media-lab.sh
TESTS += media-echo.sh media-lab.sh
