// Fuzz target: CSV ingest bodies (`id,tag` lines; POST /v1/ingest as
// text/csv, --load x.csv), server/ingest_parser.h. Input: the body. Checks:
// ingest_fuzz.h.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/ingest_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return crowd::fuzz::check_ingest(data, size, /*csv=*/true);
}
