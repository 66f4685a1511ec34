/* SPDX-License-Identifier: ISC */
/* frame.h -- sftunnel(7) framing and the lines inside it, for the lab's daemon and bench/peersim.c */
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

/*
 * The text lines a peer or a control client sends, parsed by length: the
 * bytes need not be NUL-terminated and are never read past avail.  A
 * line ends at its '\n'; fields are separated by exactly one space (a
 * field is never taken from the next line), numbers are decimal digits
 * only, words are 1 to N-1 visible ASCII bytes.  Each parser returns 1
 * with *used the length of the line with its '\n', 0 when no '\n' is
 * within avail (yet) and avail is under FR_LINE_MAX, -1 when the line is
 * malformed or longer.  Outputs are set only on 1.  Inside a frame the
 * whole payload is there: 0 is malformed as well.
 */
#define FR_LINE_MAX	256
#define FR_PUSH_FILES	8	/* files of one push */
#define FR_NAME_SIZE	64
#define FR_SHA_SIZE	80

/* "FILE name size sha\n": one pushed file's header, size <= FR_FILE_MAX. */
struct frame_file {
	char	 name[FR_NAME_SIZE];
	size_t	 size;
	char	 sha[FR_SHA_SIZE];
};
int	 frame_file_head(const void *p, size_t avail, struct frame_file *,
	    size_t *used);

/* "<id> <n>\n", the first line of an FR_PUSH payload; n <= FR_PUSH_FILES. */
int	 frame_push_head(const void *p, size_t avail, unsigned *id, size_t *n,
	    size_t *used);

/* "<id>\n", the first line of an FR_PUSHR payload. */
int	 frame_pushr_head(const void *p, size_t avail, unsigned *id,
	    size_t *used);

/*
 * A control socket PUSH request (sftunnel(7)): "PUSH uuid n\n", 1 <= n <=
 * FR_PUSH_FILES, then n times a FILE header and its size bytes.  On 1 the
 * whole request is the first r->end bytes of buf, file i's data at
 * r->data[i]; 0 when more bytes are needed; -1 when malformed.
 */
struct frame_ctlpush {
	char		 uuid[FR_NAME_SIZE];
	size_t		 n;
	size_t		 hlen;			/* "PUSH ...\n" */
	struct frame_file f[FR_PUSH_FILES];
	size_t		 data[FR_PUSH_FILES];	/* offsets in buf */
	size_t		 end;
};
int	 frame_ctl_push(const void *buf, size_t len, struct frame_ctlpush *r);

#endif
