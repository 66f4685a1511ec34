/* SPDX-License-Identifier: ISC */
/* frame.h -- sftunnel(7) framing, for the lab's daemon and bench/peersim.c */
#ifndef SFTD_FRAME_H
#define SFTD_FRAME_H

#include <stddef.h>

/*
 * Inside the TLS session every message is a frame: one type byte, the
 * payload's length as 4 bytes big-endian, the payload.  Both ends of the
 * lab's tunnel (tests/lab/sftunneld and the bench's peer simulator) encode
 * and decode frames here and nowhere else; buffers stay the caller's.
 */
#define FR_HDR		5
#define FR_HB		'H'	/* heartbeat: "<epoch>" */
#define FR_PUSH		'P'	/* "<id> <n>\n" + n x ("FILE name size sha\n" + data) */
#define FR_PUSHR	'R'	/* "<id>\n" + ("OK name sha\n" | "ERR name why\n")... "END\n" */
#define FR_FILE_MAX	(1024 * 1024)		/* one pushed file */
#define FR_MAX		(FR_FILE_MAX * 4 + 4096)	/* one payload */

/*
 * Writes the frame of the given type and its len payload bytes at out,
 * which the caller has made FR_HDR + len bytes long, having checked
 * len <= FR_MAX.  Returns FR_HDR + len, the bytes written.
 */
size_t	 frame_encode(unsigned char *out, int type, const void *payload,
	    size_t len);

/*
 * Looks at the avail bytes at buf, the start of a frame.  Returns 1 when
 * the whole frame is there (*type its type, *len its payload's length, the
 * payload at buf + FR_HDR, the next frame at buf + FR_HDR + *len); 0 when
 * more bytes are needed; -1 when the frame announces a payload longer than
 * FR_MAX, a protocol error after which the stream cannot be followed.
 * Reports nothing; *type and *len are set only on 1.
 */
int	 frame_decode(const unsigned char *buf, size_t avail, int *type,
	    size_t *len);

#endif
