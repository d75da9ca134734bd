/* netio.c — network options, data and θ files (see netio.h). */
#include <config.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "atomic.h"
#include "netio.h"

/* NPY's byte-order mark for this machine's doubles. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define IR_NATIVE_ENDIAN '>'
#else
#define IR_NATIVE_ENDIAN '<'
#endif

/* Where the Debian package puts the files (configure defines it too). */
#define FASHION_DIR IR_FASHION_MNIST_DIR

const char ir_net_help[] =
    "Network and data:\n"
    "  --arch D-H1-...-K  layer widths, e.g. 784-64-10 (required); every "
    "linear\n"
    "                     layer has a bias; theta is laid out as PyTorch's\n"
    "                     nn.Sequential(Linear, act, ..., "
    "Linear).parameters()\n"
    "  --act NAME         relu (default), tanh, softplus, gelu, identity\n"
    "  --loss NAME        mse (torch MSELoss: mean over all elements, the\n"
    "                     default), half-mse (1/2 mean over samples of the "
    "sum\n"
    "                     over outputs), ce (torch CrossEntropyLoss)\n"
    "  --X FILE --Y FILE  training data: .npy, .csv or IDX (raw or gzipped,\n"
    "                     detected by content).  For ce, Y holds integer "
    "class\n"
    "                     labels, shape (n,), or one-hot rows\n"
    "  --data NAME        fashion-mnist: the first --n training images of the\n"
    "                     Debian package dataset-fashion-mnist (pixels / "
    "255);\n"
    "                     teacher: docs/theory.md 7's synthetic set, x ~ N(0, "
    "I_d),\n"
    "                     y = sin(2x1)cos(x2) + 0.5x3x4 (d >= 4, K = 1),\n"
    "                     drawn from --seed: give train and hessian the same\n"
    "                     --seed to measure on the training data\n"
    "  --n N              use the first N samples (fashion-mnist default "
    "1000,\n"
    "                     teacher default 64)\n"
    "  --x-scale S        multiply the inputs by S (default 1/255 for IDX "
    "image\n"
    "                     files, 1 otherwise)\n";

const char ir_net_test_help[] =
    "  --X-test FILE --Y-test FILE\n"
    "                     held-out data for the test loss and accuracy (read\n"
    "                     like --X/--Y; default: the named data set's test\n"
    "                     split, none for files)\n";

void ir_net_opts_init(ir_net_opts *o) {
  memset(o, 0, sizeof *o);
  o->arch.act = IR_ACT_RELU;
  o->arch.loss = IR_LOSS_MSE;
  o->xscale = -1;
  o->test_data = "";
}

int ir_net_option(const char *prog, ir_net_opts *o, int code, const char *arg,
                  ir_cli_config *cfg) {
  switch (code) {
  case IR_NET_OPT_ARCH:
    o->arch_spec = arg;
    ir_cli_config_set(cfg, "arch", "%s", arg);
    return 0;
  case IR_NET_OPT_ACT:
    if (ir_act_parse(arg, &o->arch.act) != IR_OK)
      return ir_cli_fail(prog, IR_EINVAL, NULL);
    ir_cli_config_set(cfg, "act", "%s", arg);
    return 0;
  case IR_NET_OPT_LOSS:
    if (ir_loss_parse(arg, &o->arch.loss) != IR_OK)
      return ir_cli_fail(prog, IR_EINVAL, NULL);
    ir_cli_config_set(cfg, "loss", "%s", arg);
    return 0;
  case IR_NET_OPT_X:
    o->xpath = arg;
    ir_cli_config_set(cfg, "X", "%s", arg);
    return 0;
  case IR_NET_OPT_Y:
    o->ypath = arg;
    ir_cli_config_set(cfg, "Y", "%s", arg);
    return 0;
  case IR_NET_OPT_DATA:
    if (strcmp(arg, "fashion-mnist") != 0 && strcmp(arg, "teacher") != 0)
      return ir_cli_usage_error(prog,
                                "--data '%s': use fashion-mnist or teacher "
                                "(or --X FILE --Y FILE)",
                                arg);
    o->data = arg;
    ir_cli_config_set(cfg, "data", "%s", arg);
    return 0;
  case IR_NET_OPT_N:
    if (ir_cli_size(prog, "n", arg, 1, 100000000, &o->n))
      return IR_EXIT_USAGE;
    ir_cli_config_set(cfg, "n", "%zu", o->n);
    return 0;
  case IR_NET_OPT_XTEST:
    o->xtest = arg;
    ir_cli_config_set(cfg, "X-test", "%s", arg);
    return 0;
  case IR_NET_OPT_YTEST:
    o->ytest = arg;
    ir_cli_config_set(cfg, "Y-test", "%s", arg);
    return 0;
  case IR_NET_OPT_XSCALE:
    if (ir_cli_double(prog, "x-scale", arg, 0, 1e300, &o->xscale))
      return IR_EXIT_USAGE;
    ir_cli_config_set(cfg, "x-scale", "%s", arg);
    return 0;
  default: return 1;
  }
}

