/* report_outdir.c — what a run wrote into its output folder, so that a rerun
 * into the same folder removes the previous run's files it did not rewrite
 * and nothing else.
 *
 * The run's files come from the process's record of committed files
 * (atomic.h); the previous run's from the "files" list of the folder's
 * manifest.json, trusted only when implreg wrote it ("implreg_version" at
 * the top level) and only for plain relative names inside the folder.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "implreg/report.h"

#include "atomic.h"
#include "implreg/status.h"
#include "report_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ir_outdir {
  char *dir;
  char *stage; /* staging folder (inside dir) or NULL */
  size_t mark; /* files recorded before this index belong to earlier work */
  char **old;  /* the previous manifest's files (relative names) */
  size_t nold;
};

/* The name of path relative to dir, or NULL when path is not inside it. */
static const char *ir_rel(const char *dir, const char *path) {
  size_t l = strlen(dir);
  while (l > 1 && dir[l - 1] == '/')
    l--;
  if (strncmp(path, dir, l) != 0 || path[l] != '/')
    return NULL;
  const char *r = path + l;
  while (*r == '/')
    r++;
  return *r ? r : NULL;
}

/* A name the cleanup may touch: relative, inside the folder (no "..", no
 * "." component), no empty component, not the manifest itself. */
static int ir_safe_name(const char *s) {
  if (s[0] == '\0' || s[0] == '/' || strcmp(s, "manifest.json") == 0)
    return 0;
  for (const char *p = s; *p;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.'))
      return 0;
    p += n;
    if (*p == '/')
      p++;
  }
  return 1;
}

/* One JSON string at *pp (after the opening quote), unescaped into a new
 * string; NULL on \u escapes (no file implreg writes has one) or no
 * memory.  *pp ends after the closing quote. */
static char *ir_json_str(const char **pp) {
  const char *p = *pp;
  size_t cap = strlen(p) + 1, k = 0;
  char *out = malloc(cap);
  if (out == NULL)
    return NULL;
  while (*p && *p != '"') {
    char c = *p++;
    if (c == '\\') {
      c = *p++;
      switch (c) {
      case '"':
      case '\\':
      case '/': break;
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      default: free(out); return NULL;
      }
    }
    out[k++] = c;
  }
  out[k] = '\0';
  *pp = *p == '"' ? p + 1 : p;
  return out;
}

/* Reads the "files" list of dir/manifest.json when implreg wrote it. */
static void ir_outdir_read_old(ir_outdir *o) {
  char *path = ir_join(o->dir, "manifest", "json");
  FILE *fp = path ? fopen(path, "rb") : NULL;
  free(path);
  if (fp == NULL)
    return;
  char *text = NULL;
  long n = -1;
  if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 &&
      n < (64L << 20) && fseek(fp, 0, SEEK_SET) == 0 &&
      (text = malloc((size_t)n + 1)) != NULL) {
    if (fread(text, 1, (size_t)n, fp) != (size_t)n) {
      free(text);
      text = NULL;
    } else {
      text[n] = '\0';
    }
  }
  fclose(fp);
  if (text == NULL)
    return;
  /* ir_json writes the top-level keys indented by two spaces. */
  const char *files = strstr(text, "\n  \"files\": [");
  if (strstr(text, "\n  \"implreg_version\": ") == NULL || files == NULL) {
    free(text);
    return;
  }
  const char *p = files + strlen("\n  \"files\": [");
  while (*p) {
    while (*p == ' ' || *p == '\n' || *p == ',')
      p++;
    if (*p != '"')
      break; /* "]" or anything unexpected ends the list */
    p++;
    char *name = ir_json_str(&p);
    if (name == NULL)
      continue;
    char **q = realloc(o->old, (o->nold + 1) * sizeof *q);
    if (q == NULL) {
      free(name);
      break;
    }
    o->old = q;
    o->old[o->nold++] = name;
  }
  free(text);
}

ir_outdir *ir_outdir_open(const char *dir) {
  if (dir == NULL) {
    ir_error(IR_EINVAL, "ir_outdir_open: NULL folder");
    return NULL;
  }
  ir_outdir *o = calloc(1, sizeof *o);
  if (o == NULL || (o->dir = ir_strdup0(dir)) == NULL) {
    free(o);
    ir_error(IR_ENOMEM, "ir_outdir_open: no memory");
    return NULL;
  }
  o->mark = ir_atomic_written_count();
  ir_outdir_read_old(o);
  return o;
}

const char *ir_outdir_dir(const ir_outdir *o) {
  return o ? o->dir : "";
}

void ir_outdir_free(ir_outdir *o) {
  if (o == NULL)
    return;
  free(o->stage);
  for (size_t i = 0; i < o->nold; i++)
    free(o->old[i]);
  free(o->old);
  free(o->dir);
  free(o);
}

/* The name, relative to the folder, of a file this run recorded: written
 * into the staging folder (published under the same name) or directly
 * into the folder (cells); NULL when it is neither. */
static const char *ir_run_rel(const ir_outdir *o, const char *path) {
  const char *r = o->stage ? ir_rel(o->stage, path) : NULL;
  if (r != NULL)
    return r;
  r = ir_rel(o->dir, path);
  if (r != NULL && o->stage != NULL) { /* not the staging folder's leftovers */
    const char *sr = ir_rel(o->dir, o->stage);
    size_t l = strlen(sr);
    if (strncmp(r, sr, l) == 0 && (r[l] == '/' || r[l] == '\0'))
      return NULL;
  }
  return r;
}

