/* fuzz_idx.c — libFuzzer harness for the IDX reader (ir_data_read_idx), raw
 * and gzip: the whole file, then its first two items only (max_rows), which
 * must agree with the first rows of the whole read. */
#include "fuzz_matrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = ir_fuzz_file(data, size);
  gsl_matrix *all = NULL, *two = NULL;
  int rc = ir_data_read_idx(path, 0, &all);
  int rc2 = ir_data_read_idx(path, 2, &two);
  if (rc == IR_OK && rc2 == IR_OK) {
    IR_FUZZ_REQUIRE(two->size2 == all->size2);
    IR_FUZZ_REQUIRE(two->size1 == (all->size1 < 2 ? all->size1 : 2));
    for (size_t i = 0; i < two->size1; i++)
      for (size_t j = 0; j < two->size2; j++)
        IR_FUZZ_REQUIRE(gsl_matrix_get(two, i, j) == gsl_matrix_get(all, i, j));
  }
  ir_fuzz_check_matrix(rc, all);
  ir_fuzz_check_matrix(rc2, two);
  return 0;
}
