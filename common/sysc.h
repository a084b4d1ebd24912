/* sysc.h - a few system calls made directly, without their glibc wrappers.
 * Each libc function the agent imports costs ~40 bytes of dynamic-linking
 * tables on armhf (docs/cross-build.md); syscall is imported once for all
 * of them (the privilege drop of the job processes among them). Only for
 * calls whose wrapper adds nothing here: no
 * cancellation, no set*id broadcast (the agent is single-threaded), the
 * same arguments, result and errno. */
#ifndef DSA_CORE_SYSC_H
#define DSA_CORE_SYSC_H

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* 32-bit ARM EABI (and i386) have 16-bit ids under the plain names: the full
 * 32-bit-id calls carry the suffix 32 there; 64-bit targets have only those. */
#ifdef SYS_getegid32
#define SYSC_GETEGID SYS_getegid32
#define SYSC_SETGROUPS SYS_setgroups32
#define SYSC_SETRESGID SYS_setresgid32
#define SYSC_SETRESUID SYS_setresuid32
#else
#define SYSC_GETEGID SYS_getegid
#define SYSC_SETGROUPS SYS_setgroups
#define SYSC_SETRESGID SYS_setresgid
#define SYSC_SETRESUID SYS_setresuid
#endif

/* setsid(2). */
static inline pid_t sysc_setsid(void)
{
	return (pid_t)syscall(SYS_setsid);
}

/* chdir(2). */
static inline int sysc_chdir(const char *path)
{
	return (int)syscall(SYS_chdir, path);
}

/* flock(2). */
static inline int sysc_flock(int fd, int op)
{
	return (int)syscall(SYS_flock, fd, op);
}

/* umask(2): the old mask. */
static inline mode_t sysc_umask(mode_t mask)
{
	return (mode_t)syscall(SYS_umask, mask);
}

/* getegid(2). */
static inline gid_t sysc_getegid(void)
{
	return (gid_t)syscall(SYSC_GETEGID);
}

/* setgroups(2) with one group; glibc's wrapper would broadcast to threads (there are none). */
static inline int sysc_setgroup1(gid_t g)
{
	return (int)syscall(SYSC_SETGROUPS, 1, &g);
}

/* setresgid(2). */
static inline int sysc_setresgid(gid_t r, gid_t e, gid_t s)
{
	return (int)syscall(SYSC_SETRESGID, r, e, s);
}

/* setresuid(2). */
static inline int sysc_setresuid(uid_t r, uid_t e, uid_t s)
{
	return (int)syscall(SYSC_SETRESUID, r, e, s);
}

/* prctl(PR_SET_NO_NEW_PRIVS, 1). */
static inline int sysc_no_new_privs(void)
{
	return (int)syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* chown(path, -1, g) as fchownat from the working directory. */
static inline int sysc_chgrp(const char *path, gid_t g)
{
	return (int)syscall(SYS_fchownat, AT_FDCWD, path, (uid_t)-1, g, 0);
}

/* kill(2). */
static inline int sysc_kill(pid_t pid, int sig)
{
	return (int)syscall(SYS_kill, pid, sig);
}

/* getpid(2) (glibc keeps no cached pid since 2.25). */
static inline pid_t sysc_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}

/* access(2), as glibc makes it on 64-bit ARM: faccessat from the working directory. */
static inline int sysc_access(const char *path, int mode)
{
	return (int)syscall(SYS_faccessat, AT_FDCWD, path, mode);
}

/* mkdir(2), as mkdirat from the working directory. */
static inline int sysc_mkdir(const char *path, mode_t mode)
{
	return (int)syscall(SYS_mkdirat, AT_FDCWD, path, mode);
}

/* memfd_create(2). */
static inline int sysc_memfd_create(const char *name, unsigned flags)
{
	return (int)syscall(SYS_memfd_create, name, flags);
}

/* epoll_create1(2). */
static inline int sysc_epoll_create1(int flags)
{
	return (int)syscall(SYS_epoll_create1, flags);
}

/* pipe2(2). */
static inline int sysc_pipe2(int fds[2], int flags)
{
	return (int)syscall(SYS_pipe2, fds, flags);
}

/* fchmod(2). */
static inline int sysc_fchmod(int fd, mode_t mode)
{
	return (int)syscall(SYS_fchmod, fd, mode);
}

/* timerfd_create(2). */
static inline int sysc_timerfd_create(int clockid, int flags)
{
	return (int)syscall(SYS_timerfd_create, clockid, flags);
}

/* listen(2) (its own system call on every target the agent builds for). */
static inline int sysc_listen(int fd, int backlog)
{
	return (int)syscall(SYS_listen, fd, backlog);
}

/* accept4(2). */
static inline int sysc_accept4(int fd, void *addr, void *addrlen, int flags)
{
	return (int)syscall(SYS_accept4, fd, addr, addrlen, flags);
}

#endif
