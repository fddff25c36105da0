/* out.c - what the shmframe command writes: errors on stderr, JSON strings, base64, escaped text
 * and times. Every byte that came from a segment, a file name or standard input is escaped
 * before it reaches a terminal or a JSON document.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void shmf_cli_err(const char *cmd, const char *what, const char *fmt, ...)
{
	va_list ap;

	fputs("shmframe: ", stderr);
	if (cmd != NULL)
		fprintf(stderr, "%s: ", cmd);
	if (what != NULL) {
		shmf_text_bytes(stderr, what);
		fputs(": ", stderr);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int shmf_cli_fail(const char *cmd, const char *what, int rc)
{
	int e = errno;

	if (rc == SHMF_ESYS && e != 0)
		shmf_cli_err(cmd, what, "%s (%s)", shmf_strerror(rc), strerror(e));
	else
		shmf_cli_err(cmd, what, "%s", shmf_strerror(rc));
	return shmf_cli_exit_code(rc);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, cp = c & 0x1Fu, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, cp = c & 0x0Fu, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, cp = c & 0x07u, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0u) != 0x80u)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3Fu);
	}
	if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu))
		return 0;
	return len;
}

int shmf_utf8_valid(const unsigned char *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = utf8_seq(buf + i, n - i);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

void shmf_json_str(FILE *f, const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t i = 0;

	fputc('"', f);
	while (i < n) {
		unsigned char c = p[i];
		size_t k;
		switch (c) {
		case '"': fputs("\\\"", f), i++; continue;
		case '\\': fputs("\\\\", f), i++; continue;
		case '\n': fputs("\\n", f), i++; continue;
		case '\r': fputs("\\r", f), i++; continue;
		case '\t': fputs("\\t", f), i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7F) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (k == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		fwrite(p + i, 1, k, f);
		i += k;
	}
	fputc('"', f);
}

void shmf_json_base64(FILE *f, const unsigned char *buf, size_t n)
{
	static const char tab[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];
	size_t i = 0;

	fputc('"', f);
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8 | buf[i + 2];
		out[0] = tab[v >> 18];
		out[1] = tab[(v >> 12) & 63u];
		out[2] = tab[(v >> 6) & 63u];
		out[3] = tab[v & 63u];
		fwrite(out, 1, 4, f);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)buf[i] << 16;
		out[0] = tab[v >> 18];
		out[1] = tab[(v >> 12) & 63u];
		out[2] = out[3] = '=';
		fwrite(out, 1, 4, f);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8;
		out[0] = tab[v >> 18];
		out[1] = tab[(v >> 12) & 63u];
		out[2] = tab[(v >> 6) & 63u];
		out[3] = '=';
		fwrite(out, 1, 4, f);
	}
	fputc('"', f);
}

void shmf_text_bytes(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p >= 0x20 && *p < 0x7F && *p != '\\')
			fputc(*p, f);
		else
			fprintf(f, "\\x%02x", *p);
	}
}

const char *shmf_fmt_time(uint64_t ns, char *buf, size_t n)
{
	struct tm tm;
	time_t t;

	if (n == 0)
		return "";
	if (ns == 0) {
		snprintf(buf, n, "-");
		return buf;
	}
	t = (time_t)(ns / 1000000000u);
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year > 9999 - 1900) {
		snprintf(buf, n, "%llu ns", (unsigned long long)ns);
		return buf;
	}
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ns % 1000000000u));
	return buf;
}
