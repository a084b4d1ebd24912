# End-to-end tests of diag/ (see Makefile.am)
