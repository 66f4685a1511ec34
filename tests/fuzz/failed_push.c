// SPDX-License-Identifier: ISC
/* failed_push -- fuzz FAILED_PUSH as the copy tools read it (bundle_build) */
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "log.h"
#include "root.h"
#include "xmalloc.h"
#include "fuzz.h"

#define FMC	"0b6b3ad4-a8e1-11ee-9d7b-2d2a5b2c7f10"
#define U1	"3c1a5a66-a8e1-11ee-9d7b-2d2a5b2c7f10"
#define U2	"4d2b6b77-a8e1-11ee-9d7b-2d2a5b2c7f10"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz-failed_push");
	log_quiet(1);
	return 0;
}

static void
add(struct fileset *fs, const char *path, const void *data, size_t len)
{
	struct bfile *f;

	fs->f = xreallocarray(fs->f, fs->n + 1, sizeof(*fs->f));
	fs->cap = fs->n + 1;
	f = &fs->f[fs->n++];
	memset(f, 0, sizeof(*f));	/* secret 0: data is a plain block */
	f->path = xstrdup(path);
	f->data = xmalloc(len + 1);
	memcpy(f->data, data, len);
	f->data[len] = '\0';
	f->len = len;
}

static void
adds(struct fileset *fs, const char *path, const char *text)
{
	add(fs, path, text, strlen(text));
}

/*
 * An FMC with two peers, their files where FAILED_PUSH names them, and
 * the input as the newest FAILED_PUSH.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fileset fs;
	struct bundle b;

	memset(&fs, 0, sizeof(fs));
	adds(&fs, RP_IMS_CONF, "APPLIANCE_UUID=" FMC "\nHOSTNAME=fmc\n");
	adds(&fs, RP_CA_CERT, "-----BEGIN CERTIFICATE-----\n");
	adds(&fs, RP_PEERS "/" U1 "/" PEERF_JSON, "{\"uuid\": \"" U1 "\", "
	    "\"name\": \"FTD-1\", \"ip\": \"127.77.0.2\", \"role\": \"ftd\", "
	    "\"port\": 8305}");
	adds(&fs, RP_PEERS "/" U2 "/" PEERF_JSON, "{\"uuid\": \"" U2 "\", "
	    "\"name\": \"FTD 2\", \"ip\": \"127.77.0.3\", \"role\": \"ftd\", "
	    "\"port\": 8305}");
	adds(&fs, RP_PEERS "/" U1 "/" PEERF_PUSHED "/" PEERF_CERT, "c1");
	adds(&fs, RP_PEERS "/" U1 "/" PEERF_PUSHED "/" PEERF_KEY, "k1");
	adds(&fs, RP_PEERS "/" U2 "/" PEERF_PUSHED "/" PEERF_CERT, "c2");
	adds(&fs, RP_PEERS "/" U2 "/" PEERF_PUSHED "/" PEERF_KEY, "k2");
	adds(&fs, RP_CERTS_TMP "/1700000000/FAILED_PUSH", "");
	add(&fs, RP_CERTS_TMP "/1700000001/FAILED_PUSH", data, len);
	(void)bundle_build(&b, &fs);
	bundle_release(&b);
	fileset_release(&fs);
	return 0;
}
