/* digest.c - SIP digest authentication; see digest.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "common/util.h"
#include "sip/digest.h"

static const struct {
	const char *name;
	enum sip_digest_alg alg;
} alg_table[] = {
	{ "MD5", SIP_DIGEST_MD5 },
	{ "MD5-sess", SIP_DIGEST_MD5_SESS },
	{ "SHA-256", SIP_DIGEST_SHA256 },
	{ "SHA-256-sess", SIP_DIGEST_SHA256_SESS },
};

const char *sip_digest_alg_name(enum sip_digest_alg alg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(alg_table); i++)
		if (alg_table[i].alg == alg)
			return alg_table[i].name;
	return "MD5";
}

static bool is_sha256(enum sip_digest_alg alg)
{
	return alg == SIP_DIGEST_SHA256 || alg == SIP_DIGEST_SHA256_SESS;
}

static bool is_sess(enum sip_digest_alg alg)
{
	return alg == SIP_DIGEST_MD5_SESS || alg == SIP_DIGEST_SHA256_SESS;
}

static const char *skip_lws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* Read one auth-param "name=value" at *pp into name/val; advances past the comma.
 * Returns 1 when a param was read, 0 at the end, -EINVAL when malformed. */
static int next_param(const char **pp, char *name, size_t nsize, char *val, size_t vsize)
{
	const char *p = skip_lws(*pp);
	size_t n = 0;

	if (!*p)
		return 0;
	while (*p && *p != '=' && *p != ',' && *p != ' ' && *p != '\t') {
		if (n + 1 >= nsize)
			return -EINVAL;
		name[n++] = *p++;
	}
	name[n] = '\0';
	p = skip_lws(p);
	if (*p != '=' || n == 0)
		return -EINVAL;
	p = skip_lws(p + 1);
	n = 0;
	if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return -EINVAL;
			if (n + 1 >= vsize)
				return -EINVAL;
			val[n++] = *p++;
		}
		if (*p != '"')
			return -EINVAL;
		p++;
	} else {
		while (*p && *p != ',' && *p != ' ' && *p != '\t') {
			if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
				return -EINVAL;
			if (n + 1 >= vsize)
				return -EINVAL;
			val[n++] = *p++;
		}
	}
	val[n] = '\0';
	p = skip_lws(p);
	if (*p == ',')
		p++;
	else if (*p)
		return -EINVAL;
	*pp = p;
	return 1;
}