int ir_outdir_stage(ir_outdir *o, const char *stage) {
  if (o == NULL || stage == NULL || ir_rel(o->dir, stage) == NULL)
    return ir_error(IR_EINVAL, "ir_outdir_stage: %s is not inside %s",
                    stage ? stage : "(null)", o ? o->dir : "(null)");
  char *c = ir_strdup0(stage);
  if (c == NULL)
    return ir_error(IR_ENOMEM, "ir_outdir_stage: no memory");
  free(o->stage);
  o->stage = c;
  return IR_OK;
}

/* Copies the file `from` to `to` through atomic.h's policy (a symlink's
 * target written atomically, a device or FIFO written through). */
static int ir_copy_into(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  if (in == NULL)
    return ir_error(IR_EIO, "cannot read %s: %s", from, strerror(errno));
  ir_atomic_file f;
  int s = ir_atomic_open(&f, to);
  if (s != IR_OK) {
    fclose(in);
    return s;
  }
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, f.fp) != n)
      break;
  const int bad = ferror(in);
  fclose(in);
  if (bad) {
    ir_atomic_abort(&f);
    return ir_error(IR_EIO, "cannot read %s", from);
  }
  s = ir_atomic_commit(&f);
  if (s == IR_OK)
    unlink(from);
  return s;
}

/* Puts the staged file `staged` in place as `dest` by the same rules as
 * every output (atomic.h): a new name or a regular file is replaced by a
 * rename; a symbolic link is followed (its target replaced, the link
 * kept); a character device or FIFO is written through; anything else is
 * refused. */
static int ir_publish_one(const char *staged, const char *dest) {
  ir_atomic_kind kind;
  char *target = NULL;
  int s = ir_atomic_classify(dest, &kind, &target);
  if (s != IR_OK)
    return s;
  if (kind != IR_ATOMIC_THROUGH && strcmp(target, dest) == 0) {
    if (rename(staged, dest) != 0)
      s = ir_error(IR_EIO, "cannot move %s into place as %s: %s", staged,
                   dest, strerror(errno));
  } else if (kind != IR_ATOMIC_THROUGH && rename(staged, target) == 0) {
    s = IR_OK; /* a link's target on the same file system */
  } else {
    s = ir_copy_into(staged, dest);
  }
  free(target);
  return s;
}

int ir_outdir_publish(const ir_outdir *o) {
  if (o == NULL || o->stage == NULL)
    return IR_OK;
  for (size_t i = o->mark; i < ir_atomic_written_count(); i++) {
    const char *path = ir_atomic_written(i);
    const char *r = ir_rel(o->stage, path);
    struct stat st;
    if (r == NULL || !ir_safe_name(r) || lstat(path, &st) != 0)
      continue; /* not staged, or already moved (written twice) */
    char *to = ir_join(o->dir, r, NULL);
    if (to == NULL)
      return ir_error(IR_ENOMEM, "ir_outdir_publish: no memory");
    int s = IR_OK;
    char *slash = strrchr(to, '/');
    if (slash != NULL && strchr(r, '/') != NULL) {
      *slash = '\0';
      s = ir_mkdir_p(to);
      *slash = '/';
    }
    if (s == IR_OK)
      s = ir_publish_one(path, to);
    free(to);
    if (s != IR_OK)
      return s;
  }
  return IR_OK;
}

/* Whether this run wrote rel (inside o->dir) since ir_outdir_open. */
static int ir_outdir_wrote(const ir_outdir *o, const char *rel) {
  for (size_t i = o->mark; i < ir_atomic_written_count(); i++) {
    const char *r = ir_run_rel(o, ir_atomic_written(i));
    if (r != NULL && strcmp(r, rel) == 0)
      return 1;
  }
  return 0;
}

static int ir_cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void ir_outdir_list(const ir_outdir *o, ir_json *j) {
  if (o == NULL || j == NULL)
    return;
  size_t n = ir_atomic_written_count() - o->mark, k = 0;
  const char **v = malloc((n + 1) * sizeof *v);
  ir_json_begin_array(j, "files");
  if (v != NULL) {
    for (size_t i = o->mark; i < ir_atomic_written_count(); i++) {
      const char *r = ir_run_rel(o, ir_atomic_written(i));
      if (r != NULL && ir_safe_name(r))
        v[k++] = r;
    }
    qsort(v, k, sizeof *v, ir_cmp_str);
    for (size_t i = 0; i < k; i++)
      if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
        ir_json_string(j, NULL, v[i]);
  }
  ir_json_end_array(j);
  free(v);
}

int ir_outdir_clean(const ir_outdir *o, size_t *removed) {
  size_t r = 0;
  int s = IR_OK;
  for (size_t i = 0; o != NULL && i < o->nold; i++) {
    const char *name = o->old[i];
    if (!ir_safe_name(name) || ir_outdir_wrote(o, name))
      continue;
    char *path = ir_join(o->dir, name, NULL);
    struct stat st;
    if (path == NULL) {
      s = ir_error(IR_ENOMEM, "ir_outdir_clean: no memory");
      break;
    }
    /* Only regular files: a folder or link a user put there stays. */
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      if (unlink(path) == 0)
        r++;
      else if (errno != ENOENT)
        s = ir_error(IR_EIO, "cannot remove the previous run's %s: %s", path,
                     strerror(errno));
    }
    free(path);
  }
  if (removed != NULL)
    *removed = r;
  return s;
}
