/* SPDX-License-Identifier: ISC */
/* esc.h -- untrusted text made safe to print: strvis(3) and its inverse */
#ifndef SFCA_ESC_H
#define SFCA_ESC_H

#include <stddef.h>

/*
 * Text that comes from outside (a device's output, a peer's name in
 * sftunnel.json, a name in devices.csv) is printed, logged and written
 * to FAILED_PUSH only through esc_vis: strvis(3) with VIS_CSTYLE,
 * VIS_OCTAL and VIS_WHITE, in the C locale.  The result is printable
 * ASCII with no space, tab or newline: a control character, an escape
 * sequence or a byte of a multibyte character becomes a backslash
 * escape ("\033", "\s", "\t", "\303\274"), a backslash becomes "\\".
 * It never splits a whitespace-separated field, never moves the
 * terminal's cursor, and esc_unvis gives back the original bytes.
 */

/* Room for the encoding of n bytes, its NUL included. */
#define ESC_SIZE(n)	((n) * 4 + 1)

/*
 * Encode the string s into dst, dstlen bytes (at least 1), always
 * NUL-terminated.  Should it not fit, it is cut between two encoded
 * characters, never inside an escape.  Returns dst.
 */
char	*esc_vis(char *dst, size_t dstlen, const char *s);

/*
 * The same for free text quoted in a message (a device's answer, an
 * SSH error): spaces are kept, everything else is encoded as above.
 * Never for a field of FAILED_PUSH or a name.
 */
char	*esc_vist(char *dst, size_t dstlen, const char *s);

/*
 * Decode the encoding s into dst, dstlen bytes, NUL-terminated.  -1 when
 * s is not a well-formed encoding, decodes to a NUL byte, or does not
 * fit; nothing is reported (the caller names the input).
 */
int	esc_unvis(char *dst, size_t dstlen, const char *s);

/*
 * JSON.  A string from outside (a certificate's subject, a value of
 * ims.conf) may hold any byte, and JSON must be UTF-8: esc_json writes s
 * as a JSON string, its double quotes included, with backslash and
 * double quote escaped, every control character and DEL as \uXXXX, and
 * each byte that is not part of a valid UTF-8 sequence as \ufffd (the
 * replacement character).  Valid multibyte characters are kept.  The
 * result is allocated; the caller frees it.
 */
char	*esc_json(const char *s);

/*
 * The length of the valid UTF-8 sequence at s (NUL-terminated), or 0 when
 * it is not one (overlong forms, surrogates and code points past
 * U+10FFFF are not).
 */
size_t	esc_utf8_len(const unsigned char *s);

#endif
