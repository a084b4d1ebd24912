# End-to-end tests of sip/ (see Makefile.am)