/* Values we write back inside quotes must not need escaping. */
static bool quotable(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int sip_digest_parse(const char *value, struct sip_challenge *ch)
{
	char name[32], val[SIP_DIGEST_FIELD_MAX];
	const char *p;
	bool have_nonce = false, have_realm = false, qop_seen = false;
	int err;

	memset(ch, 0, sizeof(*ch));
	if (!value)
		return -EINVAL;
	p = skip_lws(value);
	if (strncasecmp(p, "Digest", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return -EINVAL;
	p += 6;
	ch->alg = SIP_DIGEST_MD5;
	while ((err = next_param(&p, name, sizeof(name), val, sizeof(val))) > 0) {
		if (!strcasecmp(name, "realm")) {
			utl_strlcpy(ch->realm, val, sizeof(ch->realm));
			have_realm = true;
		} else if (!strcasecmp(name, "nonce")) {
			utl_strlcpy(ch->nonce, val, sizeof(ch->nonce));
			have_nonce = val[0] != '\0';
		} else if (!strcasecmp(name, "opaque")) {
			utl_strlcpy(ch->opaque, val, sizeof(ch->opaque));
			ch->has_opaque = true;
		} else if (!strcasecmp(name, "stale")) {
			ch->stale = !strcasecmp(val, "true");
		} else if (!strcasecmp(name, "algorithm")) {
			size_t i;

			for (i = 0; i < ARRAY_SIZE(alg_table); i++)
				if (!strcasecmp(val, alg_table[i].name))
					break;
			if (i == ARRAY_SIZE(alg_table))
				return -ENOTSUP;
			ch->alg = alg_table[i].alg;
		} else if (!strcasecmp(name, "qop")) {
			char *tok, *save = NULL;

			qop_seen = true;
			for (tok = strtok_r(val, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
				if (!strcasecmp(tok, "auth"))
					ch->qop_auth = true;
		}
		/* domain, charset, userhash and others: not needed for REGISTER */
	}
	if (err < 0)
		return err;
	if (!have_nonce || !have_realm)
		return -EINVAL;
	if (!quotable(ch->realm) || !quotable(ch->nonce) || !quotable(ch->opaque))
		return -EINVAL;
	if (qop_seen && !ch->qop_auth)
		return -ENOTSUP;    /* auth-int only: we do not hash bodies */
	if (!qop_seen && is_sess(ch->alg))
		return -ENOTSUP;    /* -sess needs a cnonce, which needs qop */
	return 0;
}

bool sip_digest_better(const struct sip_challenge *a, const struct sip_challenge *b)
{
	return is_sha256(a->alg) && !is_sha256(b->alg);
}

int sip_digest_cnonce(char *cnonce, size_t size)
{
	if (size < 33)
		return -ENOSPC;
	return utl_random_hex(cnonce, 16);
}

/* hex(H(a ":" b ":" c ...)) of up to 6 NULL-terminated parts. */
static int hash_hex(enum sip_digest_alg alg, char *out, size_t outsize, const char *const *parts)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx;
	int err = -EIO;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, is_sha256(alg) ? EVP_sha256() : EVP_md5(), NULL) != 1)
		goto out;
	for (i = 0; parts[i]; i++) {
		if (i && EVP_DigestUpdate(ctx, ":", 1) != 1)
			goto out;
		if (EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		goto out;
	if (outsize < 2 * mdlen + 1) {
		err = -ENOSPC;
		goto out;
	}
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	err = 0;
out:
	EVP_MD_CTX_free(ctx);
	return err;
}

int sip_digest_compute(const struct sip_challenge *ch, const char *user, const char *password,
		       const char *method, const char *uri, uint32_t nc, const char *cnonce,
		       char *out, size_t outsize)
{
	char ha1[65], ha2[65], ncs[9];
	int err;

	if (!ch || !user || !password || !method || !uri || (ch->qop_auth && !cnonce))
		return -EINVAL;
	err = hash_hex(ch->alg, ha1, sizeof(ha1),
		       (const char *const[]){ user, ch->realm, password, NULL });
	if (!err && is_sess(ch->alg)) {
		char base[65];

		memcpy(base, ha1, sizeof(base));
		err = hash_hex(ch->alg, ha1, sizeof(ha1),
			       (const char *const[]){ base, ch->nonce, cnonce, NULL });
	}
	if (!err)
		err = hash_hex(ch->alg, ha2, sizeof(ha2), (const char *const[]){ method, uri, NULL });
	if (err)
		goto out;
	snprintf(ncs, sizeof(ncs), "%08x", (unsigned)nc);
	if (ch->qop_auth)
		err = hash_hex(ch->alg, out, outsize,
			       (const char *const[]){ ha1, ch->nonce, ncs, cnonce, "auth", ha2, NULL });
	else
		err = hash_hex(ch->alg, out, outsize, (const char *const[]){ ha1, ch->nonce, ha2, NULL });
out:
	explicit_bzero(ha1, sizeof(ha1));
	return err;
}

int sip_digest_authorization(const struct sip_challenge *ch, const char *user, const char *password,
			     const char *method, const char *uri, uint32_t nc, const char *cnonce,
			     char *out, size_t outsize)
{
	char resp[65];
	int n, err;

	if (!user || !quotable(user) || !uri || !quotable(uri) || (cnonce && !quotable(cnonce)))
		return -EINVAL;
	err = sip_digest_compute(ch, user, password, method, uri, nc, cnonce, resp, sizeof(resp));
	if (err)
		return err;
	n = snprintf(out, outsize,
		     "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
		     "response=\"%s\", algorithm=%s",
		     user, ch->realm, ch->nonce, uri, resp, sip_digest_alg_name(ch->alg));
	if (n < 0 || (size_t)n >= outsize)
		return -ENOSPC;
	if (ch->qop_auth) {
		int m = snprintf(out + n, outsize - n, ", cnonce=\"%s\", qop=auth, nc=%08x",
				 cnonce, (unsigned)nc);
		if (m < 0 || (size_t)m >= outsize - n)
			return -ENOSPC;
		n += m;
	}
	if (ch->has_opaque) {
		int m = snprintf(out + n, outsize - n, ", opaque=\"%s\"", ch->opaque);
		if (m < 0 || (size_t)m >= outsize - n)
			return -ENOSPC;
	}
	return 0;
}
