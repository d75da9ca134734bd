/* test_io_paths.c — what an existing path is decides how it is written
 * (src/atomic.h: a regular file atomically, a symlink followed, a character
 * device or FIFO written through, the rest refused, nothing but a regular
 * file ever replaced), and the readers take regular files only, with the
 * NPY and IDX headers checked against the file's size before allocating. */
#define _XOPEN_SOURCE 700
#include "atomic.h"
#include "implreg/data.h"

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[512];

static void make_dir(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/implreg_test_io.XXXXXX",
           tmp && tmp[0] ? tmp : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void remove_dir(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", g_dir);
}

static const char *tpath(const char *name) {
  static char buf[4][640];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
  return buf[k];
}

static void write_text(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  ck_assert_ptr_nonnull(fp);
  fputs(text, fp);
  fclose(fp);
}

static int write_via_atomic(const char *path, const char *text) {
  ir_atomic_file f;
  int s = ir_atomic_open(&f, path);
  if (s != IR_OK)
    return s;
  fputs(text, f.fp);
  return ir_atomic_commit(&f);
}

static void read_text(const char *path, char *buf, size_t cap) {
  FILE *fp = fopen(path, "r");
  ck_assert_ptr_nonnull(fp);
  size_t n = fread(buf, 1, cap - 1, fp);
  buf[n] = '\0';
  fclose(fp);
}

/* 256 MiB of address space for the rest of this (forked) test, so that a
 * reader allocating what a header claims fails loudly.  Not under
 * AddressSanitizer, which reserves terabytes of shadow memory up front and
 * cannot run under any such limit; the status checks still run there. */
#if defined(__SANITIZE_ADDRESS__)
#define IO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IO_ASAN 1
#endif
#endif
static void limit_address_space(void) {
#ifndef IO_ASAN
  struct rlimit rl = {256u << 20, 256u << 20};
  ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
#endif
}


START_TEST(test_regular_and_new) {
  ir_atomic_kind k;
  IR_ASSERT_OK(ir_atomic_classify(tpath("new.txt"), &k, NULL));
  ck_assert_int_eq(k, IR_ATOMIC_NEW);
  IR_ASSERT_OK(write_via_atomic(tpath("new.txt"), "one\n"));
  IR_ASSERT_OK(ir_atomic_classify(tpath("new.txt"), &k, NULL));
  ck_assert_int_eq(k, IR_ATOMIC_REPLACE);
  IR_ASSERT_OK(write_via_atomic(tpath("new.txt"), "two\n"));
  char buf[64];
  read_text(tpath("new.txt"), buf, sizeof buf);
  ck_assert_str_eq(buf, "two\n");
}
END_TEST

/* A symlink stays a symlink; its target gets the new content. */
START_TEST(test_symlink_followed) {
  ck_assert_int_eq(mkdir(tpath("sub"), 0777), 0);
  write_text(tpath("sub/target.txt"), "old\n");
  ck_assert_int_eq(symlink("sub/target.txt", tpath("link.txt")), 0);
  ir_atomic_kind k;
  char *resolved = NULL;
  IR_ASSERT_OK(ir_atomic_classify(tpath("link.txt"), &k, &resolved));
  ck_assert_int_eq(k, IR_ATOMIC_REPLACE);
  char *want = realpath(tpath("sub/target.txt"), NULL);
  ck_assert_str_eq(resolved, want);
  free(resolved);
  free(want);
  IR_ASSERT_OK(write_via_atomic(tpath("link.txt"), "new\n"));
  struct stat st;
  ck_assert_int_eq(lstat(tpath("link.txt"), &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  char buf[64];
  read_text(tpath("sub/target.txt"), buf, sizeof buf);
  ck_assert_str_eq(buf, "new\n");
}
END_TEST

START_TEST(test_dangling_symlink_refused) {
  ck_assert_int_eq(symlink("nowhere.txt", tpath("dangling")), 0);
  ck_assert_int_eq(write_via_atomic(tpath("dangling"), "x"), IR_EIO);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "symbolic link"));
  struct stat st;
  ck_assert_int_eq(lstat(tpath("dangling"), &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  ck_assert_int_ne(access(tpath("nowhere.txt"), F_OK), 0);
}
END_TEST

/* A character device is written through: as root a private copy of
 * /dev/null (made with mknod, so the real one is never at risk); otherwise
 * /dev/null itself, which a non-root process could not replace anyway. */
START_TEST(test_char_device_written_through) {
  const char *dev = "/dev/null";
  if (geteuid() == 0) {
    dev = tpath("null");
    ck_assert_int_eq(mknod(dev, S_IFCHR | 0666, makedev(1, 3)), 0);
  }
  ir_atomic_kind k;
  IR_ASSERT_OK(ir_atomic_classify(dev, &k, NULL));
  ck_assert_int_eq(k, IR_ATOMIC_THROUGH);
  IR_ASSERT_OK(write_via_atomic(dev, "discarded\n"));
  struct stat st;
  ck_assert_int_eq(lstat(dev, &st), 0);
  ck_assert(S_ISCHR(st.st_mode));
  /* A write-through is not one of the run's files. */
  for (size_t i = 0; i < ir_atomic_written_count(); i++)
    ck_assert_str_ne(ir_atomic_written(i), dev);
}
END_TEST

/* A FIFO: refused at once when nobody reads it, written through when a
 * reader is there; it stays a FIFO. */
START_TEST(test_fifo) {
  const char *ff = tpath("fifo");
  ck_assert_int_eq(mkfifo(ff, 0600), 0);
  alarm(20); /* a regression that blocks fails instead of hanging */
  ck_assert_int_eq(write_via_atomic(ff, "x"), IR_EIO);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "no reader"));
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    char buf[64] = "";
    int fd = open(ff, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    _exit(n == 6 && memcmp(buf, "hello\n", 6) == 0 ? 0 : 1);
  }
  int s = IR_EIO;
  for (int tries = 0; tries < 200 && s != IR_OK; tries++) {
    s = write_via_atomic(ff, "hello\n");
    if (s != IR_OK) { /* the reader has not opened it yet */
      const struct timespec ts = {0, 10000000};
      nanosleep(&ts, NULL);
    }
  }
  IR_ASSERT_OK(s);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  struct stat st;
  ck_assert_int_eq(lstat(ff, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  alarm(0);
}
END_TEST

START_TEST(test_directory_refused) {
  ck_assert_int_eq(mkdir(tpath("d"), 0777), 0);
  ck_assert_int_eq(write_via_atomic(tpath("d"), "x"), IR_EIO);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "directory"));
  ck_assert_int_eq(symlink("d", tpath("dl")), 0);
  ck_assert_int_eq(write_via_atomic(tpath("dl"), "x"), IR_EIO);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "symbolic link to a dir"));
}
END_TEST