int ir_net_validate(const char *prog, ir_net_opts *o) {
  if (o->arch_spec == NULL)
    return ir_cli_usage_error(prog,
                              "--arch is required (e.g. --arch 784-64-10)");
  if (ir_mlp_arch_parse(o->arch_spec, &o->arch) != IR_OK)
    return ir_cli_fail(prog, IR_EINVAL, NULL);
  int files = o->xpath != NULL || o->ypath != NULL;
  if (files && o->data)
    return ir_cli_usage_error(prog, "give either --data or --X/--Y, not both");
  if (files && (o->xpath == NULL || o->ypath == NULL))
    return ir_cli_usage_error(prog, "--X and --Y go together");
  if ((o->xtest == NULL) != (o->ytest == NULL))
    return ir_cli_usage_error(prog, "--X-test and --Y-test go together");
  if (!files && o->data == NULL)
    return ir_cli_usage_error(prog, "no data: give --X FILE --Y FILE or --data "
                                    "fashion-mnist|teacher");
  const size_t d = o->arch.width[0], K = o->arch.width[o->arch.nlayers];
  if (o->data && strcmp(o->data, "fashion-mnist") == 0 && (d != 784 || K != 10))
    return ir_cli_usage_error(prog,
                              "--data fashion-mnist has 784 inputs and 10 "
                              "classes; --arch %s has %zu and %zu",
                              o->arch_spec, d, K);
  if (o->data && strcmp(o->data, "teacher") == 0 && (d < 4 || K != 1))
    return ir_cli_usage_error(prog,
                              "--data teacher needs at least 4 inputs and 1 "
                              "output; --arch %s has %zu and %zu",
                              o->arch_spec, d, K);
  if (o->arch.loss == IR_LOSS_CE && K < 2)
    return ir_cli_usage_error(prog,
                              "--loss ce needs at least 2 outputs (--arch %s "
                              "has %zu)",
                              o->arch_spec, K);
  if (o->data)
    o->test_data = o->data;
  /* The data and one layer's activations per row: refused up front when
   * --n rows cannot fit. */
  size_t per_row = 0;
  for (size_t l = 0; l <= o->arch.nlayers; l++)
    per_row += o->arch.width[l];
  if (o->n > 0 &&
      ir_cli_check_memory(prog, "--n rows of data and activations",
                          ir_cli_bytes(o->n, per_row, sizeof(double))))
    return IR_EXIT_USAGE;
  return 0;
}

int ir_net_finish(const char *prog, int argc, char **argv,
                  const ir_cli_common *c, ir_net_opts *o) {
  if (optind < argc)
    return ir_cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
  if (c->seeds > 1)
    return ir_cli_usage_error(prog,
                              "--seeds %zu: this analysis runs one seed at a "
                              "time (give --seed N and repeat the command)",
                              c->seeds);
  return ir_net_validate(prog, o);
}

/* IDX files start with 0x00 0x00 0x08 (unsigned bytes) and gzip with
 * 0x1f 0x8b; anything else that is not .npy is read as CSV. */
