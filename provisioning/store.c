/* store.c - last-known-good and candidate configs, and the upload spool.
 *
 * Bundle format (text header, then the two bodies):
 *   DSA-BUNDLE 1\n
 *   common <len> <etag>\n      (etag "-" when none)
 *   mac <len> <etag>\n
 *   sum <fnv1a-64 hex of everything after this line>\n
 *   \n <common bytes> <mac bytes>
 */
#include "config.h"

#include "provisioning/store.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ps_store {
	char dir[512];
	char spool[560];
};

static const char *const slot_file[] = { "lkg.bundle", "candidate.bundle" };

const char *ps_dir(const struct ps_store *ps)
{
	return ps->dir;
}

static uint64_t fnv1a(const char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

void ps_bundle_free(struct ps_bundle *b)
{
	free(b->common);
	free(b->mac);
	memset(b, 0, sizeof(*b));
}

static bool etag_ok(const char *e)
{
	for (; *e; e++)
		if ((unsigned char)*e <= 0x20 || *e == 0x7f)
			return false;
	return true;
}

int ps_bundle_encode(const struct ps_bundle *b, char **out, size_t *len)
{
	const char *ec = b->etag_common[0] ? b->etag_common : "-";
	const char *em = b->etag_mac[0] ? b->etag_mac : "-";
	size_t head = 64 + 2 * PS_ETAG_LEN + 80, total;
	char *buf;
	int n;
	uint64_t sum;

	if (!etag_ok(ec) || !etag_ok(em))
		return -EINVAL;
	total = head + b->common_len + b->mac_len;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	sum = fnv1a(b->common ? b->common : "", b->common_len, FNV_INIT);
	sum = fnv1a(b->mac ? b->mac : "", b->mac_len, sum);
	n = snprintf(buf, head, "DSA-BUNDLE 1\ncommon %zu %s\nmac %zu %s\nsum %016" PRIx64 "\n\n",
		     b->common_len, ec, b->mac_len, em, sum);
	if (n < 0 || (size_t)n >= head) {
		free(buf);
		return -EINVAL;
	}
	if (b->common_len)
		memcpy(buf + n, b->common, b->common_len);
	if (b->mac_len)
		memcpy(buf + n + b->common_len, b->mac, b->mac_len);
	*out = buf;
	*len = (size_t)n + b->common_len + b->mac_len;
	return 0;
}

int ps_bundle_decode(const char *buf, size_t len, struct ps_bundle *b)
{
	char ec[PS_ETAG_LEN], em[PS_ETAG_LEN];
	size_t cl, ml;
	uint64_t sum;
	int off = 0;
	const char *body;

	char head[1024];
	size_t hl = len < sizeof(head) - 1 ? len : sizeof(head) - 1;

	const char *eoh = len >= 2 ? memmem(buf, hl, "\n\n", 2) : NULL;

	memset(b, 0, sizeof(*b));
	memcpy(head, buf, hl);           /* sscanf needs a terminated string */
	head[hl] = '\0';
	/* The header ends at the first empty line (not where sscanf's "\n\n" would
	 * stop: that skips a body's leading white space too). NUL bytes matter in
	 * the header only: a body is stored byte for byte. */
	if (len < 16 || !eoh || memchr(buf, '\0', (size_t)(eoh - buf)) ||
	    sscanf(head, "DSA-BUNDLE 1\ncommon %zu %159s\nmac %zu %159s\nsum %" SCNx64,
		   &cl, ec, &ml, em, &sum) != 5)
		return -EBADMSG;
	off = (int)(eoh - buf) + 2;
	{       /* the header must be exactly what ps_bundle_encode() writes */
		char canon[64 + 2 * PS_ETAG_LEN + 80];
		int n = snprintf(canon, sizeof(canon), "DSA-BUNDLE 1\ncommon %zu %s\nmac %zu %s\nsum %016" PRIx64 "\n\n",
				 cl, ec, ml, em, sum);

		if (n != off || memcmp(canon, buf, (size_t)off) != 0)
			return -EBADMSG;
	}
	body = buf + off;
	if (cl > len || ml > len || (size_t)off + cl + ml != len)
		return -EBADMSG;
	if (fnv1a(body + cl, ml, fnv1a(body, cl, FNV_INIT)) != sum)
		return -EBADMSG;
	b->common = utl_memdup(body, cl);
	b->mac = utl_memdup(body + cl, ml);
	if (!b->common || !b->mac) {
		ps_bundle_free(b);
		return -ENOMEM;
	}
	b->common_len = cl;
	b->mac_len = ml;
	if (strcmp(ec, "-"))
		utl_strlcpy(b->etag_common, ec, sizeof(b->etag_common));
	if (strcmp(em, "-"))
		utl_strlcpy(b->etag_mac, em, sizeof(b->etag_mac));
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Remove "*.tmp.*" files a crash left in dir. */
static void clean_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strstr(e->d_name, ".tmp.")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	closedir(d);
}

int ps_open(struct ps_store **out, const char *dir)
{
	struct ps_store *ps;
	int err;

	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	if (utl_strlcpy(ps->dir, dir, sizeof(ps->dir)) < 0) {
		err = -ENAMETOOLONG;
		goto out;
	}
	snprintf(ps->spool, sizeof(ps->spool), "%s/spool", dir);
	if ((err = utl_mkdir_p(ps->spool, 0700)) < 0)
		goto out;
	if (chmod(dir, 0700) < 0 || chmod(ps->spool, 0700) < 0) {
		err = -errno;
		goto out;
	}
	clean_temps(ps->dir);
	clean_temps(ps->spool);
	*out = ps;
	return 0;
out:
	free(ps);
	return err;
}

void ps_close(struct ps_store *ps)
{
	free(ps);
}

static void slot_path(const struct ps_store *ps, enum ps_slot slot, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", ps->dir, slot_file[slot]);
}

int ps_save(struct ps_store *ps, enum ps_slot slot, const struct ps_bundle *b)
{
	char path[600], *buf = NULL;
	size_t len;
	int err;

	slot_path(ps, slot, path, sizeof(path));
	if ((err = ps_bundle_encode(b, &buf, &len)) < 0)
		return err;
	err = utl_write_atomic(path, buf, len, 0600);
	free(buf);
	return err;
}

int ps_load(struct ps_store *ps, enum ps_slot slot, struct ps_bundle *b)
{
	char path[600], *buf = NULL;
	size_t len;
	int err;

	memset(b, 0, sizeof(*b));
	slot_path(ps, slot, path, sizeof(path));
	if ((err = utl_read_file(path, 4u << 20, &buf, &len)) < 0)
		return err == -EFBIG ? -EBADMSG : err;
	err = ps_bundle_decode(buf, len, b);
	free(buf);
	return err;
}

int ps_promote(struct ps_store *ps)
{
	char from[600], to[600];

	slot_path(ps, PS_CANDIDATE, from, sizeof(from));
	slot_path(ps, PS_LKG, to, sizeof(to));
	if (rename(from, to) < 0)
		return -errno;
	return fsync_dir(ps->dir);
}

int ps_discard(struct ps_store *ps, enum ps_slot slot)
{
	char path[600];

	slot_path(ps, slot, path, sizeof(path));
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -errno;   /* nothing removed: no fsync */
	return fsync_dir(ps->dir);
}

/* ------------------------------------------------------------------ spool */

/* Ids of the spooled files, ascending, into ids (at most max); count. */
static unsigned spool_ids(struct ps_store *ps, uint64_t *ids, unsigned max)
{
	DIR *d = opendir(ps->spool);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		uint64_t id;
		int end = 0;

		if (sscanf(e->d_name, "%" SCNu64 ".put%n", &id, &end) != 1 || e->d_name[end] != '\0' || end == 0)
			continue;
		if (n < max) {
			unsigned i = n++;

			while (i > 0 && ids[i - 1] > id) {
				ids[i] = ids[i - 1];
				i--;
			}
			ids[i] = id;
		}
	}
	closedir(d);
	return n;
}

