# End-to-end tests of media/ (see Makefile.am)
