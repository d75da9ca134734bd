/* fuzz_csv.c — libFuzzer harness for the CSV reader (ir_data_read_csv). */
#include "fuzz_matrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gsl_matrix *m = NULL;
  int rc = ir_data_read_csv(ir_fuzz_file(data, size), &m);
  ir_fuzz_check_matrix(rc, m);
  return 0;
}
