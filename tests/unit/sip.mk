# Unit tests of sip/ (see Makefile.am)
