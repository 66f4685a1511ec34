// SPDX-License-Identifier: ISC
/* sshliar -- lab tool for the tests: an SSH device that will not let a login end */
/*
 *	sshliar ADDR HOSTKEY MODE LOG
 *
 * Listens on ADDR port 22 with the host key in file HOSTKEY and serves one
 * connection after another until it is killed.  It offers only
 * keyboard-interactive and lies in the way MODE says:
 *
 *	endless	every answer is met by another round that asks nothing,
 *		up to SSHLIAR_ROUNDS rounds; then the login is refused
 *	two	the first round asks two questions at once
 *
 * LOG gets "listening" once the port is open, then per connection one
 * line per answered round ("round N: K answers") and, when the client
 * goes, "closed after N rounds".  A test reads it to see how long the
 * client went on.  Nothing is ever accepted: no session is opened.
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "banned.h"

#define SSHLIAR_ROUNDS	1000

static FILE *logfp;

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(logfp, fmt, ap);
	va_end(ap);
	fputc('\n', logfp);
	fflush(logfp);
}

static void
refuse(ssh_message m)
{
	ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_INTERACTIVE);
	ssh_message_reply_default(m);
}

/* One client, until it goes: every login is answered as mode says. */
static void
serve(ssh_session s, int endless)
{
	static const char *two[] = { "Password: ", "Token: " };
	char no_echo[] = { 0, 0 };
	ssh_message m;
	int rounds = 0;

	while ((m = ssh_message_get(s)) != NULL) {
		if (ssh_message_type(m) != SSH_REQUEST_AUTH ||
		    ssh_message_subtype(m) != SSH_AUTH_METHOD_INTERACTIVE)
			refuse(m);
		else if (ssh_message_auth_kbdint_is_response(m)) {
			rounds++;
			say("round %d: %d answers", rounds,
			    ssh_userauth_kbdint_getnanswers(s));
			if (!endless || rounds >= SSHLIAR_ROUNDS)
				refuse(m);
			else
				ssh_message_auth_interactive_request(m, "",
				    "", 0, NULL, NULL);
		} else if (endless)
			ssh_message_auth_interactive_request(m, "", "", 0,
			    NULL, NULL);
		else
			ssh_message_auth_interactive_request(m, "", "", 2,
			    two, no_echo);
		ssh_message_free(m);
	}
	say("closed after %d rounds", rounds);
}

int
main(int argc, char *argv[])
{
	ssh_bind b;
	ssh_session s;
	int endless;

	if (argc != 5)
		errx(2, "usage: sshliar ADDR HOSTKEY endless|two LOG");
	if (strcmp(argv[3], "endless") == 0)
		endless = 1;
	else if (strcmp(argv[3], "two") == 0)
		endless = 0;
	else
		errx(2, "%s: not a mode (endless, two)", argv[3]);
	if ((logfp = fopen(argv[4], "a")) == NULL)
		err(1, "%s", argv[4]);
	if ((b = ssh_bind_new()) == NULL)
		errx(1, "ssh_bind_new failed");
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDADDR, argv[1]) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDPORT_STR, "22") < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY, argv[2]) < 0 ||
	    ssh_bind_listen(b) < 0)
		errx(1, "%s port 22: %s", argv[1], ssh_get_error(b));
	say("listening");
	for (;;) {
		if ((s = ssh_new()) == NULL)
			errx(1, "ssh_new failed");
		if (ssh_bind_accept(b, s) == SSH_OK &&
		    ssh_handle_key_exchange(s) == SSH_OK)
			serve(s, endless);
		ssh_disconnect(s);
		ssh_free(s);
	}
}