static int is_idx(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL)
    return 0;
  unsigned char b[3] = {0, 0, 0};
  size_t got = fread(b, 1, 3, fp);
  fclose(fp);
  return got >= 2 && ((b[0] == 0x1f && b[1] == 0x8b) ||
                      (got == 3 && b[0] == 0 && b[1] == 0 && b[2] == 0x08));
}

/* Formats implreg does not read but users have at hand: a NumPy .npz
 * archive, a PyTorch file (torch.save: a zip holding data.pkl, or a legacy
 * pickle) or a plain pickle.  Recognized by content (and the extension for
 * the zip kinds), so that they get one line saying how to export .npy
 * instead of a CSV parse error.  Returns 0 when the file is none of them,
 * else IR_EXIT_USAGE after that line. */
static int foreign_format(const char *prog, const char *what,
                          const char *path) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL)
    return 0; /* the reader reports a missing file */
  unsigned char b[128];
  memset(b, 0, sizeof b);
  size_t got = fread(b, 1, sizeof b - 1, fp);
  fclose(fp);
  const size_t len = strlen(path);
  const int ext_pt =
      (len > 3 && strcmp(path + len - 3, ".pt") == 0) ||
      (len > 4 && (strcmp(path + len - 4, ".pth") == 0 ||
                   strcmp(path + len - 4, ".bin") == 0));
  const int zip = got >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 &&
                  b[3] == 4;
  /* torch.save's zip names its first entry ".../data.pkl" (the local
   * header's file name starts at byte 30). */
  int torch_zip = 0;
  for (size_t i = 30; zip && i + 8 <= got; i++)
    torch_zip |= memcmp(b + i, "data.pkl", 8) == 0;
  const int pickle = got >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5;
  if (zip && !ext_pt && !torch_zip) {
    ir_cli_eprintf(
        "%s: %s %s is a zip archive (NumPy .npz?), not a .npy array: "
        "save the one array with np.save('x.npy', np.load('%s')['NAME'])"
        "",
        prog, what, path, path);
    return IR_EXIT_USAGE;
  }
  if (zip || (pickle && ext_pt)) {
    ir_cli_eprintf(
        "%s: %s %s is a PyTorch file (torch.save): export .npy with "
        "np.save('x.npy', t.detach().double().numpy()) for a tensor t, or "
        "for a model's weights np.save('theta.npy', torch.cat([p.detach()"
        ".flatten() for p in model.parameters()]).double().numpy())",
        prog, what, path);
    return IR_EXIT_USAGE;
  }
  if (pickle) {
    ir_cli_eprintf("%s: %s %s is a Python pickle, which implreg does not read: "
                   "export the array with np.save('x.npy', np.asarray(obj, "
                   "dtype=np.float64))",
                   prog, what, path);
    return IR_EXIT_USAGE;
  }
  return 0;
}

static int read_any(const char *prog, const char *what, const char *path,
                    size_t max_rows, gsl_matrix **M, int *idx) {
  if (foreign_format(prog, what, path))
    return IR_EXIT_USAGE;
  *idx = is_idx(path);
  int s =
      *idx ? ir_data_read_idx(path, max_rows, M) : ir_data_read_matrix(path, M);
  if (s != IR_OK) {
    ir_cli_eprintf("%s: %s %s: %s", prog, what, path, ir_error_message());
    return IR_EXIT_USAGE;
  }
  return 0;
}

/* Replaces a column of integer labels 0..K−1 by one-hot rows. */
static int one_hot(const char *prog, const char *where, size_t K,
                   gsl_matrix **Y) {
  const size_t n = (*Y)->size1;
  gsl_matrix *oh = gsl_matrix_calloc(n, K);
  if (oh == NULL)
    return ir_cli_fail(prog, IR_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    double v = gsl_matrix_get(*Y, i, 0);
    if (!(v >= 0 && v < (double)K && v == floor(v))) {
      gsl_matrix_free(oh);
      ir_cli_eprintf("%s: %s: row %zu holds %g, not a class label in 0..%zu "
                     "(cross-entropy takes integer labels or one-hot rows)",
                     prog, where, i + 1, v, K - 1);
      return IR_EXIT_USAGE;
    }
    gsl_matrix_set(oh, i, (size_t)v, 1.0);
  }
  gsl_matrix_free(*Y);
  *Y = oh;
  return 0;
}

