/* dummy.h - what the dummy backend was last asked to do (for tests). */
#ifndef DSA_SYSTEM_DUMMY_H
#define DSA_SYSTEM_DUMMY_H

struct sys_dummy_record {
	int fd;
	int dscp;
	unsigned calls;
};

extern struct sys_dummy_record sys_dummy_last;

#endif
