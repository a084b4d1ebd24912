/* util.h - small helpers shared by every module (no state, no I/O). */
#ifndef DSA_CORE_UTIL_H
#define DSA_CORE_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* The enclosing object of an embedded member (timers, fd watchers). */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* 64-bit integers as double, correctly rounded like a cast: the two exact
 * halves, summed once. A plain cast calls libgcc's soft-float __aeabi_l2d on
 * 32-bit ARM, which brings ~900 bytes of soft-float addition into the binary. */
static inline double utl_u64_double(uint64_t v)
{
	return (double)(uint32_t)(v >> 32) * 4294967296.0 + (double)(uint32_t)v;
}

static inline double utl_i64_double(int64_t v)
{
	return (double)(int32_t)(v >> 32) * 4294967296.0 + (double)(uint32_t)v;
}

#define DSA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DSA_UNUSED __attribute__((unused))

/* ASCII lower case (protocol tokens: no locale). */
static inline int utl_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Copy src into dst (size bytes), always terminating; returns -1 if truncated. */
int utl_strlcpy(char *dst, const char *src, size_t size);

/* A malloc'ed copy of n bytes at p with a NUL after them (p may hold NULs); NULL when out of memory. */
char *utl_memdup(const void *p, size_t n);

/* Field n (from 0) of a table row kept as one string of NUL-separated fields
 * ("name\0brief\0advice": one pointer, one relocation a row). */
const char *utl_field(const char *row, unsigned n);

/* Fill buf with len bytes from the kernel's random source; 0 or -errno. */
int utl_random(void *buf, size_t len);

/* 2 * bytes lowercase hex digits of utl_random and a NUL into out (bytes 1..32): SIP
 * branches, tags, Call-IDs, cnonces. 0, or -errno with a fixed pattern written. */
int utl_random_hex(char *out, size_t bytes);

/* A uniformly random integer in [lo, hi] from the kernel's random source. */
uint32_t utl_random_range(uint32_t lo, uint32_t hi);

/* Unit tests: seed != 0 makes utl_random_range (jitter, spreads; never key material,
 * which comes from utl_random) a fixed pseudo-random stream, so a test on the virtual
 * clock gives the same instants on every run; 0 returns to the kernel's source. */
void utl_random_range_fixed(uint64_t seed);

/* Write data to path atomically: temp file, fsync, rename, fsync of the folder.
 * The file gets the given mode. Returns 0 or -errno; on error path is untouched. */
int utl_write_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Read a whole file of at most max bytes into a NUL-terminated malloc'd buffer.
 * Returns 0 or -errno (-EFBIG when larger than max). */
int utl_read_file(const char *path, size_t max, char **out, size_t *outlen);

/* Create dir and its parents with the given mode; 0 or -errno. */
int utl_mkdir_p(const char *dir, unsigned mode);

/* Write pre, then s as XML text or attribute value (& < > " escaped, bytes
 * outside printable ASCII as '?'; NULL is ""), then post, to f. The status
 * document and the self-test report are written with it, without libxml2. */
void utl_xml_put(FILE *f, const char *pre, const char *s, const char *post);

#endif