unsigned ps_spool_count(struct ps_store *ps)
{
	uint64_t ids[PS_SPOOL_MAX * 4];

	return spool_ids(ps, ids, ARRAY_SIZE(ids));
}

int ps_spool_add(struct ps_store *ps, const char *url, const char *body, size_t len)
{
	uint64_t ids[PS_SPOOL_MAX * 4], next = 1;
	unsigned n = spool_ids(ps, ids, ARRAY_SIZE(ids));
	size_t ul = strlen(url);
	char path[700], *buf;
	int err;

	if (!ul || memchr(url, '\n', ul))
		return -EINVAL;
	if (n)
		next = ids[n - 1] + 1;
	for (unsigned i = 0; n >= PS_SPOOL_MAX && i < n - PS_SPOOL_MAX + 1; i++)
		ps_spool_remove(ps, ids[i]);
	buf = malloc(ul + 1 + len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, url, ul);
	buf[ul] = '\n';
	memcpy(buf + ul + 1, body, len);
	snprintf(path, sizeof(path), "%s/%010" PRIu64 ".put", ps->spool, next);
	err = utl_write_atomic(path, buf, ul + 1 + len, 0600);
	free(buf);
	return err;
}

int ps_spool_peek(struct ps_store *ps, uint64_t *id, char **url, char **body, size_t *len)
{
	uint64_t ids[PS_SPOOL_MAX * 4];
	unsigned n = spool_ids(ps, ids, ARRAY_SIZE(ids));
	char path[700], *buf, *nl;
	size_t l;
	int err;

	if (!n)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%010" PRIu64 ".put", ps->spool, ids[0]);
	if ((err = utl_read_file(path, 1u << 20, &buf, &l)) < 0)
		return err;
	nl = memchr(buf, '\n', l);
	if (!nl) {
		free(buf);
		ps_spool_remove(ps, ids[0]);          /* damaged: drop it */
		return -EBADMSG;
	}
	*nl = '\0';
	*url = strdup(buf);
	*len = l - (size_t)(nl + 1 - buf);
	*body = utl_memdup(nl + 1, *len);
	free(buf);
	if (!*url || !*body) {
		free(*url);
		free(*body);
		return -ENOMEM;
	}
	*id = ids[0];
	return 0;
}

int ps_spool_remove(struct ps_store *ps, uint64_t id)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/%010" PRIu64 ".put", ps->spool, id);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
