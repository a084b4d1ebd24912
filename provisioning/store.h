/* store.h - the provisioning state on disk.
 *
 * One folder (mode 0700) holds:
 *   lkg.bundle        last-known-good config: both fetched files and their
 *                     ETags in one file, written atomically (0600), checksummed
 *   candidate.bundle  a new config on trial until the agent confirms it
 *   spool/NNNNNNNNNN.put  status uploads that failed, sent later (bounded)
 * A power cut at any moment leaves each file either old or new, never
 * partial (utl_write_atomic: temp, fsync, rename, fsync of the folder).
 */
#ifndef DSA_PROVISIONING_STORE_H
#define DSA_PROVISIONING_STORE_H

#include <stddef.h>
#include <stdint.h>

#define PS_SPOOL_MAX 16           /* uploads kept; the oldest goes first */
#define PS_ETAG_LEN 160

struct ps_store;

enum ps_slot { PS_LKG = 0, PS_CANDIDATE };

/* The two files of one config and their ETags (bodies malloc'd). */
struct ps_bundle {
	char *common;                 /* dialstack.xml ("" when the server had none) */
	size_t common_len;
	char *mac;                    /* dialstack-<mac12>.xml */
	size_t mac_len;
	char etag_common[PS_ETAG_LEN];
	char etag_mac[PS_ETAG_LEN];
};

/* Open (creating, mode 0700) the state folder dir; removes temp files a
 * crash left behind. 0 or -errno. */
int ps_open(struct ps_store **out, const char *dir);

/* Close the store. */
void ps_close(struct ps_store *ps);

/* Write b into slot atomically (mode 0600). 0 or -errno. */
int ps_save(struct ps_store *ps, enum ps_slot slot, const struct ps_bundle *b);

/* Read slot into b (free with ps_bundle_free). 0, -ENOENT when absent,
 * -EBADMSG when damaged (bad header or checksum), or -errno. */
int ps_load(struct ps_store *ps, enum ps_slot slot, struct ps_bundle *b);

/* Make the candidate the last-known-good (atomic rename). 0 or -errno. */
int ps_promote(struct ps_store *ps);

/* Delete slot (harmless when absent). 0 or -errno. */
int ps_discard(struct ps_store *ps, enum ps_slot slot);

/* Free the bodies of b and zero it. */
void ps_bundle_free(struct ps_bundle *b);

/* Serialise b (pure): malloc'd buffer in *out. 0 or -ENOMEM. */
int ps_bundle_encode(const struct ps_bundle *b, char **out, size_t *len);

/* Parse a serialised bundle (pure). 0 or -EBADMSG / -ENOMEM. */
int ps_bundle_decode(const char *buf, size_t len, struct ps_bundle *b);

/* Keep an upload for later: url and body. Drops the oldest beyond
 * PS_SPOOL_MAX. 0 or -errno. */
int ps_spool_add(struct ps_store *ps, const char *url, const char *body, size_t len);

/* The oldest spooled upload (malloc'd url and body) and its id.
 * 0, -ENOENT when the spool is empty, or -errno. */
int ps_spool_peek(struct ps_store *ps, uint64_t *id, char **url, char **body, size_t *len);

/* Forget spooled upload id (after it was sent). 0 or -errno. */
int ps_spool_remove(struct ps_store *ps, uint64_t id);

/* Number of spooled uploads. */
unsigned ps_spool_count(struct ps_store *ps);

/* The state folder. */
const char *ps_dir(const struct ps_store *ps);

#endif