/* Y for the architecture: one-hot rows from labels for CE, else as given. */
static int shape_targets(const char *prog, const char *where,
                         const ir_mlp_arch *a, gsl_matrix **Y) {
  const size_t K = a->width[a->nlayers];
  if ((*Y)->size2 == K && !(K == 1 && a->loss == IR_LOSS_CE))
    return 0;
  if (a->loss == IR_LOSS_CE && (*Y)->size2 == 1)
    return one_hot(prog, where, K, Y);
  ir_cli_eprintf("%s: %s has %zu columns; --arch has %zu outputs%s", prog,
                 where, (*Y)->size2, K,
                 a->loss == IR_LOSS_CE
                     ? " (give integer labels, shape (n,), or "
                       "one-hot rows)"
                     : " (squared losses need one target per "
                       "output)");
  return IR_EXIT_USAGE;
}

/* Keeps the first n rows of *M (n <= rows). */
static int first_rows(gsl_matrix **M, size_t n) {
  if (n == 0 || n >= (*M)->size1)
    return IR_OK;
  gsl_matrix *s = gsl_matrix_alloc(n, (*M)->size2);
  if (s == NULL)
    return ir_error(IR_ENOMEM, "out of memory");
  gsl_matrix_const_view v =
      gsl_matrix_const_submatrix(*M, 0, 0, n, (*M)->size2);
  gsl_matrix_memcpy(s, &v.matrix);
  gsl_matrix_free(*M);
  *M = s;
  return IR_OK;
}

static int load_files(const char *prog, const ir_net_opts *o, gsl_matrix **X,
                      gsl_matrix **Y) {
  int idx, idy, rc;
  if ((rc = read_any(prog, "--X", o->xpath, o->n, X, &idx)) != 0)
    return rc;
  if ((rc = read_any(prog, "--Y", o->ypath, o->n, Y, &idy)) != 0)
    return rc;
  if ((*X)->size1 != (*Y)->size1 && o->n == 0) {
    ir_cli_eprintf(
        "%s: %s has %zu rows but %s has %zu: X and Y need one row per "
        "sample",
        prog, o->xpath, (*X)->size1, o->ypath, (*Y)->size1);
    return IR_EXIT_USAGE;
  }
  if (first_rows(X, o->n) != IR_OK || first_rows(Y, o->n) != IR_OK)
    return ir_cli_fail(prog, IR_ENOMEM, NULL);
  if ((*X)->size1 != (*Y)->size1) {
    ir_cli_eprintf("%s: %s has %zu rows but %s has %zu", prog, o->xpath,
                   (*X)->size1, o->ypath, (*Y)->size1);
    return IR_EXIT_USAGE;
  }
  double scale = o->xscale >= 0 ? o->xscale : idx ? 1.0 / 255.0 : 1.0;
  if (scale != 1.0)
    gsl_matrix_scale(*X, scale);
  return shape_targets(prog, o->ypath, &o->arch, Y);
}

static int load_fashion(const char *prog, int split, size_t n, gsl_matrix **X,
                        gsl_matrix **Y) {
  static const char *const files[2][2] = {
      {FASHION_DIR "/train-images-idx3-ubyte.gz",
       FASHION_DIR "/train-labels-idx1-ubyte.gz"},
      {FASHION_DIR "/t10k-images-idx3-ubyte.gz",
       FASHION_DIR "/t10k-labels-idx1-ubyte.gz"}};
  if (!ir_data_fashion_mnist_available(NULL)) {
    ir_cli_eprintf("%s: Fashion-MNIST not found in " FASHION_DIR
                   " (install the Debian package dataset-fashion-mnist)",
                   prog);
    return IR_EXIT_USAGE;
  }
  int s = ir_data_read_idx(files[split][0], n, X);
  if (s == IR_OK)
    s = ir_data_read_idx(files[split][1], n, Y);
  if (s != IR_OK)
    return ir_cli_fail(prog, s, NULL);
  if ((*X)->size1 < n) {
    ir_cli_eprintf("%s: --n %zu: the Fashion-MNIST %s split has %zu images",
                   prog, n, split ? "test" : "training", (*X)->size1);
    return IR_EXIT_USAGE;
  }
  gsl_matrix_scale(*X, 1.0 / 255.0);
  return 0;
}

