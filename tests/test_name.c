/* test_name.c - segment names (PROTOCOL.md 9.4) through shmf_name_check and the calls that take a
 * name, and shmf_strerror (PROTOCOL.md 10). */
#include "testutil.h"

#include <errno.h>

/* "/" followed by n - 1 copies of c: a name of n bytes. buf holds at least n + 1 bytes. */
static const char *long_name(char *buf, size_t n, char c)
{
	buf[0] = '/';
	memset(buf + 1, c, n - 1);
	buf[n] = '\0';
	return buf;
}

/* ---- valid names ---------------------------------------------------------------------------- */

START_TEST(test_slash_and_one_character_is_valid)
{
	ck_assert_int_eq(shmf_name_check("/a"), 0);
}
END_TEST

START_TEST(test_name_of_255_bytes_is_valid)
{
	char buf[300];
	ck_assert_uint_eq(strlen(long_name(buf, 255, 'x')), 255);
	ck_assert_int_eq(shmf_name_check(buf), 0);
}
END_TEST

START_TEST(test_every_printable_character_but_slash_is_valid)
{
	char buf[4] = {'/', 'a', 0, 0};
	for (int c = 0x21; c <= 0x7E; c++) {
		if (c == '/')
			continue;
		buf[2] = (char)c; /* "/a" then c: "/." alone is a refused name of its own */
		ck_assert_msg(shmf_name_check(buf) == 0, "character 0x%02X refused", (unsigned)c);
	}
	ck_assert_int_eq(shmf_name_check("/!~"), 0);
	ck_assert_int_eq(shmf_name_check("/..."), 0); /* only "/." and "/.." are refused */
	ck_assert_int_eq(shmf_name_check("/.a"), 0);
	ck_assert_int_eq(shmf_name_check("/shmf-demo_1.0"), 0);
}
END_TEST

/* ---- invalid names, each SHMF_ENAME ------------------------------------------------------- */

START_TEST(test_null_name_is_refused)
{
	ck_assert_int_eq(shmf_name_check(NULL), SHMF_ENAME);
}
END_TEST

START_TEST(test_empty_name_is_refused)
{
	ck_assert_int_eq(shmf_name_check(""), SHMF_ENAME);
}
END_TEST

START_TEST(test_name_without_leading_slash_is_refused)
{
	ck_assert_int_eq(shmf_name_check("a"), SHMF_ENAME);
	ck_assert_int_eq(shmf_name_check("ab/"), SHMF_ENAME);
}
END_TEST

START_TEST(test_slash_alone_is_refused)
{
	ck_assert_int_eq(shmf_name_check("/"), SHMF_ENAME);
}
END_TEST

START_TEST(test_name_with_a_second_slash_is_refused)
{
	ck_assert_int_eq(shmf_name_check("/a/b"), SHMF_ENAME);
	ck_assert_int_eq(shmf_name_check("/a/"), SHMF_ENAME);
	ck_assert_int_eq(shmf_name_check("//a"), SHMF_ENAME);
}
END_TEST

START_TEST(test_dot_is_refused)
{
	ck_assert_int_eq(shmf_name_check("/."), SHMF_ENAME);
}
END_TEST

START_TEST(test_dot_dot_is_refused)
{
	ck_assert_int_eq(shmf_name_check("/.."), SHMF_ENAME);
}
END_TEST

START_TEST(test_name_of_256_bytes_is_refused)
{
	char buf[300];
	ck_assert_int_eq(shmf_name_check(long_name(buf, 256, 'x')), SHMF_ENAME);
	ck_assert_int_eq(shmf_name_check(long_name(buf, 299, 'x')), SHMF_ENAME);
}
END_TEST

START_TEST(test_name_with_a_space_is_refused)
{
	ck_assert_int_eq(shmf_name_check("/a b"), SHMF_ENAME);
	ck_assert_int_eq(shmf_name_check("/ "), SHMF_ENAME);
}
END_TEST