/* Readers: a FIFO is refused without waiting for a writer, a device such
 * as /dev/zero without reading it. */
START_TEST(test_readers_regular_only) {
  const char *ff = tpath("in.fifo");
  ck_assert_int_eq(mkfifo(ff, 0600), 0);
  alarm(20);
  gsl_matrix *M = NULL;
  ck_assert_int_eq(ir_data_read_csv(ff, &M), IR_EIO);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "FIFO"));
  ck_assert_int_eq(ir_data_read_npy(ff, &M), IR_EIO);
  ck_assert_int_eq(ir_data_read_idx(ff, 0, &M), IR_EIO);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "FIFO"));
  ck_assert_int_eq(ir_data_read_csv("/dev/zero", &M), IR_EIO);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "character device"));
  ck_assert_int_eq(ir_data_read_npy("/dev/zero", &M), IR_EIO);
  ck_assert_int_eq(ir_data_read_idx("/dev/zero", 0, &M), IR_EIO);
  ck_assert_ptr_null(M);
  alarm(0);
}
END_TEST

/* A 300 MB NPY file (sparse) whose header declares one double is refused
 * from the header alone: under a 256 MB address-space limit, reading the
 * file first would fail with ENOMEM instead of naming the mismatch. */
START_TEST(test_npy_header_bounds_size) {
  char dict[128];
  int dl = snprintf(dict, sizeof dict,
                    "{'descr': '<f8', 'fortran_order': False, "
                    "'shape': (1,), }");
  unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  size_t hl = (size_t)dl + 1; /* the dict and its '\n' */
  head[8] = (unsigned char)(hl & 255);
  head[9] = (unsigned char)(hl >> 8);
  FILE *fp = fopen(tpath("big.npy"), "wb");
  ck_assert_ptr_nonnull(fp);
  fwrite(head, 1, 10, fp);
  fwrite(dict, 1, (size_t)dl, fp);
  fputc('\n', fp);
  fclose(fp);
  ck_assert_int_eq(truncate(tpath("big.npy"), 300L << 20), 0);
  limit_address_space(); /* this forked test only */
  gsl_matrix *M = NULL;
  ck_assert_int_eq(ir_data_read_npy(tpath("big.npy"), &M), IR_EFORMAT);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "unexpected bytes"));
  ck_assert_ptr_null(M);
}
END_TEST

