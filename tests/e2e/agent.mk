# End-to-end tests of agent/ (see Makefile.am)
