/* errors.c - one line of English for every error code (PROTO 10). */
#include "internal.h"

const char *shmf_strerror(int err)
{
	switch (err) {
	case SHMF_OK: return "success";
	case SHMF_EINVAL: return "invalid argument";
	case SHMF_ENAME:
		return "invalid segment name (want '/' then 1-254 printable characters, no '/')";
	case SHMF_ENOMEM: return "out of memory, or the SIGBUS guard's table is full";
	case SHMF_ESYS: return "system call failed (see errno)";
	case SHMF_EEXIST: return "a segment of that name already exists";
	case SHMF_ENOENT: return "no such segment";
	case SHMF_EACCES: return "permission denied";
	case SHMF_ENOSPC: return "no space left for the segment";
	case SHMF_EAGAIN: return "operation would block";
	case SHMF_ETIMEDOUT: return "timed out";
	case SHMF_EPEERGONE: return "peer gone: it died without detaching";
	case SHMF_EPEERCLOSED: return "peer closed the channel";
	case SHMF_EROLEBUSY: return "role is held by a live process";
	case SHMF_EMSGSIZE: return "message larger than the segment's maximum";
	case SHMF_ETOOSMALL: return "receive buffer too small; the message is still queued";
	case SHMF_ENOTSUP: return "not supported on this channel (simplex direction)";
	case SHMF_ESTATE: return "call out of order (commit without reserve, release without peek)";
	case SHMF_EFILETYPE: return "not a regular file";
	case SHMF_EOWNER: return "segment is owned by another user";
	case SHMF_EMODE: return "segment permissions are broader than its creator asked";
	case SHMF_ESIZE: return "segment size disagrees with its header";
	case SHMF_EMAGIC: return "bad magic: not an SHMF segment";
	case SHMF_EVERSION: return "unsupported protocol version";
	case SHMF_EHDRCRC: return "segment header checksum mismatch";
	case SHMF_ELAYOUT: return "segment layout mismatch";
	case SHMF_EFEATURE: return "segment uses unknown feature bits";
	case SHMF_ENOTREADY: return "segment not ready (still being created)";
	case SHMF_EROLE: return "role line corrupt";
	case SHMF_ESEALS: return "descriptor lacks the seals of the memfd transport";
	case SHMF_EPEERCRED: return "the socket's peer is not an allowed user";
	case SHMF_ETRUNCATED: return "segment truncated under the mapping";
	case SHMF_EPOS: return "ring position out of range";
	case SHMF_EALIGN: return "misaligned ring position";
	case SHMF_ELENGTH: return "frame length out of range";
	case SHMF_ETYPE: return "unknown frame type";
	case SHMF_EFLAGS: return "reserved frame bits set";
	case SHMF_ECRC: return "frame CRC mismatch";
	case SHMF_ESEQ: return "frame sequence gap, duplicate or stale frame";
	default: return "unknown error";
	}
}

const char *shmf_version(void)
{
	return SHMF_VERSION_STRING;
}