START_TEST(test_name_with_a_tab_is_refused)
{
	ck_assert_int_eq(shmf_name_check("/a\tb"), SHMF_ENAME);
}
END_TEST

START_TEST(test_name_with_a_control_character_is_refused)
{
	char buf[4] = {'/', 'a', 0, 0};
	for (int c = 0x01; c < 0x21; c++) {
		buf[1] = (char)c;
		ck_assert_msg(shmf_name_check(buf) == SHMF_ENAME, "character 0x%02X accepted",
		              (unsigned)c);
	}
}
END_TEST

START_TEST(test_name_with_del_0x7f_is_refused)
{
	ck_assert_int_eq(shmf_name_check("/a\x7f"), SHMF_ENAME);
}
END_TEST

START_TEST(test_name_with_a_byte_of_0x80_or_more_is_refused)
{
	char buf[4] = {'/', 'a', 'b', 0};
	for (int c = 0x80; c <= 0xFF; c++) {
		buf[2] = (char)(unsigned char)c;
		ck_assert_msg(shmf_name_check(buf) == SHMF_ENAME, "byte 0x%02X accepted",
		              (unsigned)c);
	}
}
END_TEST

START_TEST(test_bad_byte_at_the_last_allowed_position_is_refused)
{
	char buf[300];
	long_name(buf, 255, 'x');
	buf[254] = ' ';
	ck_assert_int_eq(shmf_name_check(buf), SHMF_ENAME);
	buf[254] = '/';
	ck_assert_int_eq(shmf_name_check(buf), SHMF_ENAME);
}
END_TEST

/* ---- create, attach, open and unlink refuse a bad name and touch nothing -------------------- */

/* Count the entries of /dev/shm that belong to this test runner (tu_name's prefix). */
static int count_own_names(void)
{
	char prefix[64];
	int n = 0;
	DIR *d = opendir("/dev/shm");
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	snprintf(prefix, sizeof prefix, "shmft-%ld-", (long)tu_runner_pid);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* Does /dev/shm hold an entry for the shm name `name` (with its leading '/')? */
static int shm_entry_exists(const char *name)
{
	char path[2100];
	struct stat st;
	snprintf(path, sizeof path, "/dev/shm%s%s", name[0] == '/' ? "" : "/", name);
	return lstat(path, &st) == 0;
}

/* Bad names built on a unique, valid prefix, so that a call that wrongly went ahead would leave a
 * trace we can find. */
enum { N_BAD = 6 };
static void bad_names(char names[N_BAD][300])
{
	char base[96];

	tu_name(base, "bad");
	snprintf(names[0], 300, "%s x", base);   /* space */
	snprintf(names[1], 300, "%s\tx", base);  /* tab */
	snprintf(names[2], 300, "%s/x", base);   /* second slash */
	snprintf(names[3], 300, "%s\x7f", base); /* DEL */
	snprintf(names[4], 300, "%s", base + 1); /* no leading slash */
	/* 256 bytes: one over the limit, though still a legal file name for shm_open. */
	long_name(names[5], 256, 'y');
	memcpy(names[5], base, strlen(base));
}

START_TEST(test_create_with_a_bad_name_returns_ename_and_creates_nothing)
{
	char names[N_BAD][300];
	int before = count_own_names();

	bad_names(names);
	for (int i = 0; i < N_BAD; i++) {
		shmf_channel *ch = NULL;
		int rc = shmf_create(names[i], NULL, &ch);
		ck_assert_msg(rc == SHMF_ENAME, "name %d: got %d", i, rc);
		ck_assert_ptr_null(ch);
		ck_assert_msg(!shm_entry_exists(names[i]), "name %d was created", i);
	}
	ck_assert_int_eq(shmf_create("/", NULL, &(shmf_channel *){NULL}), SHMF_ENAME);
	ck_assert_int_eq(shmf_create("/.", NULL, &(shmf_channel *){NULL}), SHMF_ENAME);
	ck_assert_int_eq(shmf_create(NULL, NULL, &(shmf_channel *){NULL}), SHMF_EINVAL);
	ck_assert_int_eq(count_own_names(), before);
}
END_TEST

START_TEST(test_attach_and_open_with_a_bad_name_return_ename_at_once)
{
	char names[N_BAD][300];
	int before = count_own_names();
	struct timespec t0, t1;

	bad_names(names);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N_BAD; i++) {
		shmf_channel *ch = NULL;
		/* A1 comes before A2: a bad name is refused without waiting for it to appear. */
		ck_assert_int_eq(shmf_attach(names[i], SHMF_SIDE_B, 2000, &ch), SHMF_ENAME);
		ck_assert_ptr_null(ch);
		ck_assert_int_eq(shmf_attach(names[i], SHMF_SIDE_A, 0, &ch), SHMF_ENAME);
		ck_assert_ptr_null(ch);
		ck_assert_int_eq(shmf_open(names[i], &ch), SHMF_ENAME);
		ck_assert_ptr_null(ch);
		ck_assert_msg(!shm_entry_exists(names[i]), "name %d was created", i);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 1.0, "bad names took %.3f s: attach waited", secs);
	ck_assert_int_eq(shmf_attach(NULL, SHMF_SIDE_B, 0, &(shmf_channel *){NULL}), SHMF_EINVAL);
	ck_assert_int_eq(shmf_open("/..", &(shmf_channel *){NULL}), SHMF_ENAME);
	ck_assert_int_eq(count_own_names(), before);
}
END_TEST

