# End-to-end tests of provisioning/ (see Makefile.am)
