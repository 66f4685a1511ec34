// SPDX-License-Identifier: ISC
/* ctl_reply -- fuzz the client side of the control protocol: STATUS and PUSH replies */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "xmalloc.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz-ctl_reply");
	log_quiet(1);
	return 0;
}

/* The reply as ctl.c's reader leaves it: len bytes and a NUL. */
static char *
reply(const uint8_t *data, size_t len)
{
	char *r = xmalloc(len + 1);

	memcpy(r, data, len);
	r[len] = '\0';
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ctl_result res[CTL_PUSH_MAX];
	struct ctl_daemon d;
	struct ctl_peer *p = NULL;
	size_t n = 0, i, nf;
	char *r;

	r = reply(data, len);
	if (ctl_status_parse(r, len, &p, &n, &d) == 0) {
		if (n > CTL_PEERS_MAX)
			abort();
		free(p);
	}
	free(r);
	/* A PUSH reply for 1 to CTL_PUSH_MAX files, the count from the size. */
	nf = len % CTL_PUSH_MAX + 1;
	memset(res, 0, sizeof(res));
	for (i = 0; i < nf; i++)
		strlcpy(res[i].reason, "no answer", sizeof(res[i].reason));
	r = reply(data, len);
	(void)ctl_push_parse(r, len, res, nf);
	free(r);
	return 0;
}
