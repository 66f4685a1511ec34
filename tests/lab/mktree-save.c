// SPDX-License-Identifier: ISC
/* mktree-save -- the writers of sftunnel.conf and sftunnel.json, for mktree */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "peers.h"
#include "sfile.h"
#include "xmalloc.h"
#include "mktree.h"
#include "banned.h"

int
lab_tunconf_save(const struct lab_tunconf *t, const char *path)
{
	char *buf;
	int rc;

	buf = xasprintf("proxyssl {\n"
	    "  proxy_cert %s;\n"
	    "  proxy_key %s;\n"
	    "  proxy_cacert %s;\n"
	    "  proxy_crl %s;\n"
	    "  proxy_cipher %d;\n"
	    "  proxy_tls_version %s;\n"
	    "};\n", t->cert, t->key, t->cacert,
	    t->crl != NULL ? t->crl : "/etc/sf/ca_root/crl.pem", t->cipher,
	    t->tls_version != NULL ? t->tls_version : "TLSv1.2");
	rc = sfile_write(path, buf, strlen(buf), 0644);
	free(buf);
	return rc;
}

static void
jput(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int
lab_peer_save(const struct peer *p, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&buf, &len)) == NULL) {
		log_warn("open_memstream");
		return -1;
	}
	fputs("{\"uuid\": ", f);
	jput(f, p->uuid);
	fputs(", \"name\": ", f);
	jput(f, p->name);
	fputs(", \"ip\": ", f);
	jput(f, p->ip);
	fputs(", \"role\": ", f);
	jput(f, p->role);
	fprintf(f, ", \"port\": %d}\n", p->port);
	fclose(f);
	rc = sfile_write(path, buf, len, 0644);
	free(buf);
	return rc;
}