START_TEST(test_unlink_with_a_bad_name_returns_ename_and_removes_nothing)
{
	char base[96], bad[200], path[300];
	int fd;

	/* A file in /dev/shm whose name has a space: shm_unlink() could remove it, shmf_unlink must
	 * refuse the name first. */
	tu_name(base, "unl");
	snprintf(bad, sizeof bad, "%s x", base);
	snprintf(path, sizeof path, "/dev/shm%s", bad);
	fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	close(fd);
	ck_assert_int_eq(shmf_unlink(bad), SHMF_ENAME);
	ck_assert_msg(shm_entry_exists(bad), "shmf_unlink removed a badly named file");
	ck_assert_int_eq(shmf_unlink(bad + 1), SHMF_ENAME); /* without the slash */
	ck_assert_int_eq(shmf_unlink(NULL), SHMF_EINVAL);
	ck_assert_int_eq(shmf_unlink("/"), SHMF_ENAME);
	ck_assert_int_eq(shmf_unlink("/.."), SHMF_ENAME);
	ck_assert(shm_entry_exists(bad));
	ck_assert_int_eq(unlink(path), 0);
}
END_TEST

/* ---- shmf_strerror ------------------------------------------------------------------------ */

static const int all_codes[] = {
        SHMF_OK,        SHMF_EINVAL,    SHMF_ENAME,       SHMF_ENOMEM,     SHMF_ESYS,
        SHMF_EEXIST,    SHMF_ENOENT,    SHMF_EACCES,      SHMF_ENOSPC,     SHMF_EAGAIN,
        SHMF_ETIMEDOUT, SHMF_EPEERGONE, SHMF_EPEERCLOSED, SHMF_EROLEBUSY,  SHMF_EMSGSIZE,
        SHMF_ETOOSMALL, SHMF_ENOTSUP,   SHMF_ESTATE,      SHMF_EFILETYPE,  SHMF_EOWNER,
        SHMF_EMODE,     SHMF_ESIZE,     SHMF_EMAGIC,      SHMF_EVERSION,   SHMF_EHDRCRC,
        SHMF_ELAYOUT,   SHMF_EFEATURE,  SHMF_ENOTREADY,   SHMF_EROLE,      SHMF_EPOS,
        SHMF_EALIGN,    SHMF_ELENGTH,   SHMF_ETYPE,       SHMF_EFLAGS,     SHMF_ECRC,
        SHMF_ESEQ,      SHMF_ESEALS,    SHMF_EPEERCRED,   SHMF_ETRUNCATED,
};
#define N_CODES (sizeof all_codes / sizeof all_codes[0])