/* docs/theory.md §7: x ~ N(0, I_d), y = sin(2x₁)cos(x₂) + 0.5x₃x₄. */
static int load_teacher(const char *prog, size_t d, size_t n,
                        unsigned long seed, uint64_t stream, gsl_matrix **X,
                        gsl_matrix **Y) {
  *X = gsl_matrix_alloc(n, d);
  *Y = gsl_matrix_alloc(n, 1);
  gsl_rng *r = ir_rng_alloc(seed, stream);
  if (*X == NULL || *Y == NULL || r == NULL) {
    ir_rng_free(r);
    return ir_cli_fail(prog, IR_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    double *x = (*X)->data + i * (*X)->tda;
    for (size_t j = 0; j < d; j++)
      x[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
    gsl_matrix_set(*Y, i, 0, sin(2 * x[0]) * cos(x[1]) + 0.5 * x[2] * x[3]);
  }
  ir_rng_free(r);
  return 0;
}

int ir_net_load(const char *prog, const ir_net_opts *o, unsigned long seed,
                gsl_matrix **X, gsl_matrix **Y, char *desc, size_t desclen) {
  *X = *Y = NULL;
  int rc;
  const ir_mlp_arch *a = &o->arch;
  if (o->data == NULL) {
    rc = load_files(prog, o, X, Y);
    if (rc == 0 && desc)
      snprintf(desc, desclen, "%s, %s (%zu samples)", o->xpath, o->ypath,
               (*X)->size1);
  } else if (strcmp(o->data, "fashion-mnist") == 0) {
    size_t n = o->n ? o->n : 1000;
    rc = load_fashion(prog, 0, n, X, Y);
    if (rc == 0)
      rc = one_hot(prog, "Fashion-MNIST labels", 10, Y);
    if (rc == 0 && desc)
      snprintf(desc, desclen,
               "Fashion-MNIST, first %zu training images (pixels / 255, "
               "one-hot targets)",
               n);
  } else {
    size_t n = o->n ? o->n : 64;
    rc = load_teacher(prog, a->width[0], n, seed,
                      ir_rng_stream(IR_STREAM_DATA, 7, 0), X, Y);
    if (rc == 0 && desc)
      snprintf(desc, desclen,
               "teacher y = sin(2x1)cos(x2) + 0.5x3x4, x ~ N(0, I_%zu), %zu "
               "samples",
               a->width[0], n);
  }
  if (rc != 0)
    return rc;
  if ((*X)->size2 != a->width[0]) {
    ir_cli_eprintf(
        "%s: the inputs have %zu columns but --arch %s takes %zu inputs", prog,
        (*X)->size2, o->arch_spec, a->width[0]);
    return IR_EXIT_USAGE;
  }
  return 0;
}

int ir_net_load_test(const char *prog, const ir_net_opts *o, unsigned long seed,
                     size_t ntest, gsl_matrix **X, gsl_matrix **Y) {
  *X = *Y = NULL;
  int rc;
  if (o->xtest != NULL) {
    int idx, idy;
    if ((rc = read_any(prog, "--X-test", o->xtest, 0, X, &idx)) != 0 ||
        (rc = read_any(prog, "--Y-test", o->ytest, 0, Y, &idy)) != 0)
      return rc;
    if ((*X)->size1 != (*Y)->size1) {
      ir_cli_eprintf("%s: %s has %zu rows but %s has %zu", prog, o->xtest,
                     (*X)->size1, o->ytest, (*Y)->size1);
      return IR_EXIT_USAGE;
    }
    if ((*X)->size2 != o->arch.width[0]) {
      ir_cli_eprintf("%s: --X-test %s has %zu columns but --arch %s takes %zu "
                     "inputs",
                     prog, o->xtest, (*X)->size2, o->arch_spec,
                     o->arch.width[0]);
      return IR_EXIT_USAGE;
    }
    double scale = o->xscale >= 0 ? o->xscale : idx ? 1.0 / 255.0 : 1.0;
    if (scale != 1.0)
      gsl_matrix_scale(*X, scale);
    return shape_targets(prog, o->ytest, &o->arch, Y);
  }
  if (o->data == NULL || ntest == 0)
    return 0;
  if (strcmp(o->data, "fashion-mnist") == 0) {
    rc = load_fashion(prog, 1, ntest, X, Y);
    if (rc == 0)
      rc = one_hot(prog, "Fashion-MNIST labels", 10, Y);
    return rc;
  }
  return load_teacher(prog, o->arch.width[0], ntest, seed,
                      ir_rng_stream(IR_STREAM_TEST, 7, 0), X, Y);
}

int ir_net_load_params(const char *prog, const char *opt, const char *path,
                       const ir_mlp_arch *a, gsl_vector **theta) {
  gsl_matrix *M = NULL;
  char what[64];
  snprintf(what, sizeof what, "--%s", opt);
  if (foreign_format(prog, what, path))
    return IR_EXIT_USAGE;
  int s = ir_data_read_matrix(path, &M);
  if (s != IR_OK) {
    ir_cli_eprintf("%s: --%s %s: %s", prog, opt, path, ir_error_message());
    return IR_EXIT_USAGE;
  }
  const size_t p = ir_mlp_nparams(a), got = M->size1 * M->size2;
  if (got != p) {
    char buf[512];
    size_t len = 0;
    for (size_t l = 0; l < a->nlayers && len < sizeof buf - 64; l++)
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%zu*%zu+%zu",
                              l ? " + " : "", a->width[l + 1], a->width[l],
                              a->width[l + 1]);
    ir_cli_eprintf("%s: --%s %s holds %zu values, but this architecture has "
                   "%zu parameters (%s, weights then bias per layer)",
                   prog, opt, path, got, p, buf);
    gsl_matrix_free(M);
    return IR_EXIT_USAGE;
  }
  *theta = gsl_vector_alloc(p);
  if (*theta == NULL) {
    gsl_matrix_free(M);
    return ir_cli_fail(prog, IR_ENOMEM, "out of memory");
  }
  /* Row-major order of whatever shape was stored: a (p,), (p, 1) or (1, p)
   * array all give θ in file order. */
  for (size_t i = 0; i < M->size1; i++)
    for (size_t j = 0; j < M->size2; j++)
      (*theta)->data[i * M->size2 + j] = gsl_matrix_get(M, i, j);
  gsl_matrix_free(M);
  return 0;
}

int ir_net_save_params(const char *prog, const char *path,
                       const gsl_vector *theta) {
  /* A 1-D float64 array, as torch.cat(...).numpy() gives: NPY 1.0 header
   * padded so that the data start on a 64-byte boundary. */
  char hdr[128];
  int len = snprintf(hdr, sizeof hdr,
                     "{'descr': '%cf8', 'fortran_order': False, 'shape': "
                     "(%zu,), }",
                     IR_NATIVE_ENDIAN, theta->size);
  size_t total = 10 + (size_t)len + 1;
  size_t pad = (64 - total % 64) % 64;
  ir_atomic_file f;
  int s = ir_atomic_open(&f, path);
  if (s != IR_OK)
    return ir_cli_fail(prog, s, NULL);
  unsigned short hl = (unsigned short)(len + pad + 1);
  unsigned char pre[10] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           1,
                           0,
                           (unsigned char)(hl & 0xff),
                           (unsigned char)(hl >> 8)};
  fwrite(pre, 1, 10, f.fp);
  fwrite(hdr, 1, (size_t)len, f.fp);
  for (size_t i = 0; i < pad; i++)
    fputc(' ', f.fp);
  fputc('\n', f.fp);
  for (size_t i = 0; i < theta->size; i++) {
    double v = gsl_vector_get(theta, i);
    unsigned char b[8];
    memcpy(b, &v, 8); /* native order, as the header says */
    fwrite(b, 1, 8, f.fp);
  }
  s = ir_atomic_commit(&f);
  return s == IR_OK ? 0 : ir_cli_fail(prog, s, NULL);
}
