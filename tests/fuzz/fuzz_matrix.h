/* fuzz_matrix.h — the contract every matrix reader keeps, checked by the
 * CSV, NPY and IDX harnesses: success gives a non-empty matrix of finite
 * values; failure gives a status in the IR_* range and a message. */
#ifndef IR_FUZZ_MATRIX_H
#define IR_FUZZ_MATRIX_H

#include "fuzz_util.h"

#include <implreg/data.h>
#include <implreg/status.h>

#include <gsl/gsl_matrix.h>
#include <math.h>

static inline void ir_fuzz_check_matrix(int rc, gsl_matrix *m) {
  if (rc == IR_OK) {
    IR_FUZZ_REQUIRE(m != NULL);
    IR_FUZZ_REQUIRE(m->size1 > 0 && m->size2 > 0);
    for (size_t i = 0; i < m->size1; i++)
      for (size_t j = 0; j < m->size2; j++)
        IR_FUZZ_REQUIRE(isfinite(gsl_matrix_get(m, i, j)));
    gsl_matrix_free(m);
  } else {
    IR_FUZZ_REQUIRE(rc > IR_OK && rc <= IR_EINTERNAL);
    IR_FUZZ_REQUIRE(rc != IR_EINTERNAL);
    /* The inputs are a few KB: running out of memory on one means the
     * reader trusted a size from the header (tests/fuzz_regress.sh replays
     * under a 4 GB address-space limit, so such an allocation fails). */
    IR_FUZZ_REQUIRE(rc != IR_ENOMEM);
    IR_FUZZ_REQUIRE(ir_error_message()[0] != '\0');
    gsl_matrix_free(m); /* whatever a failing reader left (NULL: no-op) */
  }
}

#endif
