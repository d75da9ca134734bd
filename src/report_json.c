/* report_json.c — the streaming JSON builder behind manifests, table and
 * checks documents.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "implreg/report.h"

#include "atomic.h"
#include "implreg/status.h"
#include "report_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON builder -------------------------------------------------------- */

typedef struct {
  char kind; /* 'o' object, 'a' array */
  size_t count;
} ir_jframe;

struct ir_json {
  char *buf;
  size_t len, cap;
  ir_jframe *st;
  size_t depth, cst;
  size_t ntop; /* values written at top level */
  int oom;
  int bad;
  char err[256]; /* the first misuse */
};

ir_json *ir_json_alloc(void) {
  ir_json *j = calloc(1, sizeof *j);
  if (j == NULL) {
    ir_error(IR_ENOMEM, "ir_json_alloc: no memory");
    return NULL;
  }
  j->cap = 256;
  j->buf = malloc(j->cap);
  if (j->buf == NULL) {
    free(j);
    ir_error(IR_ENOMEM, "ir_json_alloc: no memory");
    return NULL;
  }
  j->buf[0] = '\0';
  return j;
}

void ir_json_free(ir_json *j) {
  if (j == NULL)
    return;
  free(j->buf);
  free(j->st);
  free(j);
}

static void ir_json_fail(ir_json *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ir_json_fail(ir_json *j, const char *fmt, ...) {
  if (!j->bad) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof j->err, fmt, ap);
    va_end(ap);
  }
  j->bad = 1;
}

static void ir_json_put(ir_json *j, const char *s, size_t n) {
  if (j->oom)
    return;
  char *b = ir_grow(j->buf, &j->cap, j->len + n + 1, 1);
  if (b == NULL) {
    j->oom = 1;
    return;
  }
  j->buf = b;
  memcpy(b + j->len, s, n);
  j->len += n;
  b[j->len] = '\0';
}

static void ir_json_puts(ir_json *j, const char *s) {
  ir_json_put(j, s, strlen(s));
}

/* A JSON string literal: quotes, backslashes and control characters escaped
 * (RFC 8259 section 7); other bytes, UTF-8 included, pass through. */
static void ir_json_putstr(ir_json *j, const char *s) {
  ir_json_put(j, "\"", 1);
  const char *run = s;
  for (const char *p = s;; p++) {
    unsigned char c = (unsigned char)*p;
    if (c != '\0' && c != '"' && c != '\\' && c >= 0x20)
      continue;
    ir_json_put(j, run, (size_t)(p - run));
    run = p + 1;
    if (c == '\0')
      break;
    char e[8];
    switch (c) {
    case '"': ir_json_puts(j, "\\\""); break;
    case '\\': ir_json_puts(j, "\\\\"); break;
    case '\n': ir_json_puts(j, "\\n"); break;
    case '\t': ir_json_puts(j, "\\t"); break;
    case '\r': ir_json_puts(j, "\\r"); break;
    case '\b': ir_json_puts(j, "\\b"); break;
    case '\f': ir_json_puts(j, "\\f"); break;
    default: snprintf(e, sizeof e, "\\u%04x", c); ir_json_puts(j, e);
    }
  }
  ir_json_put(j, "\"", 1);
}

static void ir_json_indent(ir_json *j, size_t depth) {
  static const char spaces[] = "                ";
  size_t n = 2 * depth;
  while (n > 0) {
    size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
    ir_json_put(j, spaces, k);
    n -= k;
  }
}

/* Writes what precedes a value: the comma, newline and indentation, and the
 * key inside an object.  A misplaced or missing key is recorded; the value
 * is still written so that the nesting stays balanced. */
static void ir_json_prefix(ir_json *j, const char *key) {
  if (j->depth == 0) {
    if (key != NULL)
      ir_json_fail(j, "key \"%s\" given for a top-level value", key);
    if (j->ntop++ > 0) {
      ir_json_fail(j, "more than one top-level value");
      ir_json_put(j, "\n", 1);
    }
    return;
  }
  ir_jframe *f = &j->st[j->depth - 1];
  if (f->kind == 'o' && key == NULL)
    ir_json_fail(j, "value without a key inside an object (depth %zu)",
                 j->depth);
  if (f->kind == 'a' && key != NULL)
    ir_json_fail(j, "key \"%s\" given inside an array (depth %zu)", key,
                 j->depth);
  if (f->count++ > 0)
    ir_json_put(j, ",", 1);
  ir_json_put(j, "\n", 1);
  ir_json_indent(j, j->depth);
  if (key != NULL && f->kind == 'o') {
    ir_json_putstr(j, key);
    ir_json_put(j, ": ", 2);
  }
}