/* IDX: the header's dimensions times the item size must equal the data's
 * size: missing bytes and extra bytes are both refused. */
START_TEST(test_idx_size_exact) {
  unsigned char h[12] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3};
  FILE *fp = fopen(tpath("x.idx"), "wb");
  ck_assert_ptr_nonnull(fp);
  fwrite(h, 1, 12, fp);
  for (int i = 0; i < 6 + 5; i++) /* 6 data bytes and 5 extra */
    fputc(i, fp);
  fclose(fp);
  gsl_matrix *M = NULL;
  ck_assert_int_eq(ir_data_read_idx(tpath("x.idx"), 0, &M), IR_EFORMAT);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "unexpected bytes"));
  ck_assert_int_eq(truncate(tpath("x.idx"), 12 + 6), 0);
  IR_ASSERT_OK(ir_data_read_idx(tpath("x.idx"), 0, &M));
  ck_assert_uint_eq(M->size1, 2);
  ck_assert_uint_eq(M->size2, 3);
  gsl_matrix_free(M);
}
END_TEST

/* A gzip IDX file whose header declares more data than deflate could
 * expand its size to is refused before allocating. */
START_TEST(test_idx_gz_bound) {
  /* 16 bytes of IDX header claiming 60000 x 4096 x 4096 bytes, gzipped. */
  char cmd[900];
  snprintf(cmd, sizeof cmd,
           "printf '\\000\\000\\010\\003\\000\\000\\352\\140\\000\\000\\020"
           "\\000\\000\\000\\020\\000' | gzip -c > '%s'",
           tpath("big.idx.gz"));
  if (system(cmd) != 0)
    return; /* no gzip: nothing to test */
  limit_address_space();
  gsl_matrix *M = NULL;
  ck_assert_int_eq(ir_data_read_idx(tpath("big.idx.gz"), 0, &M), IR_EFORMAT);
  ck_assert_ptr_nonnull(strstr(ir_error_message(), "gzip file"));
}
END_TEST

static Suite *io_suite(void) {
  Suite *s = suite_create("io_paths");
  TCase *tc = tcase_create("paths");
  tcase_add_checked_fixture(tc, make_dir, remove_dir);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_regular_and_new);
  tcase_add_test(tc, test_symlink_followed);
  tcase_add_test(tc, test_dangling_symlink_refused);
  tcase_add_test(tc, test_char_device_written_through);
  tcase_add_test(tc, test_fifo);
  tcase_add_test(tc, test_directory_refused);
  tcase_add_test(tc, test_readers_regular_only);
  tcase_add_test(tc, test_npy_header_bounds_size);
  tcase_add_test(tc, test_idx_size_exact);
  tcase_add_test(tc, test_idx_gz_bound);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ir_test_run(io_suite());
}
