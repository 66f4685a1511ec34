// SPDX-License-Identifier: ISC
/* manifest.c -- a renewal's MANIFEST: which files of the tree it replaces */
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "peers.h"
#include "root.h"
#include "xmalloc.h"
#include "banned.h"

int
manifest_allowed(const char *rel)
{
	static const char *const fixed[] = {
		RP_OWN_KEY, RP_OWN_CERT, RP_CA_INDEX, RP_CA_SERIAL, RP_CA_CRL,
		RP_CA_KEY, RP_CA_CERT,
	};
	char uuid[PEER_UUID_LEN + 1];
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(rel, fixed[i]) == 0)
			return 1;
	if (strncmp(rel, RP_PEERS "/", sizeof(RP_PEERS)) != 0)
		return 0;
	p = rel + sizeof(RP_PEERS);
	if (strlen(p) <= PEER_UUID_LEN || p[PEER_UUID_LEN] != '/')
		return 0;
	memcpy(uuid, p, PEER_UUID_LEN);
	uuid[PEER_UUID_LEN] = '\0';
	if (!peer_uuid_valid(uuid))
		return 0;
	p += PEER_UUID_LEN + 1;
	return strcmp(p, PEERF_KEY) == 0 || strcmp(p, PEERF_CERT) == 0 ||
	    strcmp(p, PEERF_PUSHED "/" PEERF_KEY) == 0 ||
	    strcmp(p, PEERF_PUSHED "/" PEERF_CERT) == 0;
}

void
manifest_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
manifest_parse(const char *buf, size_t len, char ***out, size_t *n,
    size_t *line, enum manifest_err *err)
{
	char **v = NULL, *s;
	const char *nl;
	size_t nv = 0, off = 0, ll, i;

	*out = NULL;
	*n = 0;
	*line = 0;
	*err = MANIFEST_OK;
	while (off < len) {
		*line = nv + 1;
		if ((nl = memchr(buf + off, '\n', len - off)) == NULL) {
			*err = MANIFEST_TRUNCATED;
			goto fail;
		}
		ll = (size_t)(nl - (buf + off));
		if (memchr(buf + off, '\0', ll) != NULL) {
			*err = MANIFEST_NUL;
			goto fail;
		}
		s = xmalloc(ll + 1);
		memcpy(s, buf + off, ll);
		s[ll] = '\0';
		off += ll + 1;
		/* a renewal writes at most four files per peer: small */
		for (i = 0; i < nv; i++)
			if (strcmp(v[i], s) == 0)
				break;
		if (i < nv || !manifest_allowed(s)) {
			*err = i < nv ? MANIFEST_TWICE : MANIFEST_NOT_ALLOWED;
			free(s);
			goto fail;
		}
		v = xreallocarray(v, nv + 1, sizeof(*v));
		v[nv++] = s;
	}
	*out = v;
	*n = nv;
	return 0;
fail:
	manifest_free(v, nv);
	return -1;
}