static void ir_json_begin(ir_json *j, const char *key, char kind) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  ir_jframe *st = ir_grow(j->st, &j->cst, j->depth + 1, sizeof *st);
  if (st == NULL) {
    j->oom = 1;
    return;
  }
  j->st = st;
  st[j->depth].kind = kind;
  st[j->depth].count = 0;
  j->depth++;
  ir_json_put(j, kind == 'o' ? "{" : "[", 1);
}

static void ir_json_end(ir_json *j, char kind) {
  if (j == NULL)
    return;
  const char *what = kind == 'o' ? "object" : "array";
  if (j->depth == 0) {
    ir_json_fail(j, "end of %s without a matching begin", what);
    return;
  }
  ir_jframe *f = &j->st[j->depth - 1];
  if (f->kind != kind)
    ir_json_fail(j, "end of %s closes an %s (depth %zu)", what,
                 f->kind == 'o' ? "object" : "array", j->depth);
  j->depth--;
  if (f->count > 0) {
    ir_json_put(j, "\n", 1);
    ir_json_indent(j, j->depth);
  }
  /* Close what is actually open, so the text stays balanced. */
  ir_json_put(j, f->kind == 'o' ? "}" : "]", 1);
}

void ir_json_begin_object(ir_json *j, const char *key) {
  ir_json_begin(j, key, 'o');
}
void ir_json_end_object(ir_json *j) {
  ir_json_end(j, 'o');
}
void ir_json_begin_array(ir_json *j, const char *key) {
  ir_json_begin(j, key, 'a');
}
void ir_json_end_array(ir_json *j) {
  ir_json_end(j, 'a');
}

/* A NULL string is written as null. */
void ir_json_string(ir_json *j, const char *key, const char *value) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  if (value == NULL)
    ir_json_puts(j, "null");
  else
    ir_json_putstr(j, value);
}

void ir_json_number(ir_json *j, const char *key, double value) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  char b[IR_NUMBUF];
  if (isfinite(value)) {
    snprintf(b, sizeof b, "%.17g", value);
    ir_json_puts(j, b);
  } else {
    ir_json_puts(j, "null");
  }
}

void ir_json_int(ir_json *j, const char *key, long value) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  char b[IR_NUMBUF];
  snprintf(b, sizeof b, "%ld", value);
  ir_json_puts(j, b);
}

void ir_json_bool(ir_json *j, const char *key, int value) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  ir_json_puts(j, value ? "true" : "false");
}

void ir_json_null(ir_json *j, const char *key) {
  if (j == NULL)
    return;
  ir_json_prefix(j, key);
  ir_json_puts(j, "null");
}

const char *ir_json_text(const ir_json *j) {
  return j != NULL && j->buf != NULL ? j->buf : "";
}

int ir_json_write(const ir_json *j, const char *path) {
  if (j == NULL || path == NULL)
    return ir_error(IR_EINVAL, "ir_json_write: NULL argument");
  if (j->oom)
    return ir_error(IR_ENOMEM,
                    "cannot write %s: ran out of memory building "
                    "the JSON document",
                    path);
  if (j->bad)
    return ir_error(IR_EINVAL, "cannot write %s: JSON builder misuse: %s", path,
                    j->err);
  if (j->depth > 0)
    return ir_error(IR_EINVAL,
                    "cannot write %s: JSON document incomplete "
                    "(%zu unclosed object/array)",
                    path, j->depth);
  if (j->ntop == 0)
    return ir_error(IR_EINVAL, "cannot write %s: empty JSON document", path);
  ir_atomic_file f;
  int s = ir_atomic_open(&f, path);
  if (s != IR_OK)
    return s;
  fwrite(j->buf, 1, j->len, f.fp);
  fputc('\n', f.fp);
  return ir_atomic_commit(&f);
}