START_TEST(test_every_error_code_has_its_own_message)
{
	ck_assert_uint_eq(N_CODES, 39); /* the table of PROTOCOL.md 10 */
	for (size_t i = 0; i < N_CODES; i++) {
		const char *m = shmf_strerror(all_codes[i]);
		ck_assert_ptr_nonnull(m);
		ck_assert_msg(m[0] != '\0', "code %d has an empty message", all_codes[i]);
		ck_assert_msg(strcmp(m, "unknown error") != 0, "code %d is \"unknown error\"",
		              all_codes[i]);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(m, shmf_strerror(all_codes[j])) != 0,
			              "codes %d and %d share the message \"%s\"", all_codes[i],
			              all_codes[j], m);
	}
}
END_TEST

START_TEST(test_undefined_codes_are_unknown_error)
{
	static const int undefined[] = {-999, 12345, 1,   -18,       -19,
	                                -34,  -39,   -47, INT32_MIN, INT32_MAX};
	for (size_t i = 0; i < sizeof undefined / sizeof undefined[0]; i++) {
		const char *m = shmf_strerror(undefined[i]);
		ck_assert_ptr_nonnull(m);
		ck_assert_msg(strcmp(m, "unknown error") == 0, "code %d gives \"%s\"", undefined[i],
		              m);
	}
}
END_TEST

static Suite *name_suite(void)
{
	Suite *s = suite_create("name");
	TCase *valid = tcase_create("valid");
	TCase *invalid = tcase_create("invalid");
	TCase *calls = tcase_create("calls");
	TCase *err = tcase_create("strerror");

	tcase_add_test(valid, test_slash_and_one_character_is_valid);
	tcase_add_test(valid, test_name_of_255_bytes_is_valid);
	tcase_add_test(valid, test_every_printable_character_but_slash_is_valid);
	suite_add_tcase(s, valid);

	tcase_add_test(invalid, test_null_name_is_refused);
	tcase_add_test(invalid, test_empty_name_is_refused);
	tcase_add_test(invalid, test_name_without_leading_slash_is_refused);
	tcase_add_test(invalid, test_slash_alone_is_refused);
	tcase_add_test(invalid, test_name_with_a_second_slash_is_refused);
	tcase_add_test(invalid, test_dot_is_refused);
	tcase_add_test(invalid, test_dot_dot_is_refused);
	tcase_add_test(invalid, test_name_of_256_bytes_is_refused);
	tcase_add_test(invalid, test_name_with_a_space_is_refused);
	tcase_add_test(invalid, test_name_with_a_tab_is_refused);
	tcase_add_test(invalid, test_name_with_a_control_character_is_refused);
	tcase_add_test(invalid, test_name_with_del_0x7f_is_refused);
	tcase_add_test(invalid, test_name_with_a_byte_of_0x80_or_more_is_refused);
	tcase_add_test(invalid, test_bad_byte_at_the_last_allowed_position_is_refused);
	suite_add_tcase(s, invalid);

	tcase_add_test(calls, test_create_with_a_bad_name_returns_ename_and_creates_nothing);
	tcase_add_test(calls, test_attach_and_open_with_a_bad_name_return_ename_at_once);
	tcase_add_test(calls, test_unlink_with_a_bad_name_returns_ename_and_removes_nothing);
	suite_add_tcase(s, calls);

	tcase_add_test(err, test_every_error_code_has_its_own_message);
	tcase_add_test(err, test_undefined_codes_are_unknown_error);
	suite_add_tcase(s, err);
	return s;
}

int main(void)
{
	return tu_main(name_suite());
}
