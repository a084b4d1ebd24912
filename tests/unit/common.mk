# Unit tests of core/ (see Makefile.am)
