/* fuzz_config.c — libFuzzer harness for the --config reader (key = value
 * lines or a manifest.json) and the manifest reader of analyses/cli.c,
 * through their public functions ir_cli_expand_config and
 * ir_cli_read_manifest.  Both print one line on bad input (run the fuzzer
 * with -close_fd_mask=2 to keep the log short). */
#include "fuzz_util.h"

#include "cli.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = ir_fuzz_file(data, size);
  char p[64];
  snprintf(p, sizeof p, "%s", path);
  char *argv[] = {"implreg", "--config", p, "--quick", NULL};
  int argc_out = 0;
  char **argv_out = NULL;
  int rc = ir_cli_expand_config("implreg", 4, argv, &argc_out, &argv_out);
  if (rc == 0) {
    /* The program name first, the command line last, NULL-terminated. */
    IR_FUZZ_REQUIRE(argc_out >= 2 && argv_out[argc_out] == NULL);
    IR_FUZZ_REQUIRE(strcmp(argv_out[0], "implreg") == 0);
    IR_FUZZ_REQUIRE(strcmp(argv_out[argc_out - 1], "--quick") == 0);
    for (int i = 0; i < argc_out; i++)
      IR_FUZZ_REQUIRE(argv_out[i] != NULL);
    ir_cli_argv_free(argc_out, argv_out);
  } else {
    IR_FUZZ_REQUIRE(rc == IR_EXIT_USAGE || rc == IR_EXIT_INTERNAL);
  }
  char analysis[64];
  argc_out = 0;
  argv_out = NULL;
  rc = ir_cli_read_manifest("implreg", path, analysis, sizeof analysis,
                            &argc_out, &argv_out);
  IR_FUZZ_REQUIRE(memchr(analysis, '\0', sizeof analysis) != NULL);
  if (rc == 0) {
    for (int i = 0; i < argc_out; i++)
      IR_FUZZ_REQUIRE(argv_out[i] != NULL);
    ir_cli_argv_free(argc_out, argv_out);
  }
  return 0;
}
