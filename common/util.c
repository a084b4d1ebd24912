/* util.c - small helpers shared by every module. */
#include "config.h"

#include "common/sysc.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

int utl_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size == 0)
		return -1;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

const char *utl_field(const char *row, unsigned n)
{
	while (n-- > 0)
		row += strlen(row) + 1;
	return row;
}

int utl_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n;
#ifdef HAVE_GETRANDOM
		n = getrandom(p, len, 0);
#else
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = read(fd, p, len);
		close(fd);
#endif
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Non-zero: utl_random_range draws from a fixed xorshift64* stream (unit tests only). */
static uint64_t range_seed;

void utl_random_range_fixed(uint64_t seed)
{
	range_seed = seed;
}

int utl_random_hex(char *out, size_t bytes)
{
	unsigned char r[32];
	int err;

	if (bytes > sizeof(r))
		bytes = sizeof(r);
	if ((err = utl_random(r, bytes)) != 0)
		memset(r, 0x5a, bytes);
	for (size_t i = 0; i < bytes; i++) {
		*out++ = "0123456789abcdef"[r[i] >> 4];
		*out++ = "0123456789abcdef"[r[i] & 15];
	}
	*out = 0;
	return err;
}

uint32_t utl_random_range(uint32_t lo, uint32_t hi)
{
	uint64_t span, r = 0;

	if (hi <= lo)
		return lo;
	span = (uint64_t)hi - lo + 1;
	if (range_seed) {
		range_seed ^= range_seed >> 12;
		range_seed ^= range_seed << 25;
		range_seed ^= range_seed >> 27;
		r = range_seed * 0x2545F4914F6CDD1DULL;
	} else if (utl_random(&r, sizeof(r)) < 0) {
		r = (uint64_t)rand();
	}
	return lo + (uint32_t)(r % span);
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path), *slash;
	int fd, err = 0;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');     /* the folder: "." without a slash, "/" for "/name" */
	if (slash)
		slash[slash == copy] = '\0';
	fd = open(slash ? copy : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
out:
	free(copy);
	return err;
}

int utl_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[4096];
	const char *p = data;
	int fd = -1, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)sysc_getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (sysc_fchmod(fd, mode) < 0) {
		err = -errno;
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		err = -errno;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err = -errno;
		goto out;
	}
	err = fsync_dir_of(path);
	return err;
out:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err;
}

int utl_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	int fd, err = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		err = -EFBIG;
		goto out;
	}
	buf = malloc(max + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, max + 1 - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			err = -EFBIG;
			goto out;
		}
	}
	buf[used] = '\0';
	*out = buf;
	if (outlen)
		*outlen = used;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

int utl_mkdir_p(const char *dir, unsigned mode)
{
	char path[4096];
	char *p;

	if (utl_strlcpy(path, dir, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (sysc_mkdir(path, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (sysc_mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void utl_xml_put(FILE *f, const char *pre, const char *s, const char *post)
{
	fputs(pre, f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '&')
			fputs("&amp;", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else
			fputs((char[2]){ c >= 0x20 && c < 0x7f ? (char)c : '?', 0 }, f);
	}
	fputs(post, f);
}

char *utl_memdup(const void *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}
